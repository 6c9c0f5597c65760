"""The audit trail as the app uses it: one writer thread, an async API and a sync API.

The GUI thread runs the asyncio loop, so nothing may wait on the disk there. ``await trail.append(...)``
hands the entry to the trail's one writer thread (one thread keeps the order) and resolves once the entry
is written *and fsynced*. The thread commits whatever has queued up meanwhile with one fsync (group
commit), so many concurrent appends cost about one disk flush, each still acknowledged only once it is
durable. ``append_sync`` is the same for the CLI, scripts and tests (never call it on the event loop).

A caller that is cancelled while awaiting does not withdraw the entry: it is written anyway (an intent
whose caller went away is still a fact). Any exception from an append means the entry is not known to
be on disk, and a trading action must not go ahead.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.audit.canonical import canonical_json
from app.audit.entry import AuditEntry, check_account, check_action, check_actor
from app.audit.errors import AuditError, AuditWriteError
from app.audit.files import audit_dir
from app.audit.payload import to_json_value
from app.audit.secrets import guard_payload
from app.audit.writer import ChainWriter, Clock, Draft, Fsync, full_fsync, utc_now

if TYPE_CHECKING:
    from app.config import AuditSettings

log = logging.getLogger(__name__)

MAX_ENTRY_BYTES = 1024 * 1024
MAX_BATCH = 512
_STOP = object()


def make_draft(actor: str, action: str, account: str | None, payload: Mapping[str, Any] | None) -> Draft:
    """Check and clean an entry in the caller's thread, so a bad one fails alone, never a whole batch."""
    check_actor(actor)
    check_action(action)
    check_account(account)
    try:
        data = to_json_value(dict(payload or {}))
        cleaned = guard_payload(data)
        payload_json = canonical_json(cleaned)
        size = len(payload_json.encode("utf-8"))
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise AuditError(f"{action}: payload cannot be recorded: {exc}") from None
    if size > MAX_ENTRY_BYTES:
        raise AuditError(f"{action}: payload of {size} bytes exceeds {MAX_ENTRY_BYTES}")
    return Draft(actor, action, account, cleaned, payload_json)


def _written(entry: AuditEntry | None) -> AuditEntry:
    if entry is None:  # pragma: no cover - only catch-up jobs resolve to None, and they are internal
        raise AuditWriteError("no entry was written")
    return entry


class _Job:
    __slots__ = ("draft", "future")

    def __init__(self, draft: Draft | None) -> None:
        self.draft = draft  # None: just catch up with the files (recovery at open)
        self.future: Future[AuditEntry | None] = Future()


class AuditTrail:
    """The append side of the trail in ``directory`` (``<data_dir>/audit``).

    ``open()`` starts the writer thread and catches up with the files (recording a torn tail left by a
    crash); ``close()`` writes what is queued and stops it. As a runtime service: ``start``/``stop``.
    """

    name = "audit"

    def __init__(
        self,
        directory: Path,
        *,
        rotate_max_bytes: int = 0,
        rotate_daily: bool = False,
        lock_timeout_s: float = 10.0,
        max_pending: int = 10_000,
        clock: Clock = utc_now,
        fsync: Fsync = full_fsync,
    ) -> None:
        self.directory = directory
        self.max_pending = max_pending
        self._writer = ChainWriter(
            directory,
            rotate_max_bytes=rotate_max_bytes,
            rotate_daily=rotate_daily,
            lock_timeout_s=lock_timeout_s,
            clock=clock,
            fsync=fsync,
        )
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._pending = 0
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.problem: str | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path, settings: AuditSettings | None = None) -> AuditTrail:
        """The trail under ``<data_dir>/audit`` configured by the ``[audit]`` settings."""
        if settings is None:
            return cls(audit_dir(data_dir))
        return cls(
            audit_dir(data_dir),
            rotate_max_bytes=settings.rotate_max_bytes,
            rotate_daily=settings.rotate_daily,
            lock_timeout_s=settings.lock_timeout_s,
            max_pending=settings.max_pending,
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    def open(self) -> None:
        """Start the writer thread and catch up with the files.

        A trail that cannot be caught up with (an unreadable last entry, a lock held elsewhere) does not
        stop the app from starting: the reason is logged and kept in :attr:`problem`, and every append
        fails with it until it is fixed.
        """
        with self._guard:
            if self._thread is not None:
                raise RuntimeError("audit trail already open")
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()
        try:
            self._submit(None).result()
        except AuditError as exc:
            self.problem = str(exc)
            log.error("audit trail not writable: %s", exc)

    def close(self) -> None:
        """Write everything queued, then stop the writer thread. Idempotent."""
        with self._guard:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._closed = True
            self._queue.put(_STOP)
        thread.join()
        self._writer.close()

    async def start(self) -> None:
        await asyncio.to_thread(self.open)

    async def stop(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> AuditTrail:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- appending -------------------------------------------------------------------------------------

    def _submit(self, draft: Draft | None) -> Future[AuditEntry | None]:
        job = _Job(draft)
        with self._guard:
            if self._thread is None or self._closed:
                raise AuditWriteError("audit trail is not open")
            if self._pending >= self.max_pending:
                raise AuditWriteError(f"audit writer is {self._pending} entries behind; refusing more")
            self._pending += 1
            self._queue.put(job)
        return job.future

    def submit(
        self,
        actor: str,
        action: str,
        *,
        account: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Future[AuditEntry | None]:
        """Queue an entry; the future resolves to it once it is on disk (for callers with their own loop)."""
        return self._submit(make_draft(actor, action, account, payload))

    def append_sync(
        self,
        actor: str,
        action: str,
        *,
        account: str | None = None,
        payload: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> AuditEntry:
        """Record an entry and return it once it is written and fsynced (blocks: not on the event loop)."""
        return _written(self.submit(actor, action, account=account, payload=payload).result(timeout))

    async def append(
        self,
        actor: str,
        action: str,
        *,
        account: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Record an entry; resolves once it is written and fsynced, without blocking the event loop."""
        wrapped = asyncio.wrap_future(self.submit(actor, action, account=account, payload=payload))
        # If our caller is cancelled the entry is still written; retrieve its outcome so none is "lost".
        wrapped.add_done_callback(lambda f: f.cancelled() or f.exception())
        return _written(await asyncio.shield(wrapped))

    # -- the writer thread -----------------------------------------------------------------------------

    def _take_batch(self, first: _Job) -> tuple[list[_Job], bool]:
        batch, stop = [first], False
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, _Job):  # _STOP
                stop = True
                break
            batch.append(item)
        return batch, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if not isinstance(item, _Job):  # _STOP
                break
            batch, stop = self._take_batch(item)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        drafts = [job.draft for job in batch if job.draft is not None]
        try:
            entries = self._writer.write(drafts)
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about it, whatever it is
            error = exc if isinstance(exc, AuditError) else AuditWriteError(f"audit write failed: {exc}")
            if error is not exc:
                error.__cause__ = exc
            self.problem = str(error)
            log.error("audit append failed: %s", error)
            results: list[tuple[_Job, AuditEntry | None, BaseException | None]] = [
                (job, None, error) for job in batch
            ]
        else:
            self.problem = None
            produced = iter(entries)
            results = [(job, None if job.draft is None else next(produced), None) for job in batch]
        with self._guard:
            self._pending -= len(batch)
        for job, entry, failure in results:
            try:
                if failure is None:
                    job.future.set_result(entry)
                    continue
                own = type(failure)(str(failure))  # one instance per waiter: each raise adds its traceback
                own.__cause__ = failure.__cause__
                job.future.set_exception(own)
            except InvalidStateError:  # its waiter cancelled the future: the entry is written regardless
                pass
