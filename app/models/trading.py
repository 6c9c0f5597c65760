"""Trading objects: positions, pending orders, deals, and the requests and results of trading."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from app.models.enums import (
    DealEntry,
    DealType,
    FillPolicy,
    OrderState,
    OrderType,
    Side,
    TimeInForce,
    TradeAction,
)


@dataclass(frozen=True, slots=True)
class Position:
    ticket: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    price_current: float
    sl: float
    tp: float
    profit: float
    swap: float
    time: datetime
    time_update: datetime
    magic: int = 0
    comment: str = ""
    identifier: int = 0
    commission: float = 0.0


@dataclass(frozen=True, slots=True)
class Order:
    """A pending order (or, in history, any order the account sent)."""

    ticket: int
    symbol: str
    type: OrderType
    state: OrderState
    volume_initial: float
    volume_current: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    price_stoplimit: float
    time_setup: datetime
    time_done: datetime | None = None
    time_expiration: datetime | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    filling: FillPolicy = FillPolicy.RETURN
    magic: int = 0
    comment: str = ""
    position_id: int = 0


@dataclass(frozen=True, slots=True)
class Deal:
    ticket: int
    order: int
    position_id: int
    symbol: str
    type: DealType
    entry: DealEntry
    volume: float
    price: float
    profit: float
    swap: float
    commission: float
    fee: float
    time: datetime
    magic: int = 0
    comment: str = ""

    @property
    def net(self) -> float:
        """What the deal did to the balance: profit + swap + commission + fee."""
        return self.profit + self.swap + self.commission + self.fee


DEFAULT_DEVIATION = 10  # points; the trading service replaces it with its configured deviation


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A trading request in the app's terms; ``client_id`` makes it idempotent end to end."""

    action: TradeAction
    symbol: str = ""
    volume: float = 0.0
    type: OrderType = OrderType.BUY
    price: float = 0.0
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = DEFAULT_DEVIATION
    filling: FillPolicy | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expiration: datetime | None = None
    magic: int = 0
    comment: str = ""
    position: int = 0
    position_by: int = 0
    order: int = 0
    client_id: str = ""
    # SL/TP as distances in points from the price the order is sent at: the trading service turns them
    # into prices against the same fresh tick it prices the order with (an earlier tick would put them
    # off by however far the market moved meanwhile).
    sl_points: float = 0.0
    tp_points: float = 0.0

    def with_changes(self, **changes: object) -> OrderRequest:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """``order_check``'s verdict: ``retcode`` 0 means the request would pass."""

    retcode: int
    balance: float
    equity: float
    profit: float
    margin: float
    margin_free: float
    margin_level: float
    comment: str
    ok: bool
    retcode_name: str = ""


@dataclass(frozen=True, slots=True)
class OrderResult:
    """The outcome of a trading request as the terminal reported it."""

    retcode: int
    ok: bool
    deal: int
    order: int
    volume: float
    price: float
    bid: float
    ask: float
    comment: str
    request_id: int = 0
    client_id: str = ""
    latency_ms: float = 0.0
    retcode_name: str = ""
    temporary: bool = False
    duplicate: bool = False  # the client id was seen before: this is the first outcome, nothing was sent
    extra: dict[str, object] = field(default_factory=dict)
