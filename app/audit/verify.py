"""Recompute the chain over every segment and name the first entry that breaks it.

Each line must parse, be in canonical form, hash to its own ``hash``, carry the next sequence number
and point (``prev``) at the entry before it. The first line that does not is classified by looking at
its neighbours:

* ``edited``: its content no longer matches its hash (typically the next entry still points at it);
* ``deleted``: sequence numbers jump forward and the missing ones are nowhere ahead;
* ``reordered``: an entry appears before one it follows (found further ahead);
* ``inserted``: a line that is not part of the chain (the next line continues from the previous one),
  or a sequence number that goes backwards;
* ``chain_broken``: a well-formed entry whose ``prev`` is not the previous entry's hash (that one was
  rewritten and re-hashed, or this one forged);
* ``malformed``: not an entry at all;
* ``torn_tail``: the newest segment ends in an incomplete line — a crash during an append, not
  tampering. The next writer sets it aside (see :mod:`app.audit.recovery`).

Limits, as for any hash chain without an outside anchor: removing the newest entries, or appending
well-formed new ones, cannot be told from the files alone. Publishing the last hash (``audit verify``
prints it) somewhere else closes that gap.

Verification reads a snapshot: under the writers' lock it notes the segments and the newest one's size,
then reads without the lock, so a running app is held up for a moment only.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.audit.entry import GENESIS, AuditEntry, MalformedEntry, check_encoding, parse_line
from app.audit.errors import AuditLockTimeout
from app.audit.files import LOCK_FILE_NAME, Segment, list_segments, list_torn_files
from app.audit.lock import InterProcessLock
from app.audit.recovery import TORN_TAIL_ACTION

LOOKAHEAD = 512
SNAPSHOT_LOCK_TIMEOUT_S = 5.0


class Problem(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"
    CHAIN_BROKEN = "chain_broken"
    MALFORMED = "malformed"
    TORN_TAIL = "torn_tail"


@dataclass(frozen=True, slots=True)
class Finding:
    """The first bad line: what is wrong, where (segment file name, 1-based line) and which entry."""

    kind: Problem
    file: str
    line: int
    seq: int | None
    detail: str

    def describe(self) -> str:
        """``edited at audit-….jsonl line 7 (entry #7): …``."""
        which = f" (entry #{self.seq})" if self.seq is not None else ""
        return f"{self.kind.value.replace('_', ' ')} at {self.file} line {self.line}{which}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome: ``entries`` chained correctly before ``finding`` (None when the whole trail is good)."""

    entries: int
    files: int
    last_seq: int
    last_hash: str
    finding: Finding | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.finding is None

    @property
    def status(self) -> str:
        """``ok``, ``torn_tail`` (a crash, not tampering) or ``tampered``."""
        if self.finding is None:
            return "ok"
        return "torn_tail" if self.finding.kind is Problem.TORN_TAIL else "tampered"

    def summary(self) -> str:
        if self.finding is None:
            noun = "entry" if self.entries == 1 else "entries"
            files = "file" if self.files == 1 else "files"
            head = f", last #{self.last_seq} {self.last_hash}" if self.entries else ""
            return f"OK: {self.entries} {noun} in {self.files} {files}{head}"
        verified = f"{self.entries} entries verified before it"
        if self.status == "torn_tail":
            return (
                f"TORN TAIL: {self.finding.describe()} ({verified}). A crash interrupted that append; "
                "it is not tampering, and the next writer sets the bytes aside into a .torn file."
            )
        return f"BAD ENTRY: {self.finding.describe()} ({verified})"

    def to_json(self) -> dict[str, Any]:
        finding = self.finding
        return {
            "status": self.status,
            "ok": self.ok,
            "entries": self.entries,
            "files": self.files,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "finding": None
            if finding is None
            else {
                "kind": finding.kind.value,
                "file": finding.file,
                "line": finding.line,
                "seq": finding.seq,
                "detail": finding.detail,
            },
            "notes": list(self.notes),
            "summary": self.summary(),
        }


@dataclass(slots=True)
class _Line:
    file: str
    number: int
    raw: bytes
    entry: AuditEntry | None = None
    error: str | None = None
    torn: bool = False

    @property
    def where(self) -> str:
        return f"{self.file} line {self.number}"


def _read_lines(segments: list[Segment], last_size: int | None, notes: list[str]) -> Iterator[_Line]:
    for index, segment in enumerate(segments):
        is_last = index == len(segments) - 1
        limit = last_size if is_last else None
        with segment.path.open("rb") as handle:
            position, number = 0, 0
            while limit is None or position < limit:
                raw = handle.readline() if limit is None else handle.readline(limit - position)
                if not raw:
                    break
                position += len(raw)
                number += 1
                if not raw.endswith(b"\n"):
                    if is_last:
                        yield _Line(segment.name, number, raw, torn=True)
                    else:
                        yield _Line(segment.name, number, raw, error="incomplete line inside the trail")
                    break
                line = _Line(segment.name, number, raw[:-1])
                try:
                    line.entry = parse_line(line.raw)
                except MalformedEntry as exc:
                    line.error = str(exc)
                if number == 1 and line.entry is not None and line.entry.seq != segment.first_seq:
                    notes.append(
                        f"{segment.name} is named for #{segment.first_seq} but starts at #{line.entry.seq}"
                    )
                yield line


class _Stream:
    """Lines with lookahead, so a bad line can be judged by what follows it."""

    def __init__(self, lines: Iterator[_Line]) -> None:
        self._lines = lines
        self._ahead: deque[_Line] = deque()

    def __iter__(self) -> Iterator[_Line]:
        return self

    def __next__(self) -> _Line:
        return self._ahead.popleft() if self._ahead else next(self._lines)

    def peek(self, index: int) -> _Line | None:
        while len(self._ahead) <= index:
            try:
                self._ahead.append(next(self._lines))
            except StopIteration:
                return None
        return self._ahead[index]

    def peek_entry(self, index: int) -> AuditEntry | None:
        line = self.peek(index)
        return None if line is None else line.entry


@dataclass(slots=True)
class _Chain:
    seq: int = 1  # expected next sequence number
    prev: str = GENESIS  # expected prev
    count: int = 0
    last_where: str = "the start"
    last_prev: str | None = None  # the last good entry's own prev
    torn_records: dict[str, str] = field(default_factory=dict)  # saved_as -> sha256

    def continued_by(self, entry: AuditEntry | None) -> bool:
        return entry is not None and entry.seq == self.seq and entry.prev == self.prev


def _plural(count: int, word: str, words: str) -> str:
    return f"{count} {word if count == 1 else words}"


def _classify_jump(line: _Line, entry: AuditEntry, chain: _Chain, stream: _Stream) -> Finding:
    """The sequence jumps forward: an entry moved ahead of others, a line inserted, or entries deleted."""

    def found(kind: Problem, detail: str) -> Finding:
        return Finding(kind, line.file, line.number, entry.seq, detail)

    for index in range(LOOKAHEAD):
        ahead = stream.peek(index)
        if ahead is None:
            break
        if ahead.entry is not None and ahead.entry.seq == entry.seq - 1 and ahead.entry.hash == entry.prev:
            return found(
                Problem.REORDERED,
                f"#{entry.seq} is out of place: #{entry.seq - 1}, before it, comes later ({ahead.where})",
            )
    if chain.continued_by(stream.peek_entry(0)):
        return found(
            Problem.INSERTED, f"not part of the chain: the next line continues from {chain.last_where}"
        )
    missing = entry.seq - chain.seq
    span = f"#{chain.seq}" if missing == 1 else f"#{chain.seq}..#{entry.seq - 1}"
    return found(
        Problem.DELETED,
        f"{_plural(missing, 'entry', 'entries')} missing before it ({span}), after {chain.last_where}",
    )


def _classify(line: _Line, entry: AuditEntry, chain: _Chain, stream: _Stream) -> Finding:
    def found(kind: Problem, detail: str) -> Finding:
        return Finding(kind, line.file, line.number, entry.seq, detail)

    following = stream.peek_entry(0)
    hash_ok, canonical_ok = check_encoding(entry, line.raw)
    if not hash_ok:
        if following is not None and following.prev == entry.hash:
            return found(
                Problem.EDITED, "its content no longer matches its hash (the next entry still points to it)"
            )
        if chain.continued_by(following):
            return found(
                Problem.INSERTED, f"not part of the chain: the next line continues from {chain.last_where}"
            )
        return found(Problem.EDITED, "its content does not match its hash")
    if not canonical_ok:
        return found(
            Problem.EDITED, "the line was rewritten (not in canonical form) though its content hashes right"
        )
    if entry.seq > chain.seq:
        return _classify_jump(line, entry, chain, stream)
    if entry.seq == chain.seq - 1 and entry.prev == chain.last_prev:
        return found(
            Problem.INSERTED,
            f"a second #{entry.seq} chained like {chain.last_where}: one of the two was inserted",
        )
    if entry.seq < chain.seq:
        return found(
            Problem.INSERTED,
            f"sequence goes back to #{entry.seq} after #{chain.seq - 1}: a duplicated or inserted entry",
        )
    if chain.continued_by(following):
        return found(
            Problem.INSERTED, f"a second #{entry.seq}: the next line is the one that continues the chain"
        )
    return found(
        Problem.CHAIN_BROKEN,
        f"prev is not the hash of #{chain.seq - 1} ({chain.last_where}): "
        "that entry was rewritten after this one was written, or this one was forged",
    )


def _snapshot(directory: Path, notes: list[str]) -> tuple[list[Segment], int | None]:
    """The segments and the newest one's size, taken under the writers' lock when it can be had."""
    try:
        with InterProcessLock(directory / LOCK_FILE_NAME, SNAPSHOT_LOCK_TIMEOUT_S):
            segments = list_segments(directory)
            return segments, segments[-1].path.stat().st_size if segments else None
    except (AuditLockTimeout, OSError) as exc:  # busy, or a read-only copy (an auditor's)
        notes.append(f"read without the writers' lock ({exc}); an append in progress may look torn")
    segments = list_segments(directory)
    return segments, None


def _torn_file_notes(directory: Path, records: dict[str, str]) -> list[str]:
    notes = []
    for torn in list_torn_files(directory):
        name = torn.path.name
        if name not in records:
            notes.append(f"{name}: set aside after a crash but not yet recorded (the next writer records it)")
        elif hashlib.sha256(torn.path.read_bytes()).hexdigest() != records[name]:
            notes.append(f"{name}: its bytes differ from what its audit.torn_tail entry recorded")
    for name in records.keys() - {torn.path.name for torn in list_torn_files(directory)}:
        notes.append(f"{name}: recorded by an audit.torn_tail entry but missing")
    return notes


def verify_trail(directory: Path) -> VerifyReport:
    """Verify the trail in ``directory`` (``<data_dir>/audit``); a missing directory is an empty trail."""
    notes: list[str] = []
    if not directory.is_dir():
        return VerifyReport(0, 0, 0, GENESIS, notes=(f"no audit trail in {directory}",))
    segments, last_size = _snapshot(directory, notes)
    chain = _Chain()
    finding: Finding | None = None
    stream = _Stream(_read_lines(segments, last_size, notes))
    for line in stream:
        if line.torn:
            detail = (
                f"{_plural(len(line.raw), 'byte', 'bytes')} of an unfinished append after {chain.last_where}"
            )
            finding = Finding(Problem.TORN_TAIL, line.file, line.number, None, detail)
            break
        entry = line.entry
        if entry is None:
            finding = Finding(Problem.MALFORMED, line.file, line.number, None, line.error or "unreadable")
            break
        if chain.continued_by(entry) and check_encoding(entry, line.raw) == (True, True):
            chain.seq, chain.prev, chain.count = entry.seq + 1, entry.hash, chain.count + 1
            chain.last_where, chain.last_prev = f"#{entry.seq} ({line.where})", entry.prev
            if entry.action == TORN_TAIL_ACTION and isinstance(saved := entry.payload.get("saved_as"), str):
                chain.torn_records[saved] = str(entry.payload.get("sha256"))
                notes.append(f"entry #{entry.seq} records a torn tail set aside after a crash as {saved}")
            continue
        finding = _classify(line, entry, chain, stream)
        break
    if finding is None or finding.kind is Problem.TORN_TAIL:  # else records past the finding are unseen
        notes.extend(_torn_file_notes(directory, chain.torn_records))
    return VerifyReport(
        entries=chain.count,
        files=len(segments),
        last_seq=chain.seq - 1,
        last_hash=chain.prev,
        finding=finding,
        notes=tuple(notes),
    )
