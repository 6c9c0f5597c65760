"""The terminal worker process: the only place a terminal is ever called.

The MetaTrader5 package keeps one connection per process, is not thread-safe, and holds the GIL for
the whole of a call (up to 60 s for a login). So each terminal gets a process of its own running
:func:`worker_main`: it answers :class:`~app.mt5.protocol.Call` messages one at a time and, between
calls, polls the tick stream it was asked for and pushes new ticks to the app. A call that arrives
while the stream is polled is answered before the next symbol's poll, not after all of them: an
order's checks wait for one symbol's fetch at most, not for the whole stream's.
"""

from __future__ import annotations

import importlib
import logging
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

from app.models import TickBatch
from app.mt5.protocol import Call, Failure, LogMessage, Reply, Stop, TickCursor, TicksMessage, WorkerSpec
from app.mt5.terminal_ops import Mt5CallFailed, TerminalOps

log = logging.getLogger("app.mt5.worker")

# Operations answered only between polls, never mid-poll: they change what the stream reads (its
# symbols and cursors, or the connection and account under it).
BETWEEN_POLLS = frozenset({"initialize", "login", "shutdown"})


class _ForwardToApp(logging.Handler):
    """Sends the worker's log records to the app, where they join the app's log (and Journal)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.conn.send(LogMessage(record.levelno, record.name, record.getMessage()))
        except Exception:  # noqa: BLE001, S110 - the pipe is gone: the app notices and restarts us
            pass


@dataclass
class TickStream:
    """What to stream: symbols with their cursors, and how often to poll."""

    cursors: dict[str, TickCursor] = field(default_factory=dict)
    interval_s: float = 0.01
    next_poll: float = 0.0
    paused: bool = False

    @property
    def active(self) -> bool:
        return bool(self.cursors) and not self.paused


class Worker:
    """Dispatches calls to :class:`TerminalOps` and runs the tick stream, in one thread."""

    def __init__(self, conn: Connection, mt5: ModuleType) -> None:
        self.conn = conn
        self.ops = TerminalOps(mt5)
        self.stream = TickStream()
        self.deferred: list[Call | Stop] = []  # arrived mid-poll and changes the stream: after the poll

    # ------------------------------------------------------------ stream control (called as ops)
    def stream_set(
        self, symbols: list[str], cursors: dict[str, TickCursor], interval_s: float
    ) -> dict[str, TickCursor]:
        """Stream ``symbols``; those with a cursor resume from it, others start after the newest tick.

        Where this worker already streams a symbol, its own cursor wins when it is ahead of the one
        given: the app's copy lags by the tick messages still in the pipe (a reconnect while ticks
        flow), and resuming from it would deliver those ticks twice."""
        self.stream.interval_s = interval_s
        fresh = {}
        for symbol in symbols:
            given, own = cursors.get(symbol), self.stream.cursors.get(symbol)
            if given is not None and own is not None:
                fresh[symbol] = max(given, own, key=lambda c: (c.time_msc, c.count_at_time))
            else:
                fresh[symbol] = given or own or self.ops.tick_cursor_now(symbol)
        self.stream.cursors = fresh
        self.stream.next_poll = 0.0
        return dict(fresh)

    def stream_pause(self, paused: bool) -> bool:
        self.stream.paused = paused
        return paused

    def poll_ticks(self) -> None:
        batches: list[TickBatch] = []
        for symbol, cursor in list(self.stream.cursors.items()):
            self.answer_waiting_calls()
            try:
                batch, self.stream.cursors[symbol] = self.ops.ticks_since(symbol, cursor)
            except Mt5CallFailed as exc:
                log.debug("tick poll of %s failed: %s", symbol, exc)
                continue
            if len(batch):
                batches.append(batch)
        if batches:
            self.conn.send(TicksMessage(tuple(batches), dict(self.stream.cursors), time.time()))

    def answer_waiting_calls(self) -> None:
        """Mid-poll: answer the calls already waiting. One that would change the stream (or a stop) is
        kept for after the poll, and every call after it too (in order), so the poll finishes on the
        connection and cursors it started with."""
        while not self.deferred and self.conn.poll(0):
            message = self.conn.recv()
            if isinstance(message, Stop) or message.op.startswith("stream_") or message.op in BETWEEN_POLLS:
                self.deferred.append(message)
            else:
                self.conn.send(self.handle(message))

    # ------------------------------------------------------------ calls
    def handle(self, call: Call) -> Reply:
        started = time.perf_counter()
        target: Any = getattr(self, call.op, None) if call.op.startswith("stream_") else None
        if target is None and not call.op.startswith("_"):
            target = getattr(self.ops, call.op, None)
        if target is None:
            failure = Failure("unknown_op", call.op, None, f"no such terminal operation: {call.op}")
            return Reply(call.request_id, False, failure=failure)
        try:
            value = target(*call.args, **call.kwargs)
        except Mt5CallFailed as exc:
            return Reply(call.request_id, False, failure=exc.failure, elapsed_s=time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, the worker lives on
            log.exception("terminal operation %s raised", call.op)
            failure = Failure("exception", call.op, None, f"{type(exc).__name__}: {exc}")
            return Reply(call.request_id, False, failure=failure, elapsed_s=time.perf_counter() - started)
        return Reply(call.request_id, True, value, elapsed_s=time.perf_counter() - started)

    def run(self) -> None:
        while True:
            timeout = None
            if self.stream.active:
                timeout = max(0.0, self.stream.next_poll - time.monotonic())
            if self.deferred or self.conn.poll(timeout):
                message = self.deferred.pop(0) if self.deferred else self.conn.recv()
                if isinstance(message, Stop):
                    return
                self.conn.send(self.handle(message))
            elif self.stream.active:
                self.stream.next_poll = time.monotonic() + self.stream.interval_s
                self.poll_ticks()


def load_terminal_module(spec: WorkerSpec) -> ModuleType:
    """The module the spec names; else the real MetaTrader5 package for a real terminal, or the sim."""
    default = "MetaTrader5" if spec.kind == "real" else "app.mt5.sim"
    return importlib.import_module(spec.module or default)


def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """Entry point of the worker process."""
    # Ctrl+C in a console reaches the whole process group; the app stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = logging.getLogger()
    root.handlers[:] = [_ForwardToApp(conn)]
    root.setLevel(spec.log_level)
    mt5 = load_terminal_module(spec)
    worker = Worker(conn, mt5)
    log.debug("worker for terminal %s started", spec.terminal_id)
    try:
        worker.run()
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the app went away or asked us to stop
    finally:
        try:
            mt5.shutdown()
        except Exception:  # noqa: BLE001, S110 - best effort on the way out
            pass
