"""The carousel's progress, as the status bar, the Accounts tab and ``GET /api/carousel`` show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CarouselStatus:
    """Where the carousel stands. Published on the hub's ``carousel`` topic (key None) whenever it
    changes.

    ``visited_in_cycle`` counts the accounts of the current cycle done so far, failed ones included
    (``errors_in_cycle`` of them failed); ``current`` names the visits under way as
    ``(terminal_id, account_id)`` pairs; ``last_cycle_s`` is how long the previous cycle took;
    ``next_due`` is when the next cycle may begin (None while a cycle runs or when stopped).
    ``terminals`` are the terminals the carousel visits on; ``note`` says why it waits or cannot
    go on, if it does (e.g. the live terminal cannot be shared). ``stale_after_s`` is the setting by
    which an account's last snapshot counts as stale, so a dashboard marks the same rows the window does.
    """

    running: bool = False
    paused: bool = False
    cycle: int = 0
    cycle_started_at: datetime | None = None
    visited_in_cycle: int = 0
    accounts_in_cycle: int = 0
    current: tuple[tuple[str, int], ...] = ()
    last_cycle_s: float | None = None
    next_due: datetime | None = None
    errors_in_cycle: int = 0
    terminals: tuple[str, ...] = ()
    note: str = ""
    stale_after_s: float = 900.0

    @property
    def progress(self) -> float:
        """The share of the current cycle done, 0 … 1 (1 when the cycle has no accounts)."""
        if self.accounts_in_cycle <= 0:
            return 1.0
        return min(1.0, self.visited_in_cycle / self.accounts_in_cycle)
