"""Where the trail lives on disk: segment files, their names, and how to read one's tail.

``<data_dir>/audit/`` holds the segments ``audit-<first seq, 12 digits>-<UTC date of that entry>.jsonl``
(names sort in chain order), the lock file ``.lock``, and any ``<segment>.<offset>.torn`` files: the
bytes of an incomplete last line found after a crash, set aside (see :mod:`app.audit.recovery`).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

AUDIT_DIR_NAME = "audit"
LOCK_FILE_NAME = ".lock"
TORN_SUFFIX = ".torn"
_SEGMENT = re.compile(r"^audit-(?P<seq>\d{12})-(?P<date>\d{8})\.jsonl$")
_TORN = re.compile(r"^(?P<segment>audit-\d{12}-\d{8}\.jsonl)\.(?P<offset>\d+)(?:-\d+)?\.torn$")
_TAIL_CHUNK = 64 * 1024


def audit_dir(data_dir: Path) -> Path:
    return data_dir / AUDIT_DIR_NAME


@dataclass(frozen=True, slots=True, order=True)
class Segment:
    """One file of the trail; ``first_seq`` is the sequence number of its first entry."""

    first_seq: int
    day: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def segment_name(first_seq: int, day: str) -> str:
    """``day`` is ``YYYYMMDD`` (UTC) of the first entry."""
    return f"audit-{first_seq:012d}-{day}.jsonl"


def list_segments(directory: Path) -> list[Segment]:
    """The trail's files in chain order (an absent directory is an empty trail)."""
    try:
        names = [path.name for path in directory.iterdir()]
    except FileNotFoundError:
        return []
    segments = []
    for name in names:
        if match := _SEGMENT.match(name):
            segments.append(Segment(int(match["seq"]), match["date"], directory / name))
    segments.sort()
    return segments


@dataclass(frozen=True, slots=True)
class TornFile:
    path: Path
    segment: str
    offset: int


def list_torn_files(directory: Path) -> list[TornFile]:
    try:
        names = sorted(path.name for path in directory.iterdir())
    except FileNotFoundError:
        return []
    return [
        TornFile(directory / name, match["segment"], int(match["offset"]))
        for name in names
        if (match := _TORN.match(name))
    ]


@dataclass(frozen=True, slots=True)
class Tail:
    """The end of a segment: its last complete line and whatever incomplete bytes follow it.

    ``end`` is the offset just past the last complete line (where a torn tail starts).
    """

    last_line: bytes | None
    last_line_offset: int
    end: int
    torn: bytes
    size: int


def read_tail(path: Path, size: int | None = None) -> Tail:
    """Find the last complete line of ``path`` (up to ``size`` bytes) reading backwards in chunks."""
    with path.open("rb") as handle:
        if size is None:
            size = os.fstat(handle.fileno()).st_size
        position = size
        buffer = b""
        newline_at: list[int] = []  # absolute offsets of the last two newlines
        while position > 0 and len(newline_at) < 2:
            start = max(0, position - _TAIL_CHUNK)
            handle.seek(start)
            chunk = handle.read(position - start)
            buffer = chunk + buffer
            position = start
            newline_at = [position + i for i, b in enumerate(buffer) if b == 0x0A][-2:]
    if not newline_at:
        return Tail(None, 0, 0, buffer, size)
    end = newline_at[-1] + 1
    line_start = newline_at[0] + 1 if len(newline_at) == 2 else 0
    last_line = buffer[line_start - position : end - 1 - position]
    return Tail(last_line, line_start, end, buffer[end - position :], size)


def fsync_dir(directory: Path) -> None:
    """Make a created, renamed or removed name durable (POSIX needs the directory synced too)."""
    if sys.platform == "win32":  # NTFS journals names; Windows cannot open a directory to fsync it
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
