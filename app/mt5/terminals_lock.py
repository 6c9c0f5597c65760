"""Real MetaTrader 5 terminals answer to one process at a time: who drives a data dir's terminals."""

from __future__ import annotations

from pathlib import Path

from app.oslock import OsLock

TERMINALS_LOCK_FILE = "terminals.lock"


class TerminalsLock:
    """The app holds ``<data dir>/terminals.lock`` while it drives the terminals, and ``accounts
    sync`` refuses to drive them meanwhile (it would log the app's terminals in to other accounts).
    A runtime service."""

    name = "terminals-lock"

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TERMINALS_LOCK_FILE
        self._lock = OsLock(self.path)

    async def start(self) -> None:
        if not self._lock.try_acquire():
            raise RuntimeError(
                f"another mt5-console process drives the terminals of this data dir ({self.path.parent}); "
                "stop it first"
            )

    async def stop(self) -> None:
        self._lock.release()
