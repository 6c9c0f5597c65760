"""Signals: what an alert, a strategy or an API caller proposes, the validators' verdicts on it, and what
became of it. Seed 001's ``signals_update`` is :meth:`SignalRecord.to_json`'s shape."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class SignalAction(StrEnum):
    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"  # the position ``ticket``, or every position on ``symbol``
    CLOSE_ALL = "close_all"  # every position of the account
    CLOSE_PARTIAL = "close_partial"  # ``volume`` of the position ``ticket`` (or of the symbol's oldest)
    MODIFY = "modify"  # new SL/TP of a position (``ticket``, or every position on the symbol)
    CANCEL = "cancel"  # a pending order by ticket, or every pending order on the symbol
    FLAT = "flat"  # close every position on the symbol
    REVERSE = "reverse"  # close the symbol's positions, then open the other way

    @property
    def opens(self) -> bool:
        return self in (SignalAction.BUY, SignalAction.SELL, SignalAction.REVERSE)


class SignalMode(StrEnum):
    AUTO = "auto"  # approved by the chain: an order at once (client id = the signal's uuid)
    CONFIRM = "confirm"  # approved by the chain: waits for a person to approve or reject it
    NOTIFY = "notify"  # recorded and shown, never traded


class SignalStatus(StrEnum):
    RECEIVED = "received"  # being validated
    PENDING = "pending"  # waiting for a person (confirm)
    APPROVED = "approved"  # on its way to the trading service
    EXECUTED = "executed"  # the trading service carried it out (``ticket``)
    REJECTED = "rejected"  # by a validator or a person
    FAILED = "failed"  # the trading service refused it (the message says why)
    EXPIRED = "expired"  # nobody decided in time
    NOTIFIED = "notified"  # notify mode: shown, not traded

    @property
    def final(self) -> bool:
        return self not in (SignalStatus.RECEIVED, SignalStatus.PENDING, SignalStatus.APPROVED)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One validator's finding, as seed 001 shows it."""

    name: str
    type: str  # "rule", "risk", "ai", ...
    approved: bool
    confidence: float | None
    reason: str
    timestamp: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "approved": self.approved,
            "confidence": self.confidence,
            "reason": self.reason,
            "timestamp": iso(self.timestamp),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            str(data["name"]),
            str(data["type"]),
            bool(data["approved"]),
            data.get("confidence"),
            str(data.get("reason", "")),
            datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00")),
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """A proposal to trade. ``symbol`` is the terminal's symbol (mapped from the sender's spelling);
    ``sl``/``tp`` are prices, ``sl_points``/``tp_points`` distances from the fill price;
    ``risk_percent`` sizes the volume from the SL distance when ``volume`` is absent."""

    uuid: str
    source: str
    action: SignalAction
    symbol: str = ""
    volume: float | None = None
    sl: float | None = None
    tp: float | None = None
    sl_points: float | None = None
    tp_points: float | None = None
    risk_percent: float | None = None
    ticket: int | None = None  # the position or pending order a close/modify/cancel names
    price: float | None = None  # the sender's price (informational: orders fill at the market)
    confidence: float | None = None
    comment: str = ""
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    sent_symbol: str = ""  # as the sender spelled it ("FX:EURUSD"), when it differed

    @property
    def side(self) -> str:
        if self.action in (SignalAction.BUY, SignalAction.SELL):
            return self.action.value
        return ""

    def with_changes(self, **changes: Any) -> Signal:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "uuid": self.uuid,
            "source": self.source,
            "action": self.action.value,
            "symbol": self.symbol,
            "timestamp": iso(self.timestamp),
            "comment": self.comment,
        }
        for name in ("volume", "sl", "tp", "sl_points", "tp_points", "risk_percent", "ticket", "price",
                     "confidence"):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.sent_symbol:
            data["sent_symbol"] = self.sent_symbol
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Signal:
        return cls(
            uuid=str(data["uuid"]),
            source=str(data["source"]),
            action=SignalAction(data["action"]),
            symbol=str(data.get("symbol", "")),
            volume=data.get("volume"),
            sl=data.get("sl"),
            tp=data.get("tp"),
            sl_points=data.get("sl_points"),
            tp_points=data.get("tp_points"),
            risk_percent=data.get("risk_percent"),
            ticket=data.get("ticket"),
            price=data.get("price"),
            confidence=data.get("confidence"),
            comment=str(data.get("comment", "")),
            timestamp=datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00")),
            sent_symbol=str(data.get("sent_symbol", "")),
        )


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A signal with its verdicts and its outcome (one row of the ``signals`` table)."""

    signal: Signal
    mode: SignalMode
    status: SignalStatus
    validators: tuple[Verdict, ...] = ()
    message: str = ""
    ticket: int | None = None  # the order the signal led to
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    duplicate: bool = False  # this answer is a delivery seen before: nothing new was done

    @property
    def uuid(self) -> str:
        return self.signal.uuid

    def with_changes(self, **changes: Any) -> SignalRecord:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Seed 001's ``signals_update``: uuid, symbol, side, volume, tp, sl, source, confidence,
        timestamp, validators, status — and what the app adds (action, mode, message, ticket)."""
        s = self.signal
        return {
            "uuid": s.uuid,
            "symbol": s.symbol,
            "side": s.side,
            "action": s.action.value,
            "volume": s.volume,
            "tp": s.tp,
            "sl": s.sl,
            "source": s.source,
            "confidence": s.confidence,
            "timestamp": iso(s.timestamp),
            "validators": [v.to_json() for v in self.validators],
            "status": self.status.value,
            "mode": self.mode.value,
            "message": self.message,
            "ticket": self.ticket,
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Webhook:
    """A named webhook: alerts posted to ``/api/webhooks/{name}`` with its secret become signals of
    source ``webhook:{name}``. Only the secret's SHA-256 is kept."""

    name: str
    secret_sha256: str
    mode: SignalMode
    symbols: tuple[str, ...] = ()  # allow-list of terminal symbols; empty: any
    volume: float | None = None  # when an alert names none
    symbol_map: dict[str, str] = field(default_factory=dict)  # sender's spelling -> terminal symbol
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def source(self) -> str:
        return f"webhook:{self.name}"

    def to_json(self) -> dict[str, Any]:
        """What the API shows (never the secret, nor its digest)."""
        return {
            "name": self.name,
            "mode": self.mode.value,
            "symbols": list(self.symbols),
            "volume": self.volume,
            "symbol_map": dict(self.symbol_map),
            "source": self.source,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """One strategy instance on the live bars of ``symbol`` and ``timeframe``."""

    id: str
    kind: str
    symbol: str
    timeframe: str
    params: dict[str, float] = field(default_factory=dict)
    enabled: bool = False
    mode: SignalMode = SignalMode.CONFIRM
    volume: float = 0.01
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def source(self) -> str:
        return f"strategy:{self.id}"

    def with_changes(self, **changes: Any) -> StrategyConfig:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "params": dict(self.params),
            "enabled": self.enabled,
            "mode": self.mode.value,
            "volume": self.volume,
            "source": self.source,
            "updated_at": iso(self.updated_at),
        }
