"""The synchronous chain writer: lock, catch up with the files, append, fsync, unlock.

Owned by one thread (the trail's writer thread); not thread-safe itself. Every batch runs under the
inter-process lock and starts by checking that the newest segment is still exactly as this writer
left it (same file, same size). If another process appended or rotated meanwhile, or a crash left an
incomplete line, the writer re-reads the tail first, so all processes extend one chain and nothing is
chained onto half an entry (see :mod:`app.audit.recovery`).

If a write or fsync fails, the in-memory state is dropped and the next batch re-reads the files: what
reached the disk is then either a complete entry (kept, although its caller was told it failed: the
trail may hold more than was acknowledged, never less) or a torn tail (set aside).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit.entry import GENESIS, AuditEntry, MalformedEntry, format_time, parse_line, seal
from app.audit.errors import AuditCorruptError
from app.audit.files import LOCK_FILE_NAME, Segment, fsync_dir, list_segments, read_tail, segment_name
from app.audit.lock import InterProcessLock
from app.audit.recovery import SYSTEM_ACTOR, TORN_TAIL_ACTION, record_payload, set_aside, unrecorded

Clock = Callable[[], datetime]
Fsync = Callable[[int], None]

_O_APPEND = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)


def full_fsync(fd: int) -> None:
    """fsync that reaches the platter: macOS's fsync stops at the drive cache unless F_FULLFSYNC."""
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:
            pass
    os.fsync(fd)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before it has a place in the chain (checked and cleaned by the caller's thread)."""

    actor: str
    action: str
    account: str | None
    payload: dict[str, Any]
    payload_json: str | None = None  # canonical_json(payload), when already computed


@dataclass(slots=True)
class _Head:
    """Where the chain ends: the newest segment, its size as this writer left it, the last entry."""

    segment: Segment | None
    size: int
    seq: int
    hash: str


class ChainWriter:
    """Appends drafts to the trail in ``directory``; see the module docstring for the protocol."""

    def __init__(
        self,
        directory: Path,
        *,
        rotate_max_bytes: int = 0,
        rotate_daily: bool = False,
        lock_timeout_s: float = 10.0,
        clock: Clock = utc_now,
        fsync: Fsync = full_fsync,
    ) -> None:
        self.directory = directory
        self.rotate_max_bytes = rotate_max_bytes
        self.rotate_daily = rotate_daily
        self._lock = InterProcessLock(directory / LOCK_FILE_NAME, lock_timeout_s)
        self._clock = clock
        self._fsync = fsync
        self._head: _Head | None = None
        self._fd: int | None = None

    @property
    def last(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last entry this writer knows of (None before the first batch)."""
        return None if self._head is None else (self._head.seq, self._head.hash)

    def write(self, drafts: Sequence[Draft]) -> list[AuditEntry]:
        """Append ``drafts`` in order, durably; returns their entries (after any recovery entries)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock:
            try:
                head, records = self._catch_up()
                written = self._append(head, [*records, *drafts])
            except BaseException:
                self._forget()
                raise
        return written[len(records) :]

    def close(self) -> None:
        self._forget()

    # -- catching up with the files ------------------------------------------------------------------

    def _forget(self) -> None:
        self._head = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _catch_up(self) -> tuple[_Head, list[Draft]]:
        """The chain's end as it is on disk now, and the recovery entries owed (see recovery)."""
        segments = list_segments(self.directory)
        head = self._head
        if head is not None:
            newest = segments[-1] if segments else None
            if newest == head.segment and (newest is None or newest.path.stat().st_size == head.size):
                return head, []
        self._forget()
        head = self._read_head(segments)
        records = [
            Draft(SYSTEM_ACTOR, TORN_TAIL_ACTION, None, record_payload(t)) for t in unrecorded(segments)
        ]
        return head, records

    def _read_head(self, segments: list[Segment]) -> _Head:
        if not segments:
            return _Head(None, 0, 0, GENESIS)
        newest = segments[-1]
        tail = read_tail(newest.path)
        if tail.torn:
            set_aside(newest.path, tail)
        for segment in reversed(segments):
            line = tail.last_line if segment is newest else read_tail(segment.path).last_line
            if line is None:
                continue
            try:
                last = parse_line(line)
            except MalformedEntry as exc:
                raise AuditCorruptError(
                    f"the last entry of {segment.name} is unreadable ({exc}); "
                    "nothing can be chained onto it: run `mt5-console audit verify`"
                ) from None
            return _Head(newest, tail.end, last.seq, last.hash)
        return _Head(newest, tail.end, 0, GENESIS)

    # -- appending -------------------------------------------------------------------------------------

    def _needs_new_segment(self, head: _Head, seq: int, day: str, length: int) -> bool:
        segment = head.segment
        if segment is None:
            return True
        if head.size == 0:
            return segment.first_seq != seq or (self.rotate_daily and segment.day != day)
        if self.rotate_daily and segment.day != day:
            return True
        return self.rotate_max_bytes > 0 and head.size + length > self.rotate_max_bytes

    def _open_segment(self, head: _Head, seq: int, day: str) -> None:
        path = self.directory / segment_name(seq, day)
        fd = os.open(path, _O_APPEND | os.O_CREAT, 0o600)  # private, whatever the umask
        fsync_dir(self.directory)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        head.segment = Segment(seq, day, path)
        head.size = os.fstat(fd).st_size

    def _flush(self, data: bytearray) -> None:
        if not data:
            return
        if self._fd is None:
            raise RuntimeError("no segment open")
        with memoryview(data) as whole:
            view = whole
            while view:
                view = view[os.write(self._fd, view) :]
            view.release()
        self._fsync(self._fd)
        data.clear()

    def _append(self, head: _Head, drafts: Sequence[Draft]) -> list[AuditEntry]:
        if head.segment is not None and self._fd is None:
            self._fd = os.open(head.segment.path, _O_APPEND)
        pending = bytearray()
        written: list[AuditEntry] = []
        for draft in drafts:
            moment = self._clock()
            entry = seal(
                seq=head.seq + 1,
                time=format_time(moment),
                actor=draft.actor,
                action=draft.action,
                account=draft.account,
                payload=draft.payload,
                prev=head.hash,
                payload_json=draft.payload_json,
            )
            line = entry.to_line(draft.payload_json)
            day = entry.time[:10].replace("-", "")
            if self._needs_new_segment(head, entry.seq, day, len(line)):
                self._flush(pending)
                self._open_segment(head, entry.seq, day)
            pending += line
            head.size += len(line)
            head.seq, head.hash = entry.seq, entry.hash
            written.append(entry)
        self._flush(pending)
        self._head = head
        return written
