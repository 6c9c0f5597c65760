"""The server as a user meets it: ``mt5-console server set-password`` and ``mt5-console --serve --sim`` as
real processes (the served one talks to the private Secret Service that scripts/test starts)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from app.server.auth import password_path
from tests.conftest import app_command, subprocess_env
from tests.support.keyrings import PRIVATE_SECRET_SERVICE_VAR
from tests.support.process import RunningProcess
from tests.support.tty import TerminalSession

pytestmark = pytest.mark.slow

NEW_PASSWORD = "a long enough one"  # noqa: S105 - the test's own
WEDNESDAY = "2026-11-18T09:00:00Z"

needs_private_keyring = pytest.mark.skipif(
    os.environ.get(PRIVATE_SECRET_SERVICE_VAR) != "private",
    reason="--serve keeps its signing key in the OS keyring: runs only on the private Secret Service "
    "that scripts/test starts (never your own keyring)",
)


def set_password(data_dir: Path, stdin: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command("server", "set-password", "--data-dir", str(data_dir), *extra),
        input=stdin,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_set_password_from_stdin_stores_an_argon2_hash_and_audits_it(data_dir: Path) -> None:
    result = set_password(data_dir, NEW_PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "admin password set for user 'admin'" in result.stdout
    record = json.loads(password_path(data_dir).read_text(encoding="utf-8"))
    assert record["hash"].startswith("$argon2id$") and NEW_PASSWORD not in json.dumps(record)
    assert password_path(data_dir).stat().st_mode & 0o777 == 0o600
    entries = AuditReader(audit_dir(data_dir)).query(AuditQuery(action="setting.change"))
    assert [(e.actor, e.payload["key"], e.payload["new"]) for e in entries] == [
        ("cli", "server.admin_password", "***")
    ]
    assert NEW_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("stdin", "extra", "message"),
    [
        ("short\n", (), "at least 8 characters"),
        ("", (), "no password on standard input"),
        (None, ("--password", "secret-here"), "never taken as an argument"),
    ],
)
def test_set_password_refusals_are_one_line_exit_2(
    data_dir: Path, stdin: str | None, extra: tuple[str, ...], message: str
) -> None:
    result = set_password(data_dir, stdin, *extra)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "secret-here" not in result.stderr and not password_path(data_dir).exists()


def test_set_password_is_prompted_twice_on_a_terminal(data_dir: Path) -> None:
    session = TerminalSession(
        app_command("server", "set-password", "--data-dir", str(data_dir)), subprocess_env()
    )
    session.expect("New admin password for the server: ")
    session.send_line(NEW_PASSWORD)
    session.expect("Repeat it: ")
    session.send_line(NEW_PASSWORD)
    assert session.finish() == 0, session.output
    assert NEW_PASSWORD not in session.output and password_path(data_dir).is_file()


@needs_private_keyring
def test_serve_sim_answers_health_and_exits_0_on_sigterm(data_dir: Path) -> None:
    assert set_password(data_dir, NEW_PASSWORD + "\n").returncode == 0
    command = app_command("--serve", "--sim", "--port", "0", "--data-dir", str(data_dir))
    with RunningProcess(command, subprocess_env(MT5C_SIM__START=WEDNESDAY)) as proc:
        line = proc.wait_for("serving on ", timeout=60)
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
        assert found, line
        url = found[1]
        with httpx.Client(base_url=url, timeout=10) as http:
            health = http.get("/api/health")
            assert health.status_code == 200 and health.json()["version"]
            token = http.post("/api/login", json={"username": "admin", "password": NEW_PASSWORD}).json()[
                "token"
            ]
            deadline = time.monotonic() + 30
            while (
                account := http.get("/api/account", headers={"Authorization": f"Bearer {token}"})
            ).status_code != 200:
                assert time.monotonic() < deadline, account.text
                time.sleep(0.2)
            assert account.json()["trade_mode"] == "demo"
        code = proc.stop(signal.SIGTERM)
    assert code == 0, proc.output
    assert "server listening on" in proc.output and "stopped" in proc.output
    assert NEW_PASSWORD not in proc.output and token not in proc.output


def test_serve_without_a_usable_keyring_exits_1_with_one_clear_line(data_dir: Path) -> None:
    """keyring's fail backend (what keyring picks where there is none): the server cannot keep its key."""
    result = subprocess.run(
        app_command("--serve", "--sim", "--port", "0", "--data-dir", str(data_dir)),
        env=subprocess_env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mt5-console: the server cannot start:") and "OS keyring" in last
