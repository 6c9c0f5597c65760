"""The one way the window runs async work: keep a reference to every task, report every failure.

Widgets never call ``asyncio.create_task`` themselves. A fire-and-forget task can be garbage-collected
mid-flight and its exception is lost; here each task is held until done, its result goes to the
caller's callback (skipped if the widget that asked is gone), and its exception to ``on_error``
(the notification area and the Journal), so a failing terminal call is never a traceback dialog or a
silent no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject

log = logging.getLogger(__name__)

T = TypeVar("T")
ErrorHandler = Callable[[str, BaseException], None]


class TaskRunner:
    """Runs coroutines on the asyncio loop that shares the Qt thread (qasync)."""

    def __init__(self, on_error: ErrorHandler | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error
        self.closed = False

    def set_error_handler(self, on_error: ErrorHandler) -> None:
        self._on_error = on_error

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        what: str,
        owner: QObject | None = None,
        on_result: Callable[[T], object] | None = None,  # what it returns is ignored
        on_error: Callable[[BaseException], bool | None] | None = None,
    ) -> asyncio.Task[T] | None:
        """Start ``coro``. ``on_error`` may handle a failure itself (return True to stop it reaching
        the default handler); callbacks are skipped when ``owner`` has been deleted meanwhile.
        After :meth:`cancel_all` (the window is closing) nothing new starts: None is returned."""
        if self.closed:
            coro.close()
            return None
        task = asyncio.get_running_loop().create_task(coro, name=what)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what, owner, on_result, on_error))
        return task

    def _done(
        self,
        task: asyncio.Task[Any],
        what: str,
        owner: QObject | None,
        on_result: Callable[[Any], object] | None,
        on_error: Callable[[BaseException], bool | None] | None,
    ) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        alive = owner is None or shiboken6.isValid(owner)
        error = task.exception()
        try:
            if error is None:
                if on_result is not None and alive:
                    on_result(task.result())
                return
            handled = bool(on_error(error)) if on_error is not None and alive else False
            if not handled:
                self._report(what, error)
        except Exception as exc:  # noqa: BLE001 - a broken callback must not escape into Qt
            log.exception("callback of %s failed", what)
            self._report(what, exc)

    def _report(self, what: str, error: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(what, error)
        else:
            log.error("%s failed: %s", what, error)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        """Cancel what is still running (the window is closing), wait for it, start nothing new."""
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
