"""Files rotate by size and by day; names sort in chain order and the chain runs on across them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from app.audit import AuditReader, AuditTrail, verify_trail
from app.audit.files import list_segments
from tests.audit.conftest import StepClock, fill, read_lines


def test_size_rotation_keeps_one_chain(trail_dir: Path) -> None:
    entries = fill(trail_dir, 60, rotate_max_bytes=3_000)
    segments = list_segments(trail_dir)
    assert len(segments) > 5
    assert [s.name for s in segments] == sorted(p.name for p in trail_dir.glob("*.jsonl"))
    previous_last = "0" * 64
    for segment in segments:
        lines = [json.loads(line) for line in read_lines(segment.path)]
        assert segment.path.stat().st_size <= 3_000
        assert lines[0]["seq"] == segment.first_seq
        assert lines[0]["prev"] == previous_last  # the first entry of a file carries the last hash before it
        previous_last = lines[-1]["hash"]
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 60 and report.files == len(segments)
    assert report.last_hash == entries[-1].hash


def test_an_entry_larger_than_the_limit_gets_a_file_of_its_own(trail_dir: Path) -> None:
    with AuditTrail(trail_dir, rotate_max_bytes=2_000) as trail:
        trail.append_sync("gui", "order.intent", payload={"n": 1})
        trail.append_sync("gui", "order.intent", payload={"blob": "x" * 5_000})
        trail.append_sync("gui", "order.intent", payload={"n": 3})
    assert [s.first_seq for s in list_segments(trail_dir)] == [1, 2, 3]
    assert verify_trail(trail_dir).ok


def test_daily_rotation_starts_a_file_each_utc_day(trail_dir: Path) -> None:
    clock = StepClock(step=timedelta(hours=7))
    with AuditTrail(trail_dir, rotate_daily=True, clock=clock) as trail:
        entries = [trail.append_sync("carousel", "carousel.start", payload={"n": n}) for n in range(10)]
    days = sorted({entry.time[:10].replace("-", "") for entry in entries})
    segments = list_segments(trail_dir)
    assert [s.day for s in segments] == days
    for segment in segments:
        assert {json.loads(line)["time"][:10].replace("-", "") for line in read_lines(segment.path)} == {
            segment.day
        }
    assert verify_trail(trail_dir).ok


def test_reopening_continues_the_chain(trail_dir: Path) -> None:
    first = fill(trail_dir, 3, rotate_max_bytes=100_000)
    with AuditTrail(trail_dir) as trail:
        entry = trail.append_sync("cli", "setting.change", payload={"key": "x", "old": 1, "new": 2})
    assert (entry.seq, entry.prev) == (4, first[-1].hash)
    assert [e.seq for e, _ in AuditReader(trail_dir).lines()] == [1, 2, 3, 4]
