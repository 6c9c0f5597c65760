"""The wire format of signals, webhooks and strategies (strict request models, as every route's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.signals.webhooks import NAME_PATTERN
from app.models import Timeframe
from app.models.signals import SignalRecord, StrategyConfig, Webhook
from app.server.schemas import MAX_NOTE_LENGTH, MAX_SYMBOL_LENGTH, SYMBOL_PATTERN, _In

UUID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
TIMEFRAME_PATTERN = "^(" + "|".join(Timeframe.__members__) + ")$"
# What a sender may call a symbol: the terminal's name, or TradingView's "FX:EURUSD", "EUR/USD".
SENT_SYMBOL_PATTERN = r"^[A-Za-z0-9._#&+:/ -]*$"
ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
Action = Literal["buy", "sell", "close", "close_all", "close_partial", "modify", "cancel", "flat", "reverse"]
Mode = Literal["auto", "confirm", "notify"]
Price = Field(default=None, ge=0, le=1e12)
Points = Field(default=None, gt=0, le=1e9)


class _SignalFields(_In):
    symbol: str = Field(default="", max_length=MAX_SYMBOL_LENGTH + 16, pattern=SENT_SYMBOL_PATTERN)
    volume: float | None = Field(default=None, gt=0, le=1_000_000)
    risk_percent: float | None = Field(default=None, gt=0, le=100)
    sl: float | None = Price
    tp: float | None = Price
    sl_points: float | None = Points
    tp_points: float | None = Points
    ticket: int | None = Field(default=None, ge=1, le=2**63 - 1)
    price: float | None = Field(default=None, gt=0, le=1e12)
    uuid: str | None = Field(default=None, min_length=1, max_length=64, pattern=UUID_PATTERN)
    confidence: float | None = Field(default=None, ge=0, le=1)
    comment: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    timestamp: str | None = Field(default=None, max_length=40, pattern=ISO_PATTERN)

    @field_validator("timestamp")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None:
            parse_moment(value)
        return value


def parse_moment(text: str) -> datetime:
    """ISO 8601 (``{{timenow}}``'s ``2026-12-02T10:00:00Z``) as an aware UTC time, 1970 to 2100."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise ValueError("not a date and time (ISO 8601, e.g. 2026-12-02T10:00:00Z)") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not datetime(1970, 1, 1, tzinfo=UTC) <= moment < datetime(2100, 1, 1, tzinfo=UTC):
        raise ValueError("a time between 1970 and 2100")
    return moment


class SignalIn(_SignalFields):
    """Seed 001's signal: ``uuid, symbol, side, volume, tp, sl, source, confidence, timestamp`` — and
    ``action`` for what is not a buy or a sell (then ``side`` is left out). ``sl``/``tp`` are prices;
    ``sl_points``/``tp_points`` distances from the fill. Without a ``uuid`` one is made (and sending
    it again is a new signal: give one to be safe against resends)."""

    side: Literal["buy", "sell"] | None = None
    action: Action | None = None
    source: str = Field(default="api", min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.:@-]+$")


class WebhookAlert(_SignalFields):
    """An alert posted to ``/api/webhooks/{name}``: the webhook's ``secret`` (or ``?secret=`` in the
    URL) and the signal. Without a ``uuid`` the alert's id is derived from its body (which should carry
    ``{{timenow}}``): the same delivery twice is one alert."""

    secret: str | None = Field(default=None, max_length=256)
    action: Action
    source: str = Field(default="", max_length=48, pattern=r"^[A-Za-z0-9_.:@ -]*$")


class WebhookIn(_In):
    name: str = Field(pattern=NAME_PATTERN, examples=["tradingview"])
    mode: Mode = "confirm"
    symbols: list[str] = Field(default_factory=list, max_length=500)
    volume: float | None = Field(default=None, gt=0, le=1_000_000)
    symbol_map: dict[str, str] = Field(default_factory=dict, max_length=500)


class DecisionIn(_In):
    reason: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class VerdictOut(_Out):
    name: str
    type: str
    approved: bool
    confidence: float | None
    reason: str
    timestamp: str


class SignalOut(_Out):
    """Seed 001's ``signals_update`` shape, and what the app adds."""

    uuid: str
    symbol: str
    side: str
    action: str
    volume: float | None
    tp: float | None
    sl: float | None
    source: str
    confidence: float | None
    timestamp: str
    validators: list[VerdictOut]
    status: str
    mode: str
    message: str
    ticket: int | None
    expires_at: str | None
    updated_at: str
    duplicate: bool = False

    @classmethod
    def of(cls, record: SignalRecord) -> SignalOut:
        data: dict[str, Any] = record.to_json()
        return cls(**data, duplicate=record.duplicate)


class WebhookOut(_Out):
    name: str
    mode: str
    symbols: list[str]
    volume: float | None
    symbol_map: dict[str, str]
    source: str
    created_at: str
    updated_at: str
    url: str = ""

    @classmethod
    def of(cls, hook: Webhook) -> WebhookOut:
        return cls(**hook.to_json(), url=f"/api/webhooks/{hook.name}")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown once: only its digest is kept")


class SecretOut(_Out):
    name: str
    secret: str


class StrategyOut(_Out):
    id: str
    kind: str
    symbol: str
    timeframe: str
    params: dict[str, float]
    enabled: bool
    mode: str
    volume: float
    source: str
    updated_at: str

    @classmethod
    def of(cls, config: StrategyConfig) -> StrategyOut:
        return cls(**config.to_json())


class StrategyIn(_In):
    """A new strategy (``kind``, ``symbol`` and ``timeframe`` needed), or changes to one (absent: kept).
    ``params`` are merged over the current ones."""

    kind: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    params: dict[str, float] | None = Field(default=None, max_length=20)
    mode: Mode | None = None
    volume: float | None = Field(default=None, gt=0, le=1_000_000)
    symbol: str | None = Field(
        default=None, min_length=1, max_length=MAX_SYMBOL_LENGTH, pattern=SYMBOL_PATTERN
    )
    timeframe: str | None = Field(default=None, pattern=TIMEFRAME_PATTERN)


class StrategyKindOut(_Out):
    kind: str
    defaults: dict[str, float]
    doc: str
