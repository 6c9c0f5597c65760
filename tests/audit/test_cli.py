"""``mt5-console audit verify`` and ``audit show`` as a user runs them: real processes, exit codes."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit import AuditTrail
from app.audit.files import audit_dir
from tests.audit.conftest import StepClock, only_segment, read_lines, write_lines
from tests.conftest import app_command, subprocess_env

pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command(*args), env=subprocess_env(), capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def trail(data_dir: Path) -> Path:
    clock = StepClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), timedelta(minutes=1))
    with AuditTrail(audit_dir(data_dir), clock=clock) as trail:
        trail.append_sync("cli", "account.add", account="5001@Sim-Demo", payload={"alias": "demo"})
        for n in range(3):
            payload = {"client_id": f"c{n}", "symbol": "EURUSD", "side": "buy", "volume": 0.1}
            trail.append_sync("api:alice", "order.intent", account="5001@Sim-Demo", payload=payload)
            trail.append_sync(
                "api:alice",
                "order.result",
                account="5001@Sim-Demo",
                payload={"client_id": f"c{n}", "retcode": 10009, "ticket": 100 + n, "latency_ms": 12.5},
            )
        trail.append_sync("api:mallory", "api.login_failed", payload={"user": "mallory", "ip": "127.0.0.1"})
    return audit_dir(data_dir)


def test_verify_ok(data_dir: Path, trail: Path) -> None:
    result = run("audit", "verify", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 8 entries in 1 file, last #8 ")


def test_verify_names_the_first_bad_entry_and_exits_1(data_dir: Path, trail: Path) -> None:
    lines = read_lines(only_segment(trail))
    lines[4] = lines[4].replace(b'"ticket":101', b'"ticket":999')
    write_lines(only_segment(trail), lines)
    result = run("audit", "verify", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert result.stdout.startswith(f"BAD ENTRY: edited at {only_segment(trail).name} line 5 (entry #5): ")


def test_verify_reports_a_torn_tail_with_its_own_exit_code(data_dir: Path, trail: Path) -> None:
    with only_segment(trail).open("ab") as handle:
        handle.write(b'{"account":"5001@Sim')
    result = run("audit", "verify", "--data-dir", str(data_dir))
    assert result.returncode == 3
    assert result.stdout.startswith("TORN TAIL: torn tail at ")
    assert "not tampering" in result.stdout


def test_verify_json(data_dir: Path, trail: Path) -> None:
    result = run("audit", "verify", "--json", "--data-dir", str(data_dir))
    report = json.loads(result.stdout)
    assert (report["status"], report["entries"], report["finding"]) == ("ok", 8, None)


def test_verify_an_empty_data_dir(data_dir: Path) -> None:
    result = run("audit", "verify", "--data-dir", str(data_dir))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "OK: 0 entries in 0 files"


def test_show_filters(data_dir: Path, trail: Path) -> None:
    result = run("audit", "show", "--action", "order.result", "--limit", "2", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["SEQ", "TIME", "(UTC)", "ACTOR"]
    assert [row.split()[0] for row in rows] == ["5", "7"]
    assert "ticket=101 retcode=10009 latency_ms=12.5 client_id=c1" in rows[0]


@pytest.mark.parametrize(
    ("args", "seqs"),
    [
        (("--client-id", "c1"), [4, 5]),
        (("--actor", "api"), [2, 3, 4, 5, 6, 7, 8]),
        (("--action", "api.login_failed"), [8]),
        (("--since", "2025-03-01T09:06:00Z"), [7, 8]),
        (("--since", "2025-03-01T09:01", "--until", "2025-03-01T09:03:00+00:00"), [2, 3]),
        (("--text", "MALLORY"), [8]),
        (("--account", "5001@Sim-Demo", "--limit", "1"), [7]),
    ],
)
def test_show_json_lines_are_the_stored_lines(
    data_dir: Path, trail: Path, args: tuple[str, ...], seqs: list[int]
) -> None:
    result = run("audit", "show", "--json", *args, "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == seqs
    stored = {json.loads(line)["seq"]: line for line in read_lines(only_segment(trail))}
    assert [line.encode() + b"\n" for line in result.stdout.splitlines()] == [stored[seq] for seq in seqs]


def test_show_with_a_bad_time_is_a_one_line_usage_error(data_dir: Path) -> None:
    result = run("audit", "show", "--since", "yesterday", "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mt5-console audit show: error: argument --since: "
        "not an ISO 8601 date or time: 'yesterday' (see --help)"
    ]


def test_audit_without_a_command_shows_its_commands(data_dir: Path) -> None:
    result = run("audit", "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert "verify" in result.stderr and "show" in result.stderr
