"""Shared helpers for the audit tests: a trail directory, a deterministic clock, raw line access."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.audit import AuditEntry, AuditTrail
from app.audit.files import list_segments


class StepClock:
    """A clock that moves ``step`` forward on every reading (so times are distinct and predictable)."""

    def __init__(
        self, start: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC), step: timedelta = timedelta(seconds=1)
    ):
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        moment = self.now
        self.now += self.step
        return moment


@pytest.fixture
def trail_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "audit"


def fill(directory: Path, count: int, **trail_options: Any) -> list[AuditEntry]:
    """Append ``count`` order intents (payload ``n`` = 0, 1, ...) and return them."""
    with AuditTrail(directory, **trail_options) as trail:
        return [
            trail.append_sync(
                "gui", "order.intent", account="5001@Sim-Demo", payload={"client_id": f"c{n}", "n": n}
            )
            for n in range(count)
        ]


def only_segment(directory: Path) -> Path:
    segments = list_segments(directory)
    assert len(segments) == 1
    return segments[0].path


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def segment_files(directory: Path) -> Iterator[Path]:
    return (segment.path for segment in list_segments(directory))
