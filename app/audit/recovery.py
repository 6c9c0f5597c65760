"""After a crash: set an incomplete last line aside instead of chaining onto it or dropping it.

A crash (or power loss) during an append can leave the newest segment ending in bytes without a newline:
an entry that was never acknowledged (its ``append`` had not returned). The next writer, holding the
lock and before writing anything:

1. copies those bytes to ``<segment>.<offset>.torn`` beside it and fsyncs it;
2. truncates the segment back to its last complete line and fsyncs it;
3. appends an ``audit.torn_tail`` entry (actor ``system``) naming the file, offset, length and SHA-256
   of the bytes set aside.

Each step is safe to repeat: a crash between 1 and 2 finds the same torn bytes again (and rewrites the
same ``.torn`` file); a crash between 2 and 3 leaves a ``.torn`` file with no entry after it, which the
next writer notices (:func:`unrecorded`) and records. So the bytes are never silently lost, the chain
never includes half an entry, and ``audit verify`` reports the recovery.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from app.audit.files import TORN_SUFFIX, Segment, Tail, TornFile, fsync_dir, list_torn_files

TORN_TAIL_ACTION = "audit.torn_tail"
SYSTEM_ACTOR = "system"


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _torn_path(segment: Path, offset: int, data: bytes) -> Path:
    """``<segment>.<offset>.torn``, or a numbered variant if that name holds other bytes.

    A file there holding a prefix of ``data`` is an earlier copy cut short by a crash: it is rewritten.
    """
    for attempt in range(1000):
        suffix = f".{offset}" if attempt == 0 else f".{offset}-{attempt}"
        candidate = segment.with_name(segment.name + suffix + TORN_SUFFIX)
        if not candidate.exists() or data.startswith(candidate.read_bytes()):
            return candidate
    raise FileExistsError(f"too many torn files for {segment.name} at {offset}")


def set_aside(segment: Path, tail: Tail) -> Path:
    """Move ``tail.torn`` out of ``segment`` into a ``.torn`` file (steps 1 and 2 above)."""
    torn_path = _torn_path(segment, tail.end, tail.torn)
    _write_durably(torn_path, tail.torn)
    fsync_dir(segment.parent)
    fd = os.open(segment, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        os.ftruncate(fd, tail.end)
        os.fsync(fd)
    finally:
        os.close(fd)
    return torn_path


def record_payload(torn: TornFile) -> dict[str, Any]:
    """The payload of the ``audit.torn_tail`` entry for ``torn``."""
    data = torn.path.read_bytes()
    return {
        "segment": torn.segment,
        "offset": torn.offset,
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "saved_as": torn.path.name,
    }


def _nothing_after(segments: list[Segment], index: int, offset: int) -> bool:
    if segments[index].path.stat().st_size > offset:
        return False
    return all(later.path.stat().st_size == 0 for later in segments[index + 1 :])


def unrecorded(segments: list[Segment]) -> list[TornFile]:
    """``.torn`` files whose ``audit.torn_tail`` entry was never written (a crash between steps 2 and 3).

    The entry is always the first thing written after a set-aside, so a ``.torn`` file with nothing
    after its offset (in its segment or a later one) is unrecorded. Only the newest two segments can
    hold one: a set-aside happens in the newest, and the entry may have been due in a fresh segment.
    """
    if not segments:
        return []
    index_of = {segment.name: index for index, segment in enumerate(segments)}
    recent = {segment.name for segment in segments[-2:]}
    return [
        torn
        for torn in list_torn_files(segments[-1].path.parent)
        if torn.segment in recent and _nothing_after(segments, index_of[torn.segment], torn.offset)
    ]
