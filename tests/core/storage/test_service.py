"""The storage service opens the database at start, prunes the snapshot history on a timer, closes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import StorageSettings
from app.core.storage import DatabaseClosedError, StorageService, Tx
from app.core.times import utc_now
from app.models import NewAccount
from tests.support.factories import snapshot


async def test_start_prune_on_a_timer_and_stop(data_dir: Path) -> None:
    settings = StorageSettings(
        snapshot_keep_all_days=1,
        snapshot_thin_minutes=60,
        snapshot_retention_days=2,
        maintenance_interval_s=1,
    )
    service = StorageService(data_dir, settings)
    await service.start()
    try:
        assert (data_dir / "mt5-console.db").is_file()
        now = utc_now()

        def fill(tx: Tx) -> tuple[int, int]:
            account = tx.accounts.insert(NewAccount(1, "Demo"), now)
            for minutes in range(0, 4 * 24 * 60, 10):  # four days, every ten minutes
                tx.snapshots.add(account.id, snapshot(now - timedelta(minutes=minutes)))
            return account.id, tx.snapshots.count(account.id)

        account_id, before = await service.db.run(fill)
        for _ in range(50):  # the timer's next round prunes what was just written
            await asyncio.sleep(0.1)
            after = await service.db.run(lambda tx: tx.snapshots.count(account_id))
            if after < before:
                break
        assert before == 4 * 24 * 6
        oldest = (await service.db.run(lambda tx: tx.snapshots.history(account_id, limit=None)))[0]
        assert oldest.taken_at >= now - timedelta(days=2, minutes=1)
        assert after <= 24 * 6 + 1 + 24 + 1
    finally:
        await service.stop()
    assert service.name == "storage"
    with pytest.raises(DatabaseClosedError):
        await service.db.run(lambda tx: None)
