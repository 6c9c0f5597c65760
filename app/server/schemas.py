"""The wire format: pydantic models with the exact snake_case shapes of SPEC §7 (web dashboards depend
on them), and the conversions from the app's own types. Times are ISO 8601 in UTC (``...Z``); amounts
are rounded to their currency's digits and prices to their symbol's (:class:`Digits`), so no float
noise (``1585.1100000000001``) reaches a dashboard."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.audit import AuditEntry, VerifyReport
from app.core.money import DEFAULT_DIGITS, currency_digits, rounded
from app.logs import LogEntry
from app.models import (
    AccountInfo,
    AccountSnapshot,
    BarSeries,
    Book,
    BookSide,
    Deal,
    ManagedAccount,
    Order,
    Position,
    Quote,
    SymbolSpec,
    TerminalState,
)
from app.models.market import msc_to_datetime

MAX_SYMBOL_LENGTH = 32
SYMBOL_PATTERN = r"^[A-Za-z0-9._#&+-]+$"
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
SERVER_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
MAX_NOTE_LENGTH = 500


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Digits:
    """How an answer is rounded: prices to the symbol's digits (None: unknown, as they are), amounts to
    the account currency's."""

    price: int | None = None
    money: int = DEFAULT_DIGITS

    def p(self, value: float) -> float:
        return value if self.price is None else rounded(value, self.price)

    def m(self, value: float) -> float:
        return rounded(value, self.money)


AS_IS = Digits()


def finite(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if math.isfinite(value) else None


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    """Every request body: strict (a boolean, a numeric string or a float where an int is due is a 422
    naming the field), no unknown fields, no NaN or infinity, and text exactly as sent — a password
    with spaces at its edges is that password (``tests/server/test_strict_routes.py`` holds every
    route's body model to this)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------- errors and auth


class ErrorBody(_Out):
    error: str
    details: dict[str, Any] | None = None
    code: str | None = None


class LoginRequest(_In):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(_Out):
    username: str
    role: str


class LoginResponse(_Out):
    token: str
    expires_in: int
    user: UserOut


# ----------------------------------------------------------------------------- health and the live account


class Health(_Out):
    status: Literal["ok", "degraded"]
    mt5_connected: bool
    terminal_state: str
    version: str
    timestamp: datetime

    @classmethod
    def of(cls, state: TerminalState, version: str) -> Health:
        return cls(
            status="ok" if state.connected else "degraded",
            mt5_connected=state.connected,
            terminal_state=state.status.value,
            version=version,
            timestamp=datetime.now(UTC),
        )


class AccountOut(_Out):
    number: int
    name: str
    server: str
    currency: str
    leverage: int
    balance: float
    equity: float
    margin: float
    free_margin: float
    margin_level: float
    profit: float
    trade_mode: str

    @classmethod
    def of(cls, a: AccountInfo) -> AccountOut:
        def m(value: float) -> float:
            return rounded(value, a.currency_digits)

        return cls(
            number=a.login,
            name=a.name,
            server=a.server,
            currency=a.currency,
            leverage=a.leverage,
            balance=m(a.balance),
            equity=m(a.equity),
            margin=m(a.margin),
            free_margin=m(a.margin_free),
            margin_level=rounded(a.margin_level, 2),
            profit=m(a.profit),
            trade_mode=a.trade_mode.value,
        )


class PositionOut(_Out):
    ticket: int
    symbol: str
    type: Literal["buy", "sell"]
    volume: float
    price_open: float
    price_current: float
    sl: float
    tp: float
    profit: float
    swap: float
    commission: float
    time: datetime
    comment: str

    @classmethod
    def of(cls, p: Position, d: Digits = AS_IS) -> PositionOut:
        return cls(
            ticket=p.ticket,
            symbol=p.symbol,
            type=p.side.value,
            volume=p.volume,
            price_open=d.p(p.price_open),
            price_current=d.p(p.price_current),
            sl=d.p(p.sl),
            tp=d.p(p.tp),
            profit=d.m(p.profit),
            swap=d.m(p.swap),
            commission=d.m(p.commission),
            time=utc(p.time),
            comment=p.comment,
        )


class OrderOut(_Out):
    ticket: int
    symbol: str
    type: str
    volume: float
    price_open: float
    sl: float
    tp: float
    time_setup: datetime
    state: str
    comment: str

    @classmethod
    def of(cls, o: Order, d: Digits = AS_IS) -> OrderOut:
        return cls(
            ticket=o.ticket,
            symbol=o.symbol,
            type=o.type.value,
            volume=o.volume_current,
            price_open=d.p(o.price_open),
            sl=d.p(o.sl),
            tp=d.p(o.tp),
            time_setup=utc(o.time_setup),
            state=o.state.value,
            comment=o.comment,
        )


class DealOut(_Out):
    deal_id: int
    order_id: int
    position_id: int
    symbol: str
    type: str
    entry: str
    volume: float
    price: float
    profit: float
    swap: float
    commission: float
    time: datetime

    @classmethod
    def of(cls, deal: Deal, d: Digits = AS_IS) -> DealOut:
        return cls(
            deal_id=deal.ticket,
            order_id=deal.order,
            position_id=deal.position_id,
            symbol=deal.symbol,
            type=deal.type.value,
            entry=deal.entry.value,
            volume=deal.volume,
            price=d.p(deal.price),
            profit=d.m(deal.profit),
            swap=d.m(deal.swap),
            commission=d.m(deal.commission),
            time=utc(deal.time),
        )


# ----------------------------------------------------------------------------- trading


class PlaceRequest(_In):
    """``sl``/``tp`` are distances in points from the order's price (0 or absent: none).

    ``confidence`` (0..1) is the signal's own confidence: below the setting ``server.min_confidence``
    the order is refused unless ``force`` is true. ``force`` overrides that floor only — never
    validation, risk limits or the trading-enabled switch. ``uuid`` makes the request idempotent: the
    same uuid again returns the first outcome and sends nothing.
    """

    symbol: str = Field(
        min_length=1, max_length=MAX_SYMBOL_LENGTH, pattern=SYMBOL_PATTERN, examples=["EURUSD"]
    )
    side: Literal["buy", "sell"]
    volume: float = Field(gt=0, le=1_000_000, examples=[0.01])
    type: Literal["market", "limit", "stop"] = "market"
    price: float | None = Field(default=None, gt=0, le=1e12)
    sl: float | None = Field(default=None, ge=0, le=1e9)
    tp: float | None = Field(default=None, ge=0, le=1e9)
    source: str = Field(default="", max_length=64)
    confidence: float | None = Field(default=None, ge=0, le=1)
    uuid: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    force: bool = False
    dry_run: bool = False
    audit_note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class PlaceResponse(_Out):
    success: bool
    ticket: int | None
    message: str
    dry_run: bool


class CloseRequest(_In):
    order_id: int = Field(ge=1, le=2**63 - 1, description="the position's ticket")
    volume: float | None = Field(default=None, gt=0, le=1_000_000, description="part to close; all if absent")
    audit_note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class ModifyRequest(_In):
    """New SL/TP (prices; absent keeps the current one, 0 removes it) of a position — or of a pending
    order, whose ``price`` may change too."""

    order_id: int = Field(ge=1, le=2**63 - 1, description="a position's or a pending order's ticket")
    sl: float | None = Field(default=None, ge=0, le=1e12)
    tp: float | None = Field(default=None, ge=0, le=1e12)
    price: float | None = Field(default=None, gt=0, le=1e12)
    audit_note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class CancelRequest(_In):
    """Remove a pending order (``order_id`` = its ticket)."""

    order_id: int = Field(ge=1, le=2**63 - 1, description="the pending order's ticket")
    audit_note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class TradeResponse(_Out):
    success: bool
    ticket: int | None
    message: str


# ----------------------------------------------------------------------------- market data


class SymbolOut(_Out):
    name: str
    description: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float
    currency_base: str
    currency_profit: str
    trade_mode: str
    spread: int
    subscribed: bool

    @classmethod
    def of(cls, s: SymbolSpec, subscribed: bool) -> SymbolOut:
        return cls(
            name=s.name,
            description=s.description,
            digits=s.digits,
            point=s.point,
            contract_size=s.contract_size,
            volume_min=s.volume_min,
            volume_max=s.volume_max,
            volume_step=s.volume_step,
            currency_base=s.currency_base,
            currency_profit=s.currency_profit,
            trade_mode=s.trade_mode.value,
            spread=s.spread,
            subscribed=subscribed,
        )


class QuoteOut(_Out):
    symbol: str
    bid: float
    ask: float
    spread: int = Field(description="in points")
    timestamp: datetime


def quote_json(q: Quote) -> dict[str, Any]:
    """The ``quotes`` event and ``/api/quotes`` item, built directly (it is the hot path)."""
    return {
        "symbol": q.symbol,
        "bid": round(q.bid, q.digits),  # prices sit on the symbol's grid: round() is exact and fast here
        "ask": round(q.ask, q.digits),
        "spread": q.spread_points,
        "timestamp": iso(msc_to_datetime(q.time_msc)),
    }


class Candle(_Out):
    time: datetime
    open: float
    high: float
    low: float
    close: float
    tick_volume: int
    spread: int
    real_volume: int


class Candles(_Out):
    symbol: str
    timeframe: str
    candles: list[Candle]

    @classmethod
    def of(cls, series: BarSeries) -> Candles:
        return cls(symbol=series.symbol, timeframe=series.timeframe.name, candles=candles(series))


def candles(series: BarSeries) -> list[Candle]:
    return [
        Candle(
            time=datetime.fromtimestamp(bar.time, UTC),
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            tick_volume=bar.tick_volume,
            spread=bar.spread,
            real_volume=bar.real_volume,
        )
        for bar in series.bars()
    ]


class BookLevelOut(_Out):
    price: float
    volume: float


class BookOut(_Out):
    symbol: str
    timestamp: datetime
    bids: list[BookLevelOut]
    asks: list[BookLevelOut]

    @classmethod
    def of(cls, book: Book) -> BookOut:
        bids = [BookLevelOut(price=lv.price, volume=lv.volume) for lv in book.levels if lv.side in _BIDS]
        asks = [BookLevelOut(price=lv.price, volume=lv.volume) for lv in book.levels if lv.side not in _BIDS]
        return cls(
            symbol=book.symbol,
            timestamp=msc_to_datetime(book.time_msc),
            bids=sorted(bids, key=lambda lv: -lv.price),
            asks=sorted(asks, key=lambda lv: lv.price),
        )


_BIDS = (BookSide.BUY, BookSide.BUY_MARKET)


class IndicatorOut(_Out):
    symbol: str
    timeframe: str
    indicator: str
    params: dict[str, float]
    times: list[datetime]
    values: dict[str, list[float | None]]


# ----------------------------------------------------------------------------- operations


class LogOut(_Out):
    timestamp: datetime
    level: str
    message: str
    module: str
    extra: dict[str, Any]


def log_json(entry: LogEntry) -> dict[str, Any]:
    return entry.to_json()


class AuditEntryOut(_Out):
    seq: int
    time: str
    actor: str
    action: str
    account: str | None
    payload: dict[str, Any]
    prev: str
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=e.seq,
            time=e.time,
            actor=e.actor,
            action=e.action,
            account=e.account,
            payload=e.payload,
            prev=e.prev,
            hash=e.hash,
        )


class AuditFinding(_Out):
    kind: str
    file: str
    line: int
    seq: int | None
    detail: str


class AuditVerifyOut(_Out):
    ok: bool
    status: str
    entries: int
    files: int
    last_seq: int
    last_hash: str
    finding: AuditFinding | None
    summary: str

    @classmethod
    def of(cls, r: VerifyReport) -> AuditVerifyOut:
        f = r.finding
        finding = (
            None
            if f is None
            else AuditFinding(kind=f.kind.value, file=f.file, line=f.line, seq=f.seq, detail=f.detail)
        )
        return cls(
            ok=r.ok,
            status=r.status,
            entries=r.entries,
            files=r.files,
            last_seq=r.last_seq,
            last_hash=r.last_hash,
            finding=finding,
            summary=r.summary(),
        )


# ----------------------------------------------------------------------------- terminals


class TerminalOut(_Out):
    """A terminal of the pool: what an account's ``terminal_id`` may name, and how it is doing."""

    id: str
    live: bool
    status: str
    connected: bool
    login: int | None
    server: str
    ping_ms: float | None
    reason: str

    @classmethod
    def of(cls, state: TerminalState, live: bool) -> TerminalOut:
        return cls(
            id=state.terminal_id,
            live=live,
            status=state.status.value,
            connected=state.connected,
            login=state.login,
            server=state.server,
            ping_ms=None if state.ping_ms is None else round(state.ping_ms, 1),
            reason=state.reason,
        )


# ----------------------------------------------------------------------------- managed accounts


class NewAccountIn(_In):
    """A managed account: the registry's rules, stated in the schema (no control characters; a server
    name with more than spaces; ``terminal_id`` one of the pool's, which the answer to a wrong one
    lists)."""

    login: int = Field(ge=1, le=2**63 - 1, examples=[5001006])
    server: str = Field(min_length=1, max_length=128, pattern=SERVER_PATTERN, examples=["SimBroker-Demo"])
    password: str = Field(min_length=1, max_length=256, pattern=NO_CONTROL_PATTERN, examples=["Demo-1006"])
    broker: str = Field(default="", max_length=64, pattern=NO_CONTROL_PATTERN)
    alias: str = Field(default="", max_length=64, pattern=NO_CONTROL_PATTERN)
    terminal_id: str | None = Field(default=None, max_length=64, pattern=NO_CONTROL_PATTERN)
    enabled: bool = True


class ManagedAccountOut(_Out):
    """A managed account with its latest snapshot's figures (null before the first visit). Never a
    password: there is none to show."""

    id: int
    alias: str
    broker: str
    login: int
    server: str
    status: str
    connected: bool
    last_error: str | None
    balance: float | None
    equity: float | None
    margin: float | None
    free_margin: float | None
    margin_level: float | None
    open_trades: int | None
    open_pl: float | None
    day_pl: float | None
    week_pl: float | None
    month_pl: float | None
    total_pl: float | None
    last_snapshot_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, a: ManagedAccount, snapshot: AccountSnapshot | None, connected: bool) -> ManagedAccountOut:
        s = snapshot
        digits = currency_digits(s.currency if s else None)

        def m(value: float) -> float:
            return rounded(value, digits)

        return cls(
            id=a.id,
            alias=a.alias,
            broker=a.broker,
            login=a.login,
            server=a.server,
            status=a.status.value,
            connected=connected,
            last_error=a.status_reason or None,
            balance=m(s.balance) if s else None,
            equity=m(s.equity) if s else None,
            margin=m(s.margin) if s else None,
            free_margin=m(s.margin_free) if s else None,
            margin_level=rounded(s.margin_level, 2) if s else None,
            open_trades=s.open_positions if s else None,
            open_pl=m(s.open_pl) if s else None,
            day_pl=m(s.pnl.day) if s else None,
            week_pl=m(s.pnl.week) if s else None,
            month_pl=m(s.pnl.month) if s else None,
            total_pl=m(s.pnl.total) if s else None,
            last_snapshot_at=utc(a.last_snapshot_at) if a.last_snapshot_at else None,
            created_at=utc(a.created_at),
        )


class SnapshotOut(_Out):
    taken_at: datetime
    currency: str
    balance: float
    equity: float
    margin: float
    free_margin: float
    margin_level: float
    open_trades: int
    open_pl: float
    pending_orders: int
    day_pl: float
    week_pl: float
    month_pl: float
    total_pl: float

    @classmethod
    def of(cls, s: AccountSnapshot) -> SnapshotOut:
        digits = currency_digits(s.currency)

        def m(value: float) -> float:
            return rounded(value, digits)

        return cls(
            taken_at=utc(s.taken_at),
            currency=s.currency,
            balance=m(s.balance),
            equity=m(s.equity),
            margin=m(s.margin),
            free_margin=m(s.margin_free),
            margin_level=rounded(s.margin_level, 2),
            open_trades=s.open_positions,
            open_pl=m(s.open_pl),
            pending_orders=s.pending_orders,
            day_pl=m(s.pnl.day),
            week_pl=m(s.pnl.week),
            month_pl=m(s.pnl.month),
            total_pl=m(s.pnl.total),
        )


# ----------------------------------------------------------------------------- carousel


class CarouselVisitOut(_Out):
    """One visit under way: which terminal is on which managed account."""

    terminal: str
    account_id: int


class CarouselOut(_Out):
    """The carousel's progress (``GET /api/carousel`` and the ``carousel`` channel)."""

    running: bool
    paused: bool
    cycle: int
    cycle_started_at: datetime | None
    visited_in_cycle: int
    accounts_in_cycle: int
    progress: float  # 0..1 of the current cycle
    current: list[CarouselVisitOut]
    last_cycle_s: float | None
    next_due: datetime | None
    errors_in_cycle: int
    note: str  # why it waits, when it does
    stale_after_s: float  # an account whose last snapshot is older than this is stale

    @classmethod
    def of(cls, status: Any) -> CarouselOut:
        """From the carousel's ``CarouselStatus`` (read by field name, so the server does not depend on
        the carousel module's import)."""
        current = [
            CarouselVisitOut(terminal=str(terminal), account_id=int(account))
            for terminal, account in getattr(status, "current", ())
        ]
        started = getattr(status, "cycle_started_at", None)
        due = getattr(status, "next_due", None)
        last = getattr(status, "last_cycle_s", None)
        return cls(
            running=bool(getattr(status, "running", False)),
            paused=bool(getattr(status, "paused", False)),
            cycle=int(getattr(status, "cycle", 0) or 0),
            cycle_started_at=utc(started) if isinstance(started, datetime) else None,
            visited_in_cycle=int(getattr(status, "visited_in_cycle", 0) or 0),
            accounts_in_cycle=int(getattr(status, "accounts_in_cycle", 0) or 0),
            progress=finite(float(getattr(status, "progress", 0.0) or 0.0)),
            current=current,
            last_cycle_s=None if last is None else finite(float(last)),
            next_due=utc(due) if isinstance(due, datetime) else None,
            errors_in_cycle=int(getattr(status, "errors_in_cycle", 0) or 0),
            note=str(getattr(status, "note", "") or ""),
            stale_after_s=finite(float(getattr(status, "stale_after_s", 900.0) or 900.0)),
        )


def dump_all(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]


# ----------------------------------------------------------------------------- price alerts


class AlertIn(_In):
    """A price alert: ``bid_above`` fires when the bid is at or above ``price``, and so on."""

    symbol: str = Field(
        min_length=1, max_length=MAX_SYMBOL_LENGTH, pattern=SYMBOL_PATTERN, examples=["EURUSD"]
    )
    condition: Literal["bid_above", "bid_below", "ask_above", "ask_below"]
    price: float = Field(gt=0, le=1e12, examples=[1.0850])
    repeat: bool = Field(default=False, description="fire every time the condition becomes true again")
    note: str = Field(default="", max_length=200)


class AlertOut(_Out):
    id: int
    symbol: str
    condition: str
    price: float
    repeat: bool
    note: str
    created_at: datetime
    fired_at: datetime | None  # the last time it fired; null until it does
    fired_price: float | None
    fire_count: int
    active: bool  # still watching (a one-shot alert that fired is not)

    @classmethod
    def of(cls, alert: Any) -> AlertOut:
        return cls(
            id=alert.id,
            symbol=alert.symbol,
            condition=str(alert.condition),
            price=alert.price,
            repeat=alert.repeat,
            note=alert.note,
            created_at=utc(alert.created_at),
            fired_at=utc(alert.fired_at) if alert.fired_at else None,
            fired_price=alert.fired_price,
            fire_count=alert.fire_count,
            active=alert.active,
        )
