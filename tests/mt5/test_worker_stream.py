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


class _Pipe:
    """The worker's end of its pipe: messages the app "sends" while the worker is busy, and what the
    worker sent back, in order."""

    def __init__(self) -> None:
        self.incoming: list[object] = []
        self.sent: list[object] = []

    def poll(self, timeout: float | None = 0) -> bool:
        return bool(self.incoming)

    def recv(self) -> object:
        return self.incoming.pop(0)

    def send(self, message: object) -> None:
        self.sent.append(message)


def test_a_call_arriving_mid_poll_is_answered_before_the_next_symbols_fetch() -> None:
    """An order's checks wait for one symbol's fetch at most, not for the whole stream's: the poll
    answers waiting calls between symbols. A call that changes the stream (or the connection under it)
    waits for the poll's end, and so does every call after it, in order."""
    from app.models import TickBatch
    from app.mt5.protocol import Call, Reply, Stop, TicksMessage

    pipe = _Pipe()
    worker = Worker(conn=pipe, mt5=sim)  # type: ignore[arg-type] - the fake pipe has what it uses
    worker.stream.cursors = {s: TickCursor(1_000, 1) for s in ("EURUSD", "GBPUSD", "USDJPY")}
    story: list[str] = []
    arrivals = {
        "EURUSD": [Call(1, "pid")],  # sent while EURUSD is fetched: answered before GBPUSD's fetch
        "GBPUSD": [Call(2, "stream_pause", (True,)), Call(3, "pid"), Stop()],  # kept for after the poll
    }

    def ticks_since(symbol: str, cursor: TickCursor) -> tuple[TickBatch, TickCursor]:
        story.append(f"fetch {symbol}")
        pipe.incoming += arrivals.get(symbol, [])
        return TickBatch.empty(symbol), cursor

    def pid() -> int:
        story.append("call pid")
        return 42

    worker.ops.ticks_since = ticks_since  # type: ignore[method-assign]
    worker.ops.pid = pid  # type: ignore[method-assign]

    worker.poll_ticks()

    assert story == ["fetch EURUSD", "call pid", "fetch GBPUSD", "fetch USDJPY"]
    assert [m.request_id for m in pipe.sent if isinstance(m, Reply)] == [1]
    assert not worker.stream.paused  # the pause came mid-poll: not yet taken
    worker.run()  # the deferred pause, then the call after it, then the stop: in the order sent
    assert worker.stream.paused
    assert [m.request_id for m in pipe.sent if isinstance(m, Reply)] == [1, 2, 3]
    assert story[-1] == "call pid" and not pipe.incoming
    assert not [m for m in pipe.sent if isinstance(m, TicksMessage)]  # no ticks: nothing sent for them
