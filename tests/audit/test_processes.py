"""Real processes: SIGKILL at random moments never loses an acknowledged entry; two writers, one chain."""

from __future__ import annotations

import json
import random
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from app.audit import AuditReader, AuditTrail, verify_trail
from app.audit.files import list_segments, read_tail
from tests.conftest import subprocess_env
from tests.support.process import RunningProcess

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

ACK = re.compile(r"^ACK (\d+) ([0-9a-f]{64}) (\d+)$")
KILLS = 50


def writer(directory: Path, mode: str, name: str, count: int, seed: int, *go_file: Path) -> list[str]:
    arguments = (directory, mode, name, count, seed, *go_file)
    return [sys.executable, "-m", "tests.audit.writer_process", *(str(arg) for arg in arguments)]


def acknowledged(output: str) -> dict[int, str]:
    return {int(m[1]): m[2] for line in output.splitlines() if (m := ACK.match(line))}


def on_disk(directory: Path) -> dict[int, str]:
    return {entry.seq: entry.hash for entry, _ in AuditReader(directory).lines()}


def tear_unacknowledged_tail(directory: Path, acked: dict[int, str], rng: random.Random) -> bool:
    """Cut the newest line short if no one was told it was written (what a crash mid-write leaves).

    A SIGKILL rarely lands inside the one ``write`` of an append, so the test also makes the torn tails
    a crash may leave: only ever of an entry whose append had not returned.
    """
    segments = list_segments(directory)
    if not segments:
        return False
    tail = read_tail(segments[-1].path)
    if tail.torn or tail.last_line is None or len(tail.last_line) < 2:
        return False
    last = json.loads(tail.last_line)
    if acked.get(last["seq"]) == last["hash"]:
        return False
    with segments[-1].path.open("r+b") as handle:
        handle.truncate(tail.last_line_offset + rng.randrange(1, len(tail.last_line)))
    return True


def test_sigkill_at_random_moments_never_loses_an_acknowledged_entry(tmp_path: Path) -> None:
    """50 writers killed at random moments, one after another on the same trail (half sync, half async).

    After each kill: every acknowledged entry is on disk with its hash, and the trail verifies, or has a
    torn tail (reported as such). The next writer sets that aside, so at the end the chain is whole.
    """
    directory = tmp_path / "audit"
    rng = random.Random(20250301)
    acked: dict[int, str] = {}
    torn_tails = 0
    for run in range(KILLS):
        mode = "async" if run % 2 else "sync"
        with RunningProcess(writer(directory, mode, f"w{run}", 0, run), subprocess_env()) as proc:
            if run % 5 == 4:
                time.sleep(rng.uniform(0.0, 0.6))  # anywhere, even during start-up and recovery
            else:
                proc.wait_for("READY", timeout=60)
                time.sleep(rng.uniform(0.0, 0.12))
            assert proc.stop(signal.SIGKILL) == -signal.SIGKILL
            acked.update(acknowledged(proc.output))
        if rng.random() < 0.3:
            tear_unacknowledged_tail(directory, acked, rng)

        report = verify_trail(directory)
        assert report.status in ("ok", "torn_tail"), report.summary()  # a crash is never "tampering"
        torn_tails += report.status == "torn_tail"
        stored = on_disk(directory)
        lost = {seq for seq, digest in acked.items() if stored.get(seq) != digest}
        assert not lost, f"run {run}: acknowledged entries missing: {sorted(lost)[:10]}"

    with AuditTrail(directory):  # the next writer sets any torn tail aside
        pass
    report = verify_trail(directory)
    assert report.ok, report.summary()
    assert len(acked) > KILLS  # the writers did get work done between kills
    stored = on_disk(directory)
    assert all(stored.get(seq) == digest for seq, digest in acked.items())
    print(f"{len(acked)} acknowledged entries, {torn_tails} torn tails seen, {report.entries} entries")


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    go = tmp_path / "go"
    count = 150
    with (
        RunningProcess(writer(directory, "sync", "a", count, 1, go), subprocess_env()) as first,
        RunningProcess(writer(directory, "async", "b", count, 2, go), subprocess_env()) as second,
    ):
        for proc in (first, second):
            proc.wait_for("READY", timeout=60)
        go.touch()  # both are ready: now they race
        for proc in (first, second):
            proc.wait_for("DONE", timeout=120)
            assert proc.proc.wait(30) == 0, proc.output
    report = verify_trail(directory)
    assert report.ok and report.entries == 2 * count, report.summary()
    entries = [entry for entry, _ in AuditReader(directory).lines()]
    for name in ("a", "b"):
        mine = [e.payload["n"] for e in entries if e.payload["writer"] == name]
        assert mine == list(range(count))  # each writer's entries in its own order
    writers = [e.payload["writer"] for e in entries]
    switches = sum(1 for x, y in zip(writers, writers[1:], strict=False) if x != y)
    assert switches > 2, "the two writers never interleaved; the test proved nothing"
