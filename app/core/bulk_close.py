"""Closing several positions at once (the Trade tab's Close All / Profitable / Losing / by symbol).

Which positions a choice means is a pure function, so the confirmation can list exactly what will
close; each is then closed as its own command through the trading service (its own client id and
audit entries, the same validation), one after the other, and the outcome says what closed and what
did not, with why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.models import OrderResult, Position, TerminalError


class CloseChoice(StrEnum):
    ALL = "all"
    PROFITABLE = "profitable"
    LOSING = "losing"
    SYMBOL = "symbol"


class Closer(Protocol):
    async def close_position(
        self, ticket: int, volume: float | None = None, deviation: int | None = None, *, actor: str = ...,
        note: str = ...,
    ) -> OrderResult: ...  # fmt: skip


def positions_to_close(
    positions: Iterable[Position], choice: CloseChoice, symbol: str = ""
) -> list[Position]:
    """The positions ``choice`` means (profit as the terminal shows it now; swap included)."""
    chosen = []
    for position in positions:
        money = position.profit + position.swap
        if (
            choice is CloseChoice.ALL
            or (choice is CloseChoice.PROFITABLE and money > 0)
            or (choice is CloseChoice.LOSING and money < 0)
            or (choice is CloseChoice.SYMBOL and position.symbol == symbol)
        ):
            chosen.append(position)
    return chosen


@dataclass
class BulkClose:
    closed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"closed {len(self.closed)} of {len(self.closed) + len(self.failed)} positions"
        if self.failed:
            text += "; not closed: " + "; ".join(f"#{ticket}: {why}" for ticket, why in self.failed)
        return text


async def close_positions(
    trading: Closer, positions: Iterable[Position], *, actor: str = "gui", note: str = "bulk close"
) -> BulkClose:
    """Close each of ``positions`` in turn; a refusal of one never stops the others."""
    outcome = BulkClose()
    for position in positions:
        try:
            await trading.close_position(position.ticket, actor=actor, note=note)
        except TerminalError as exc:
            outcome.failed.append((position.ticket, exc.message))
        else:
            outcome.closed.append(position.ticket)
    return outcome
