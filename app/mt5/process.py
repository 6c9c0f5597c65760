"""A worker process and the two threads that bridge its pipe to the app's event loop.

Reading: one thread blocks on the pipe and hands each message to the loop with
``call_soon_threadsafe`` (works on every platform and every loop, qasync included). Writing: one
thread drains a queue into the pipe, so the loop never blocks on a full pipe to a hung worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable
from typing import Any

from app.mt5.protocol import Stop, WorkerSpec
from app.mt5.worker import worker_main

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")  # never fork a process that may run Qt threads


class WorkerProcess:
    """One spawned worker. ``on_message(msg)`` and ``on_exit()`` are called on the loop's thread."""

    def __init__(
        self,
        spec: WorkerSpec,
        loop: asyncio.AbstractEventLoop,
        on_message: Callable[[Any], None],
        on_exit: Callable[[], None],
    ) -> None:
        self.spec = spec
        self._loop = loop
        self._on_message = on_message
        self._on_exit = on_exit
        parent, child = _SPAWN.Pipe(duplex=True)
        self._conn = parent
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.process = _SPAWN.Process(
            target=worker_main, args=(child, spec), name=f"mt5-worker-{spec.terminal_id}", daemon=True
        )
        self.process.start()
        child.close()
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"{self.process.name}-reader", daemon=True)
        self._writer = threading.Thread(target=self._write, name=f"{self.process.name}-writer", daemon=True)
        self._reader.start()
        self._writer.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, message: Any) -> None:
        self._outbox.put(message)

    def _write(self) -> None:
        while True:
            message = self._outbox.get()
            if message is None:
                return
            try:
                self._conn.send(message)
            except (OSError, ValueError, BrokenPipeError):
                return

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError, ValueError):
                break
            except Exception:  # noqa: BLE001 - an unpicklable message must not kill the bridge
                log.exception("unreadable message from worker %s", self.spec.terminal_id)
                continue
            self._deliver(self._on_message, message)
        if not self._closed.is_set():
            self._deliver(self._on_exit)

    def _deliver(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the app is gone
            pass

    def kill(self) -> None:
        """End the process at once (SIGKILL / TerminateProcess): for a hung or unwanted worker."""
        self._closed.set()
        if self.process.is_alive():
            self.process.kill()
        self._finish()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to shut its terminal down and exit; kill it if it does not (blocking)."""
        self._closed.set()
        self.send(Stop())
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
        self._finish()

    def _finish(self) -> None:
        self.process.join(5)
        self._outbox.put(None)
        try:
            self._conn.close()
        except OSError:
            pass
        self._writer.join(1)
        self._reader.join(1)
