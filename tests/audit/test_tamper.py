"""Editing, deleting, reordering or inserting an entry is detected, at the right line, and named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.audit import Problem, verify_trail
from app.audit.canonical import canonical_bytes
from app.audit.entry import compute_hash
from app.audit.files import list_segments
from tests.audit.conftest import fill, only_segment, read_lines, write_lines

COUNT = 10


@pytest.fixture
def lines(trail_dir: Path) -> list[bytes]:
    fill(trail_dir, COUNT)
    return read_lines(only_segment(trail_dir))


def rewrite(line: bytes, rehash: bool = False, **changes: Any) -> bytes:
    """``line`` with fields changed, its hash kept (a naive edit) or recomputed (a careful one)."""
    data = json.loads(line)
    data.update(changes)
    if rehash:
        data["hash"] = compute_hash({k: v for k, v in data.items() if k != "hash"})
    return canonical_bytes(data) + b"\n"


def check(trail_dir: Path, lines: list[bytes], kind: Problem, line: int, seq: int | None) -> str:
    write_lines(only_segment(trail_dir), lines)
    report = verify_trail(trail_dir)
    assert report.status == "tampered", report.summary()
    assert report.finding is not None
    assert (report.finding.kind, report.finding.line, report.finding.seq) == (kind, line, seq), (
        report.summary()
    )
    return report.summary()


def test_an_intact_trail_verifies(trail_dir: Path, lines: list[bytes]) -> None:
    report = verify_trail(trail_dir)
    assert report.ok and report.status == "ok"
    assert (report.entries, report.files, report.last_seq) == (COUNT, 1, COUNT)
    assert report.summary().startswith(f"OK: {COUNT} entries in 1 file, last #{COUNT} ")


def test_no_trail_at_all_is_an_empty_ok(tmp_path: Path) -> None:
    report = verify_trail(tmp_path / "nothing")
    assert report.ok and report.entries == 0


def test_an_edited_payload(trail_dir: Path, lines: list[bytes]) -> None:
    lines[3] = lines[3].replace(b'"n":3', b'"n":33')
    summary = check(trail_dir, lines, Problem.EDITED, 4, 4)
    assert "no longer matches its hash" in summary


@pytest.mark.parametrize("field", ["actor", "action", "account", "time"])
def test_an_edited_field(trail_dir: Path, lines: list[bytes], field: str) -> None:
    value = {
        "actor": "cli",
        "action": "order.cancel",
        "account": "1@Other",
        "time": "2020-01-01T00:00:00.000000Z",
    }
    lines[6] = rewrite(lines[6], **{field: value[field]})
    check(trail_dir, lines, Problem.EDITED, 7, 7)


def test_an_edited_last_entry(trail_dir: Path, lines: list[bytes]) -> None:
    lines[-1] = lines[-1].replace(b'"n":9', b'"n":8')
    check(trail_dir, lines, Problem.EDITED, COUNT, COUNT)


def test_a_reformatted_line_with_the_same_content(trail_dir: Path, lines: list[bytes]) -> None:
    lines[2] = lines[2].replace(b'"n":2', b'"n": 2')
    summary = check(trail_dir, lines, Problem.EDITED, 3, 3)
    assert "canonical form" in summary


def test_an_edit_that_recomputed_the_hash_breaks_the_next_link(trail_dir: Path, lines: list[bytes]) -> None:
    lines[3] = rewrite(lines[3], rehash=True, payload={"client_id": "c3", "n": 333})
    summary = check(trail_dir, lines, Problem.CHAIN_BROKEN, 5, 5)
    assert "not the hash of #4" in summary and "line 4" in summary


def test_a_deleted_entry(trail_dir: Path, lines: list[bytes]) -> None:
    del lines[4]
    summary = check(trail_dir, lines, Problem.DELETED, 5, 6)
    assert "1 entry missing before it (#5)" in summary


def test_several_deleted_entries(trail_dir: Path, lines: list[bytes]) -> None:
    del lines[4:7]
    summary = check(trail_dir, lines, Problem.DELETED, 5, 8)
    assert "3 entries missing before it (#5..#7)" in summary


def test_the_first_entry_deleted(trail_dir: Path, lines: list[bytes]) -> None:
    del lines[0]
    check(trail_dir, lines, Problem.DELETED, 1, 2)


def test_two_entries_swapped(trail_dir: Path, lines: list[bytes]) -> None:
    lines[3], lines[4] = lines[4], lines[3]
    summary = check(trail_dir, lines, Problem.REORDERED, 4, 5)
    assert "comes later" in summary and "line 5" in summary


def test_an_entry_moved_far_away(trail_dir: Path, lines: list[bytes]) -> None:
    moved = lines.pop(2)
    lines.insert(8, moved)
    check(trail_dir, lines, Problem.REORDERED, 3, 4)


def test_an_inserted_forged_line(trail_dir: Path, lines: list[bytes]) -> None:
    lines.insert(5, rewrite(lines[2], payload={"client_id": "forged", "n": 99}))
    summary = check(trail_dir, lines, Problem.INSERTED, 6, 3)
    assert "not part of the chain" in summary


def test_an_inserted_copy_of_an_earlier_entry(trail_dir: Path, lines: list[bytes]) -> None:
    lines.insert(5, lines[1])
    check(trail_dir, lines, Problem.INSERTED, 6, 2)


def test_an_inserted_entry_with_a_valid_hash(trail_dir: Path, lines: list[bytes]) -> None:
    """A careful forger: a well-formed #6 chained to #5. The genuine #6 after it shows the insertion."""
    prev_hash = json.loads(lines[4])["hash"]
    forged = rewrite(lines[5], rehash=True, prev=prev_hash, payload={"client_id": "forged", "n": 6})
    lines.insert(5, forged)
    summary = check(trail_dir, lines, Problem.INSERTED, 7, 6)
    assert "line 6" in summary  # names the other claimant of #6


def test_a_line_that_is_no_entry(trail_dir: Path, lines: list[bytes]) -> None:
    lines.insert(3, b'{"hello": "world"}\n')
    write_lines(only_segment(trail_dir), lines)
    report = verify_trail(trail_dir)
    assert report.finding is not None
    assert (report.finding.kind, report.finding.line) == (Problem.MALFORMED, 4)
    assert "missing field" in report.summary()


def test_tampering_in_a_later_file_names_that_file(trail_dir: Path) -> None:
    fill(trail_dir, 40, rotate_max_bytes=2_000)
    segments = list_segments(trail_dir)
    assert len(segments) >= 4
    target = segments[2].path
    lines = read_lines(target)
    lines[1] = lines[1].replace(b'"client_id":"c', b'"client_id":"X')
    write_lines(target, lines)
    report = verify_trail(trail_dir)
    assert report.finding is not None
    assert (report.finding.kind, report.finding.file, report.finding.line) == (Problem.EDITED, target.name, 2)
    assert report.finding.seq == segments[2].first_seq + 1


def test_a_deleted_file_in_the_middle(trail_dir: Path) -> None:
    fill(trail_dir, 40, rotate_max_bytes=2_000)
    segments = list_segments(trail_dir)
    segments[1].path.unlink()
    report = verify_trail(trail_dir)
    assert report.finding is not None
    assert (report.finding.kind, report.finding.file, report.finding.line) == (
        Problem.DELETED,
        segments[2].name,
        1,
    )
    assert report.entries == segments[1].first_seq - 1
