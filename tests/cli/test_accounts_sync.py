"""``mt5-console accounts sync`` as a user runs it: one-off carousel visits in a subprocess, on the sim
trade server of the data dir (the running one, or one started for the command), one line per account."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from app.config import load_settings
from app.core.accounts_sync import _SyncRefused, _terminals
from app.core.credentials import SERVICE_NAME
from app.mt5.backend import TerminalPlan
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.claim import running_server
from app.mt5.sim.process import start_server_process
from app.mt5.terminals_lock import TERMINALS_LOCK_FILE
from app.oslock import OsLock
from tests.conftest import app_command, subprocess_env
from tests.core.test_password_leaks import assert_no_file_holds

pytestmark = pytest.mark.slow

SERVER = "SimBroker-Demo"
WEDNESDAY = ("--start", "2026-11-18T09:00:00+00:00", "--no-history")


def accounts(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command("accounts", *args, "--data-dir", str(data_dir)),
        input=stdin,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def add(data_dir: Path, login: int, password: str) -> None:
    result = accounts(data_dir, "add", "--login", str(login), "--server", SERVER, stdin=password + "\n")
    assert result.returncode == 0, result.stderr


def forget(secret_service: KeyringBackend, *logins: int) -> None:
    """The private keyring lives for the whole run: leave nothing behind for other tests."""
    for login in logins:
        if secret_service.get_password(SERVICE_NAME, f"{login}@{SERVER}") is not None:
            secret_service.delete_password(SERVICE_NAME, f"{login}@{SERVER}")


@pytest.mark.keyring
def test_sync_uses_the_running_trade_server_and_names_each_failure(
    data_dir: Path, secret_service: KeyringBackend
) -> None:
    good, bad = random.sample(range(80_000_000, 90_000_000), 2)
    state = data_dir / "sim"
    try:
        with start_server_process(state, extra_args=WEDNESDAY, owner="user") as server:
            with SimAdmin(server.address) as admin:  # these accounts exist on this server only
                admin.create_account(good, "Sync-Good-1", balance=1_234.5)
                admin.create_account(bad, "Sync-Bad-1")
            add(data_dir, good, "Sync-Good-1")
            add(data_dir, bad, "not-it")

            named = accounts(data_dir, "sync", "1", f"{bad}@{SERVER}")
            assert named.returncode == 1, named.stderr
            lines = named.stdout.strip().splitlines()
            assert lines[0].startswith(f"{good}@{SERVER}: ok: balance 1,234.50 USD, equity 1,234.50, 0 open")
            assert "P/L today +0.00, week +0.00, month +0.00, total +0.00" in lines[0]
            assert lines[1].startswith(f"{bad}@{SERVER}: failed: login refused (wrong password")
            assert "Traceback" not in named.stderr and "not-it" not in named.stdout + named.stderr

            everything = accounts(data_dir, "sync", "--all")
            assert everything.returncode == 1 and len(everything.stdout.strip().splitlines()) == 2
            listed = json.loads(accounts(data_dir, "list", "--json").stdout)
            assert [(a["login"], a["status"]) for a in listed] == [(good, "ok"), (bad, "error")]
            assert server.proc.poll() is None and running_server(state) is not None  # still the user's
        # Nowhere on disk (the sim's books keep a hash), nor in what the command said.
        assert assert_no_file_holds(["Sync-Good-1", "not-it"], data_dir) >= 3
    finally:
        forget(secret_service, good, bad)


@pytest.mark.keyring
def test_sync_starts_a_trade_server_for_itself_when_none_runs(
    data_dir: Path, secret_service: KeyringBackend
) -> None:
    try:
        add(data_dir, 5001006, "Demo-1006")
        synced = accounts(data_dir, "sync", f"5001006@{SERVER}")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert synced.stdout.startswith(f"5001006@{SERVER}: ok: balance 100,000.00 USD")
        assert running_server(data_dir / "sim") is None  # stopped with the command ...
        assert (data_dir / "sim" / "broker.sqlite3").exists()  # ... on the data dir's books
    finally:
        forget(secret_service, 5001006)


def test_sync_refuses_bad_input(data_dir: Path) -> None:
    for args, message in (
        ((), "name the accounts to visit (ID or LOGIN@SERVER), or give --all"),
        (("1", "--all"), "name the accounts to visit"),
        (("--password", "x", "1"), "a password is never taken as an argument"),
        (("nobody",), "expected an account id or LOGIN@SERVER, not 'nobody'"),
    ):
        result = accounts(data_dir, "sync", *args)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr


async def test_real_terminals_are_left_alone_while_the_app_drives_them(data_dir: Path) -> None:
    settings = load_settings({"data_dir": data_dir}, env_file=None)
    app_lock = OsLock(data_dir / TERMINALS_LOCK_FILE)  # what the running app holds
    assert app_lock.try_acquire()
    try:
        plan = TerminalPlan("real", (r"C:\MT5\terminal64.exe",), 1, "test")
        with pytest.raises(_SyncRefused, match="the app is running on this data dir"):
            async with _terminals(settings, plan):
                pass
    finally:
        app_lock.release()


def test_sync_takes_the_terminal_flags_before_or_after_it() -> None:
    from app.cli import build_parser, settings_overrides

    parser = build_parser()
    for argv in (["--sim", "accounts", "sync", "--all"], ["accounts", "sync", "--all", "--sim"]):
        assert settings_overrides(parser.parse_args(argv))["terminals"] == {"sim": True}
    given = parser.parse_args(["accounts", "sync", "1", "--terminal", r"C:\MT5\terminal64.exe"])
    assert settings_overrides(given)["terminals"] == {"paths": [r"C:\MT5\terminal64.exe"]}
    assert "terminals" not in settings_overrides(parser.parse_args(["accounts", "sync", "1"]))
