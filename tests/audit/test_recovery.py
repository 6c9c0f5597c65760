"""A torn last line (a crash during an append) is reported as such, set aside, recorded, never dropped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app.audit import AuditCorruptError, AuditReader, AuditTrail, Problem, verify_trail
from app.audit.files import list_segments, list_torn_files, read_tail, segment_name
from app.audit.recovery import set_aside
from tests.audit.conftest import fill, only_segment, read_lines

# Cut inside the hash, at a character no hash has: a real entry written later can never contain it
# (with a hex digit there, one entry in 256 began with these very bytes).
TORN = b'{"account":null,"action":"order.intent","actor":"gui","hash":"zz'


def tear(path: Path, data: bytes = TORN) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def torn_records(directory: Path) -> list[dict[str, object]]:
    return [entry.payload for entry, _ in AuditReader(directory).lines() if entry.action == "audit.torn_tail"]


def test_a_torn_tail_is_reported_as_such_not_as_tampering(trail_dir: Path) -> None:
    fill(trail_dir, 5)
    tear(only_segment(trail_dir))
    report = verify_trail(trail_dir)
    assert report.status == "torn_tail" and not report.ok
    assert report.finding is not None
    assert (report.finding.kind, report.finding.line, report.finding.seq) == (Problem.TORN_TAIL, 6, None)
    assert report.entries == 5
    assert f"{len(TORN)} bytes of an unfinished append after #5" in report.summary()
    assert "not tampering" in report.summary()


def test_the_next_writer_sets_the_torn_bytes_aside_and_records_it(trail_dir: Path) -> None:
    entries = fill(trail_dir, 5)
    segment = only_segment(trail_dir)
    offset = segment.stat().st_size
    tear(segment)

    with AuditTrail(trail_dir) as trail:
        after = trail.append_sync("gui", "order.intent", payload={"n": 5})

    torn_file = segment.with_name(f"{segment.name}.{offset}.torn")
    assert torn_file.read_bytes() == TORN  # nothing lost
    assert segment.stat().st_size > offset and TORN not in segment.read_bytes()
    assert torn_records(trail_dir) == [
        {
            "segment": segment.name,
            "offset": offset,
            "length": len(TORN),
            "sha256": hashlib.sha256(TORN).hexdigest(),
            "saved_as": torn_file.name,
        }
    ]
    record = json.loads(read_lines(segment)[5])
    assert (record["seq"], record["actor"], record["prev"]) == (6, "system", entries[-1].hash)
    assert after.seq == 7
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 7, report.summary()
    assert any(f"set aside after a crash as {torn_file.name}" in note for note in report.notes)


def test_opening_alone_recovers(trail_dir: Path) -> None:
    fill(trail_dir, 3)
    tear(only_segment(trail_dir))
    with AuditTrail(trail_dir):
        pass
    assert verify_trail(trail_dir).ok
    assert len(torn_records(trail_dir)) == 1


def test_a_crash_after_setting_aside_but_before_recording_is_completed_later(trail_dir: Path) -> None:
    fill(trail_dir, 3)
    segment = only_segment(trail_dir)
    tear(segment)
    set_aside(segment, read_tail(segment))  # steps 1 and 2, then "the crash"

    report = verify_trail(trail_dir)
    assert report.ok
    assert any("not yet recorded" in note for note in report.notes)

    with AuditTrail(trail_dir):
        pass
    assert len(torn_records(trail_dir)) == 1
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 4
    assert not any("not yet recorded" in note for note in report.notes)
    with AuditTrail(trail_dir):  # and only once
        pass
    assert len(torn_records(trail_dir)) == 1


def test_a_crash_while_copying_the_torn_bytes_is_redone_without_duplicates(trail_dir: Path) -> None:
    fill(trail_dir, 3)
    segment = only_segment(trail_dir)
    offset = segment.stat().st_size
    tear(segment)
    segment.with_name(f"{segment.name}.{offset}.torn").write_bytes(TORN[:7])  # step 1 cut short

    with AuditTrail(trail_dir):
        pass
    assert [torn.path.name for torn in list_torn_files(trail_dir)] == [f"{segment.name}.{offset}.torn"]
    assert segment.with_name(f"{segment.name}.{offset}.torn").read_bytes() == TORN
    assert len(torn_records(trail_dir)) == 1
    assert verify_trail(trail_dir).ok


def test_a_fresh_segment_holding_only_a_torn_line(trail_dir: Path) -> None:
    entries = fill(trail_dir, 30, rotate_max_bytes=2_000)
    fresh = trail_dir / segment_name(31, list_segments(trail_dir)[-1].day)
    fresh.write_bytes(TORN)
    assert verify_trail(trail_dir).status == "torn_tail"

    with AuditTrail(trail_dir, rotate_max_bytes=2_000) as trail:
        entry = trail.append_sync("gui", "order.intent")
    record = torn_records(trail_dir)[0]
    assert record["segment"] == fresh.name and record["offset"] == 0
    assert entry.seq == 32
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 32, report.summary()
    first_of_fresh = json.loads(read_lines(fresh)[0])
    assert first_of_fresh["prev"] == entries[-1].hash  # the chain went on from the previous file


def test_a_complete_but_unreadable_last_line_stops_writing(trail_dir: Path) -> None:
    """Not a crash pattern (a crash cannot leave a newline after garbage): a person must look."""
    fill(trail_dir, 3)
    tear(only_segment(trail_dir), b"garbage\n")
    with AuditTrail(trail_dir) as trail:
        assert trail.problem is not None and "unreadable" in trail.problem
        with pytest.raises(AuditCorruptError, match="audit verify"):
            trail.append_sync("gui", "order.intent")
    report = verify_trail(trail_dir)
    assert report.finding is not None and report.finding.kind is Problem.MALFORMED


def test_an_altered_torn_file_is_noted(trail_dir: Path) -> None:
    fill(trail_dir, 3)
    tear(only_segment(trail_dir))
    with AuditTrail(trail_dir):
        pass
    (torn,) = list_torn_files(trail_dir)
    torn.path.write_bytes(b"something else")
    report = verify_trail(trail_dir)
    assert report.ok
    assert any("differ from what its audit.torn_tail entry recorded" in note for note in report.notes)


def test_a_trail_whose_lock_cannot_be_taken_still_verifies(trail_dir: Path) -> None:
    """E.g. an auditor's read-only copy: verified without the lock, and the report says so."""
    fill(trail_dir, 4)
    (trail_dir / ".lock").unlink()
    (trail_dir / ".lock").mkdir()  # opening it for writing fails, as on a read-only medium
    report = verify_trail(trail_dir)
    assert report.ok and report.entries == 4
    assert any("read without the writers' lock" in note for note in report.notes)
