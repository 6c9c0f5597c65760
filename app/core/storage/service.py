"""The database as a runtime service: opened at start, pruned now and then, closed at stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from app.config import StorageSettings
from app.core.storage.database import Database, database_target
from app.core.storage.snapshots import PruneResult, RetentionPolicy
from app.core.times import utc_now

log = logging.getLogger(__name__)


class StorageService:
    """Owns the app's :class:`Database` for one run (``Runtime.add(StorageService(...))``): the SQLite
    file in ``data_dir``, or the PostgreSQL database of ``settings.url``.

    Every ``maintenance_interval_s`` it applies the snapshot retention policy, so a long-running app
    keeps a bounded history.
    """

    name = "storage"

    def __init__(self, data_dir: Path, settings: StorageSettings) -> None:
        self.db = Database(database_target(data_dir, settings))
        self.policy = RetentionPolicy.from_settings(settings)
        self._interval_s = settings.maintenance_interval_s
        self._maintenance: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.db.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="storage-maintenance")

    async def stop(self) -> None:
        task, self._maintenance = self._maintenance, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.db.stop()

    async def prune(self) -> PruneResult:
        """Apply the retention policy now."""
        now = utc_now()
        result = await self.db.run(lambda tx: tx.snapshots.prune(now, self.policy))
        if result.thinned or result.expired:
            log.info("snapshot history: %d thinned, %d expired", result.thinned, result.expired)
        return result

    async def _maintain(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("snapshot pruning failed; will try again")
            await asyncio.sleep(self._interval_s)
