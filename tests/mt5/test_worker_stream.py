"""The worker's tick stream resumes from the newest cursor: a reconnect never replays ticks."""

from __future__ import annotations

import pytest

import app.mt5.sim as sim
from app.mt5.protocol import TickCursor
from app.mt5.worker import Worker


def test_a_stale_cursor_from_the_app_does_not_rewind_the_stream() -> None:
    """The app's cursors lag by the tick messages still in the pipe when it re-sends them (a
    reconnect while ticks flow): the worker keeps its own, else those ticks would come twice."""
    worker = Worker(conn=None, mt5=sim)  # type: ignore[arg-type] - no call reaches the pipe here
    worker.stream.cursors = {"EURUSD": TickCursor(2_000, 1), "GBPUSD": TickCursor(1_000, 2)}

    resumed = worker.stream_set(
        ["EURUSD", "GBPUSD"], {"EURUSD": TickCursor(1_500, 4), "GBPUSD": TickCursor(1_000, 3)}, 0.01
    )

    assert resumed == {"EURUSD": TickCursor(2_000, 1), "GBPUSD": TickCursor(1_000, 3)}  # the newer each
    assert worker.stream.cursors == resumed


def test_a_new_worker_resumes_from_the_apps_cursor() -> None:
    worker = Worker(conn=None, mt5=sim)  # type: ignore[arg-type]
    assert worker.stream_set(["EURUSD"], {"EURUSD": TickCursor(1_500, 4)}, 0.01) == {
        "EURUSD": TickCursor(1_500, 4)
    }


async def test_a_call_whose_time_is_up_is_refused_at_once() -> None:
    """A carousel step that has spent its budget calls with ``timeout_s`` <= 0: not ready, at once."""
    from app.models import NotReadyError
    from app.mt5.client import TerminalClient
    from app.mt5.protocol import WorkerSpec

    client = TerminalClient(WorkerSpec("never-started", "sim"))  # not started: never ready
    for spent in (0.0, -1.5):
        with pytest.raises(NotReadyError, match="not ready"):
            await client.call("account", timeout_s=spent)
    assert await client.wait_ready(0) is False
