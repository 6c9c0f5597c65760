"""Bulk close: which positions a choice means (listed in the confirmation), and closing each in turn
with a refusal of one never stopping the others."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.bulk_close import CloseChoice, close_positions, positions_to_close
from app.models import OrderResult, Position, RejectedError, Side

NOW = datetime(2026, 11, 18, tzinfo=UTC)


def position(ticket: int, symbol: str, profit: float, swap: float = 0.0) -> Position:
    return Position(ticket, symbol, Side.BUY, 0.1, 1.1, 1.1, 0, 0, profit, swap, NOW, NOW)


POSITIONS = [position(1, "EURUSD", 5.0), position(2, "EURUSD", -3.0), position(3, "XAUUSD", 1.0, swap=-2.0)]


def test_each_choice_means_its_positions() -> None:
    tickets = lambda chosen: [p.ticket for p in chosen]  # noqa: E731
    assert tickets(positions_to_close(POSITIONS, CloseChoice.ALL)) == [1, 2, 3]
    assert tickets(positions_to_close(POSITIONS, CloseChoice.PROFITABLE)) == [1]
    assert tickets(positions_to_close(POSITIONS, CloseChoice.LOSING)) == [2, 3]  # the swap counts
    assert tickets(positions_to_close(POSITIONS, CloseChoice.SYMBOL, "EURUSD")) == [1, 2]


class Closer:
    def __init__(self) -> None:
        self.asked: list[tuple[int, str]] = []

    async def close_position(self, ticket: int, volume: float | None = None, deviation: int | None = None,
                             *, actor: str = "gui", note: str = "") -> OrderResult:  # fmt: skip
        self.asked.append((ticket, note))
        if ticket == 2:
            raise RejectedError("Market closed")
        return OrderResult(10009, True, ticket, ticket, 0.1, 1.1, 1.1, 1.1, "done")


async def test_a_refusal_never_stops_the_others() -> None:
    closer = Closer()
    outcome = await close_positions(closer, POSITIONS, note="bulk close: all")
    assert closer.asked == [(1, "bulk close: all"), (2, "bulk close: all"), (3, "bulk close: all")]
    assert outcome.closed == [1, 3] and outcome.failed == [(2, "Market closed")]
    assert outcome.summary() == "closed 2 of 3 positions; not closed: #2: Market closed"
