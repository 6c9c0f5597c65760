"""Service calls from a view: coroutines run as tasks on the asyncio loop that shares the Qt thread
(qasync), never awaited on the GUI thread.

Each task is held until it is done (a task nobody holds may be collected mid-flight); its result goes
to the view's callback — skipped if the view was deleted meanwhile — and a failure becomes one line
on the ``failed`` signal (the view shows it beside its table; the window may also toast it), never a
traceback dialog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from app.models import TerminalError

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """One line a trader can read."""
    if isinstance(error, TerminalError):
        return error.message
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


class ServiceCalls(QObject):
    """Runs a view's service calls; ``failed(what, message)`` reports a failure."""

    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()

    def run[T](
        self,
        coro: Coroutine[Any, Any, T],
        *,
        what: str,
        on_result: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], bool | None] | None = None,
    ) -> asyncio.Task[T] | None:
        """Start ``coro``. ``on_error`` may handle a failure itself (return True: not reported)."""
        try:
            task = asyncio.get_running_loop().create_task(coro, name=what)
        except RuntimeError as exc:  # no loop: not in the app, nothing can run
            coro.close()
            self.failed.emit(what, f"cannot run now: {exc}")
            return None
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._done(done, what, on_result, on_error))
        return task

    def _done(
        self,
        task: asyncio.Task[Any],
        what: str,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], bool | None] | None,
    ) -> None:
        self._tasks.discard(task)
        if task.cancelled() or not shiboken6.isValid(self):
            if not task.cancelled():
                task.exception()  # retrieved: nobody is left to show it
            return
        error = task.exception()
        try:
            if error is None:
                if on_result is not None:
                    on_result(task.result())
                return
            if on_error is not None and on_error(error):
                return
            log.warning("%s failed: %s", what, describe_error(error))
            self.failed.emit(what, describe_error(error))
        except Exception as exc:  # noqa: BLE001 - a broken callback must not escape into Qt
            log.exception("the callback of %s failed", what)
            self.failed.emit(what, describe_error(exc))

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
