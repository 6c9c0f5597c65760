"""The writer thread: async appends never block the loop, resolve only after fsync, keep their order."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from app.audit import AuditError, AuditLockTimeout, AuditReader, AuditTrail, AuditWriteError, verify_trail
from app.audit.files import LOCK_FILE_NAME
from app.audit.lock import InterProcessLock


class SlowFsync:
    """Counts fsyncs and makes each take ``delay`` seconds (a slow disk); can be made to fail once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0
        self.fail_next = False
        self.gate: threading.Event | None = None

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise OSError(5, "Input/output error")


async def test_an_append_does_not_block_the_event_loop(trail_dir: Path) -> None:
    trail = AuditTrail(trail_dir, fsync=SlowFsync(0.3))
    await trail.start()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    entry = await trail.append("gui", "order.intent", payload={"client_id": "c1"})
    elapsed = time.monotonic() - started
    task.cancel()
    await trail.stop()
    assert elapsed >= 0.3  # it waited for the (slow) fsync ...
    assert len(ticks) >= 20  # ... while the loop kept running
    assert max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) < 0.15
    assert entry.seq == 1


async def test_concurrent_appends_share_fsyncs_and_keep_their_order(trail_dir: Path) -> None:
    fsync = SlowFsync(0.02)
    trail = AuditTrail(trail_dir, fsync=fsync)
    await trail.start()
    entries = await asyncio.gather(
        *(trail.append("api:bob", "api.login", payload={"n": n}) for n in range(100))
    )
    await trail.stop()
    assert [e.payload["n"] for e in entries] == list(range(100))
    assert [e.seq for e in entries] == list(range(1, 101))
    assert fsync.calls < 40  # group commit: one fsync covers all that queued meanwhile
    assert verify_trail(trail_dir).entries == 100


def test_each_append_is_on_disk_when_it_returns(trail_dir: Path) -> None:
    with AuditTrail(trail_dir) as trail:
        for n in range(5):
            entry = trail.append_sync("cli", "account.add", account=f"{n}@X", payload={"n": n})
            on_disk = list(AuditReader(trail_dir).lines())
            assert on_disk[-1][0] == entry


async def test_a_cancelled_caller_does_not_withdraw_its_entry(trail_dir: Path) -> None:
    fsync = SlowFsync()
    fsync.gate = threading.Event()
    trail = AuditTrail(trail_dir, fsync=fsync)
    await trail.start()
    fsync.calls = 0
    task = asyncio.create_task(trail.append("gui", "order.intent", payload={"client_id": "c9"}))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    fsync.gate.set()
    await trail.stop()
    assert [e.payload for e, _ in AuditReader(trail_dir).lines()] == [{"client_id": "c9"}]


def test_a_bad_entry_fails_alone_in_the_callers_thread(trail_dir: Path) -> None:
    with AuditTrail(trail_dir) as trail:
        with pytest.raises(AuditError, match="invalid audit action"):
            trail.append_sync("gui", "Order Intent")
        with pytest.raises(AuditError, match="invalid audit actor"):
            trail.append_sync("", "order.intent")
        with pytest.raises(AuditError, match="exceeds"):
            trail.append_sync("gui", "order.intent", payload={"blob": "x" * 2_000_000})
        assert trail.append_sync("gui", "order.intent").seq == 1


def test_a_closed_trail_refuses(trail_dir: Path) -> None:
    trail = AuditTrail(trail_dir)
    with pytest.raises(AuditWriteError, match="not open"):
        trail.append_sync("gui", "order.intent")
    trail.open()
    trail.close()
    trail.close()
    with pytest.raises(AuditWriteError, match="not open"):
        trail.append_sync("gui", "order.intent")


def test_a_writer_far_behind_refuses_instead_of_buffering(trail_dir: Path) -> None:
    fsync = SlowFsync()
    trail = AuditTrail(trail_dir, fsync=fsync, max_pending=3)
    trail.open()
    fsync.gate = threading.Event()
    futures = [trail.submit("gui", "order.intent", payload={"n": n}) for n in range(3)]
    with pytest.raises(AuditWriteError, match="behind"):
        trail.submit("gui", "order.intent")
    fsync.gate.set()
    assert [getattr(f.result(5), "seq", None) for f in futures] == [1, 2, 3]
    trail.close()


def test_a_failed_fsync_is_an_error_and_the_trail_carries_on(trail_dir: Path) -> None:
    fsync = SlowFsync()
    with AuditTrail(trail_dir, fsync=fsync) as trail:
        trail.append_sync("gui", "order.intent", payload={"n": 0})
        fsync.fail_next = True
        with pytest.raises(AuditWriteError, match="Input/output error"):
            trail.append_sync("gui", "order.intent", payload={"n": 1})
        assert trail.problem is not None
        entry = trail.append_sync("gui", "order.intent", payload={"n": 2})
        assert trail.problem is None
    # The failed entry reached the page cache, so it is there: more than acknowledged, never less.
    assert [e.payload["n"] for e, _ in AuditReader(trail_dir).lines()] == [0, 1, 2]
    assert entry.seq == 3 and verify_trail(trail_dir).ok


def test_two_trails_in_one_process_keep_one_chain(trail_dir: Path) -> None:
    with AuditTrail(trail_dir) as first, AuditTrail(trail_dir) as second:
        for n in range(20):
            (first if n % 3 else second).append_sync("gui", "order.intent", payload={"n": n})
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 20


def test_a_lock_held_too_long_elsewhere_is_a_timeout(trail_dir: Path) -> None:
    trail_dir.mkdir(parents=True)
    with InterProcessLock(trail_dir / LOCK_FILE_NAME), AuditTrail(trail_dir, lock_timeout_s=0.2) as trail:
        assert trail.problem is not None and "locked" in trail.problem
        with pytest.raises(AuditLockTimeout):
            trail.append_sync("gui", "order.intent")
    with AuditTrail(trail_dir) as trail:
        assert trail.append_sync("gui", "order.intent").seq == 1
