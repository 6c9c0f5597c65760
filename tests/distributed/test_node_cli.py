"""``mt5-console node`` as an operator runs it: one line when it runs, SIGTERM stops it (exit 0),
``--serve`` adds the console's server over the whole carousel, and bad settings are one line (exit 2)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.server.auth import set_admin_password
from tests.conftest import app_command, subprocess_env
from tests.server.conftest import ADMIN, PASSWORD
from tests.support.process import RunningProcess

pytestmark = pytest.mark.slow

CONFIG = """
[terminals]
sim_terminals = 2
login_timeout_s = 5
call_timeout_s = 5
[carousel]
login_timeout_s = 5
[distributed]
heartbeat_interval_s = 1
heartbeat_timeout_s = 8
"""


def test_a_node_without_a_postgresql_store_says_so_in_one_line(data_dir: Path) -> None:
    done = subprocess.run(
        app_command("node", "--sim", "--data-dir", str(data_dir)),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "mt5-console: invalid settings: distributed.enabled needs storage.url on PostgreSQL "
        "(postgresql://user@host:5432/dbname)"
    ]


def test_a_heartbeat_timeout_shorter_than_a_login_is_refused(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[distributed]\nheartbeat_timeout_s = 30\n")
    done = subprocess.run(
        app_command("node", "--sim", "--config", str(config), "--data-dir", str(data_dir)),
        env=subprocess_env(MT5C_STORAGE__URL="postgresql://mt5@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "must be longer than the longest terminal call (60 s" in done.stderr


@pytest.mark.keyring
@pytest.mark.postgres
def test_node_serve_runs_the_node_and_a_console_server_and_stops_on_sigterm(
    data_dir: Path, tmp_path: Path, postgres_url: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    set_admin_password(data_dir, PASSWORD)
    command = app_command(
        "--config", str(config), "--data-dir", str(data_dir), "--log-level", "INFO",
        "node", "--name", "vps-9", "--sim", "--serve", "--port", "0",
    )  # fmt: skip
    with RunningProcess(command, subprocess_env(MT5C_STORAGE__URL=postgres_url)) as proc:
        url = proc.wait_for("serving on http://", timeout=120).split("serving on ", 1)[1].strip()
        proc.wait_for("node vps-9 running: 2 terminal(s)", timeout=120)
        token = httpx.post(
            f"{url}/api/login", json={"username": ADMIN, "password": PASSWORD}, timeout=10
        ).json()
        headers = {"Authorization": f"Bearer {token['token']}"}

        def note() -> str:
            return str(httpx.get(f"{url}/api/carousel", headers=headers, timeout=10).json()["note"])

        deadline = 60
        while "vps-9 (2 terminal(s), 0 account(s))" not in note() and deadline > 0:
            time.sleep(0.5)
            deadline -= 0.5
        assert "vps-9 (2 terminal(s), 0 account(s))" in note()
        code = proc.stop(signal.SIGTERM)
    assert code == 0, proc.output
    assert "Traceback" not in proc.output
