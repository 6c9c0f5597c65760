"""Price alerts: the condition a trader watches for, and what happened when it was met."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertCondition(StrEnum):
    """MT5's alert conditions on prices: ``above`` is met at or over the price, ``below`` at or under
    (a touch counts, as a pending order's fill would)."""

    BID_ABOVE = "bid_above"
    BID_BELOW = "bid_below"
    ASK_ABOVE = "ask_above"
    ASK_BELOW = "ask_below"

    @property
    def side(self) -> str:
        """Which price it watches: ``bid`` or ``ask``."""
        return self.value.split("_", 1)[0]

    @property
    def above(self) -> bool:
        return self.value.endswith("_above")

    def met(self, bid: float, ask: float, price: float) -> bool:
        value = bid if self.side == "bid" else ask
        if value <= 0:
            return False  # no price on that side yet (an empty book, a closed symbol)
        return value >= price if self.above else value <= price

    def describe(self) -> str:
        return f"{self.side} {'at or above' if self.above else 'at or below'}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as stored. ``repeat``: fire every time the condition becomes true again (no more
    often than the alerts' ``repeat_interval_s``); otherwise once. ``fired_at``/``fired_price``: the
    last firing (None: never)."""

    id: int
    symbol: str
    condition: AlertCondition
    price: float
    repeat: bool
    created_at: datetime
    note: str = ""
    created_by: str = ""
    fired_at: datetime | None = None
    fired_price: float | None = None
    fire_count: int = 0

    @property
    def active(self) -> bool:
        """Still watching: a repeating alert always, a one-shot one until it has fired."""
        return self.repeat or self.fire_count == 0


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What the hub carries on ``alerts``: an alert ``created``, ``fired`` or ``deleted``."""

    kind: str
    alert: Alert
