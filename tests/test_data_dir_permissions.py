"""The data dir is private on POSIX under the usual umask 022: every directory 0700, every file 0600
(database, WAL, audit trail, logs, the password hash, the sim's books); an existing wider data dir is
left alone, with a warning at start saying how to close it."""

from __future__ import annotations

import logging
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.logs import PrivateRotatingFileHandler
from tests.conftest import app_command, subprocess_env
from tests.server.test_processes import NEW_PASSWORD, WEDNESDAY, needs_private_keyring
from tests.support.process import RunningProcess

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def with_umask_022(command: list[str]) -> list[str]:
    return ["sh", "-c", 'umask 022 && exec "$@"', "sh", *command]


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


@pytest.mark.slow
@needs_private_keyring
def test_serve_leaves_nothing_readable_by_others(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # made by the app
    env = subprocess_env(MT5C_SIM__START=WEDNESDAY)
    set_password = subprocess.run(
        with_umask_022(app_command("server", "set-password", "--data-dir", str(data_dir))),
        input=NEW_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert set_password.returncode == 0, set_password.stderr
    command = with_umask_022(app_command("--serve", "--sim", "--port", "0", "--data-dir", str(data_dir)))
    with RunningProcess(command, env) as proc:
        line = proc.wait_for("serving on ", timeout=90)
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)[1]  # type: ignore[index]
        with httpx.Client(base_url=url, timeout=10) as http:
            token = http.post("/api/login", json={"username": "admin", "password": NEW_PASSWORD}).json()[
                "token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            deadline = time.monotonic() + 60
            while http.get("/api/account", headers=headers).status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            found = modes(data_dir)  # while it runs: the WAL and shared-memory files are there
        assert proc.stop(signal.SIGTERM) == 0, proc.output
    found.update(modes(data_dir))
    names = set(found)
    assert {"mt5-console.db", "logs/mt5-console.log", "server/admin-password.json"} <= names, names
    assert any(n.startswith("audit/audit-") for n in names) and "mt5-console.db-wal" in names, names
    assert any(n.startswith("sim/") for n in names), names
    wide = {name: f"{mode:04o}" for name, mode in found.items() if mode & 0o077}
    assert not wide, wide
    dirs = [name for name in names if (data_dir / name).is_dir()]
    assert all(found[name] == 0o700 for name in dirs), {n: f"{found[n]:04o}" for n in dirs}


@pytest.mark.slow
def test_a_wider_data_dir_is_warned_about_and_left_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    result = subprocess.run(  # the app starts (and stops at once: no keyring for its server here)
        app_command("--serve", "--sim", "--port", "0", "--data-dir", str(data_dir)),
        env=subprocess_env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert f"chmod 700 {data_dir}" in result.stderr and "0755" in result.stderr, result.stderr
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o755  # the user's choice stays


def test_the_log_file_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        handler = PrivateRotatingFileHandler(tmp_path / "app.log", maxBytes=200, backupCount=2)
        for i in range(20):
            handler.emit(logging.makeLogRecord({"msg": f"line {i} " + "x" * 40}))
        handler.close()
    finally:
        os.umask(previous)
    logs = sorted(tmp_path.iterdir())
    assert len(logs) == 3  # rotated: the backups keep the mode
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs), [oct(p.stat().st_mode) for p in logs]
