"""``mt5-console accounts ...`` as a user runs it: real subprocesses, the password on stdin or typed
at a terminal, exit codes, one-line errors, and the password nowhere but the keyring."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from app.core.credentials import SERVICE_NAME
from app.core.storage import database_path
from tests.conftest import app_command, subprocess_env
from tests.support.tty import TerminalSession

pytestmark = pytest.mark.slow


def accounts(
    data_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command("accounts", *args, "--data-dir", str(data_dir)),
        input=stdin,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def rows(data_dir: Path) -> list[tuple[int, str]]:
    path = database_path(data_dir)
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT login, server FROM accounts ORDER BY id").fetchall()
    conn.close()
    return found


@pytest.fixture
def server() -> str:
    """A server name no other test uses (the private keyring is shared by the whole run)."""
    return f"Broker-{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------------- with the real keyring


@pytest.mark.keyring
def test_add_list_edit_remove(data_dir: Path, secret_service: KeyringBackend, server: str) -> None:
    key = f"5001@{server}"
    added = accounts(
        data_dir, "add", "--login", "5001", "--server", server, "--alias", "main", stdin="Pa55 w0rd!\n"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added account 1: {key} (main) (status pending)"
    assert added.stderr == ""
    assert secret_service.get_password(SERVICE_NAME, key) == "Pa55 w0rd!"

    unknown = accounts(
        data_dir, "add", "--login", "5002", "--server", server, "--terminal", "T2", stdin="other\n",
    )  # fmt: skip
    assert unknown.returncode == 2  # the pool (the simulator's, here) has no terminal T2
    assert one_error_line(unknown) == (
        "mt5-console: error: there is no terminal 'T2' in the pool (the terminals are: sim-1)"
    )
    second = accounts(
        data_dir, "add", "--login", "5002", "--server", server, "--broker", "Big Broker", "--terminal",
        "sim-1", "--disabled", stdin="other\n",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr

    table = accounts(data_dir, "list")
    assert table.returncode == 0
    header, first_row, second_row = table.stdout.strip().splitlines()
    assert header.split() == [
        "ID",
        "ACCOUNT",
        "ALIAS",
        "BROKER",
        "TERMINAL",
        "ENABLED",
        "STATUS",
        "LAST",
        "SNAPSHOT",
        "REASON",
    ]
    assert first_row.split() == ["1", key, "main", "-", "yes", "pending", "never"]
    assert second_row.split() == ["2", f"5002@{server}", "Big", "Broker", "sim-1", "no", "pending", "never"]

    edited = accounts(data_dir, "edit", f"5002@{server}", "--enable", "--no-terminal", "--alias", "second")
    assert edited.returncode == 0, edited.stderr
    renewed = accounts(data_dir, "edit", "1", "--set-password", stdin="n3w-Pa55\n")
    assert renewed.returncode == 0, renewed.stderr
    assert renewed.stdout.strip() == f"edited account 1 and password: {key} (main)"
    assert secret_service.get_password(SERVICE_NAME, key) == "n3w-Pa55"

    listed = json.loads(accounts(data_dir, "list", "--json").stdout)
    assert [(a["id"], a["key"], a["alias"], a["terminal"], a["enabled"]) for a in listed] == [
        (1, key, "main", None, True),
        (2, f"5002@{server}", "second", None, True),
    ]
    assert all("password" not in field for a in listed for field in a)
    assert listed[0]["created_at"].endswith("Z")

    unconfirmed = accounts(data_dir, "remove", key)  # stdin is not a terminal: no one to ask
    assert unconfirmed.returncode == 2
    assert (
        one_error_line(unconfirmed)
        == "mt5-console: error: refusing to remove without confirmation: add --yes"
    )
    assert secret_service.get_password(SERVICE_NAME, key) == "n3w-Pa55"

    removed = accounts(data_dir, "remove", key, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"removed account 1: {key} (main)"
    assert secret_service.get_password(SERVICE_NAME, key) is None
    assert rows(data_dir) == [(5002, server)]
    assert accounts(data_dir, "remove", "2", "-y").returncode == 0
    assert accounts(data_dir, "list").stdout.strip().startswith("no accounts")


@pytest.mark.keyring
def test_refusals_exit_1_with_one_line(data_dir: Path, secret_service: KeyringBackend, server: str) -> None:
    assert accounts(data_dir, "add", "--login", "5001", "--server", server, stdin="pw\n").returncode == 0
    duplicate = accounts(data_dir, "add", "--login", "5001", "--server", server.upper(), stdin="other\n")
    assert duplicate.returncode == 1
    assert (
        one_error_line(duplicate)
        == f"mt5-console: error: account 5001@{server.upper()} is already registered"
    )
    assert secret_service.get_password(SERVICE_NAME, f"5001@{server}") == "pw"

    for ref, message in (("99", "no account with id 99"), (f"7@{server}", f"no account 7@{server}")):
        unknown = accounts(data_dir, "remove", ref, "--yes")
        assert unknown.returncode == 1
        assert one_error_line(unknown) == f"mt5-console: error: {message}"
    assert accounts(data_dir, "remove", "1", "--yes").returncode == 0


@pytest.mark.keyring
@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "no password on standard input"),
        ("\n", "the password is empty"),
    ],
)
def test_a_missing_password_on_stdin_is_exit_2(
    data_dir: Path, secret_service: KeyringBackend, server: str, stdin: str, message: str
) -> None:
    result = accounts(data_dir, "add", "--login", "5001", "--server", server, stdin=stdin)
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert rows(data_dir) == []
    assert secret_service.get_password(SERVICE_NAME, f"5001@{server}") is None


@pytest.mark.keyring
def test_the_password_typed_at_a_terminal_is_not_echoed(
    data_dir: Path, secret_service: KeyringBackend, server: str
) -> None:
    key = f"5003@{server}"
    session = TerminalSession(
        app_command("accounts", "add", "--login", "5003", "--server", server, "--data-dir", str(data_dir)),
        subprocess_env(),
    )
    session.expect(f"Password for {key}: ")
    session.send_line("Typed-Pa55!")
    session.expect("Repeat the password: ")
    session.send_line("Typed-Pa55!")
    assert session.finish() == 0, session.output
    assert f"added account 1: {key}" in session.output
    assert "Typed-Pa55!" not in session.output
    assert secret_service.get_password(SERVICE_NAME, key) == "Typed-Pa55!"

    asked = TerminalSession(
        app_command("accounts", "remove", key, "--data-dir", str(data_dir)), subprocess_env()
    )
    asked.expect(
        f"Remove account 1 {key}, its password from the OS keyring, 0 snapshot(s) and 0 deal(s)? [y/N] "
    )
    asked.send_line("y")
    assert asked.finish() == 0, asked.output
    assert secret_service.get_password(SERVICE_NAME, key) is None


@pytest.mark.keyring
def test_two_different_passwords_at_the_terminal_are_refused(
    data_dir: Path, secret_service: KeyringBackend, server: str
) -> None:
    session = TerminalSession(
        app_command("accounts", "add", "--login", "5004", "--server", server, "--data-dir", str(data_dir)),
        subprocess_env(),
    )
    session.expect("Password for")
    session.send_line("one")
    session.expect("Repeat the password: ")
    session.send_line("two")
    assert session.finish() == 2
    assert "the two passwords differ" in session.output
    assert rows(data_dir) == []


# ----------------------------------------------------------------------------- without a keyring


def test_no_usable_keyring_is_a_clear_error_and_nothing_is_written(data_dir: Path) -> None:
    result = accounts(
        data_dir, "add", "--login", "5001", "--server", "Broker-Demo", stdin="Never-Stored-1\n",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )  # fmt: skip
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("mt5-console: error: no usable OS keyring for account passwords")
    assert "gnome-keyring" in line and "keyrings.alt are refused" in line and "Nothing was changed" in line
    assert result.stdout == ""
    assert not database_path(data_dir).exists()  # not even an empty database
    assert "Never-Stored-1" not in result.stderr + (data_dir / "logs" / "mt5-console.log").read_text()


def test_a_password_argument_is_refused_without_echoing_it(data_dir: Path) -> None:
    add = ("add", "--login", "5001", "--server", "S")
    for command in (
        (*add, "--password", "Arg-Pa55"),
        (*add, "--password=Arg-Pa55"),
        (*add, "--pass", "Arg-Pa55"),
        ("edit", "1", "--password", "Arg-Pa55"),
        ("list", "--password", "Arg-Pa55"),
    ):
        result = accounts(data_dir, *command)
        assert result.returncode == 2
        line = one_error_line(result)
        assert "a password is never taken as an argument" in line
        assert "Arg-Pa55" not in line
    assert rows(data_dir) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--login", "50a1", "--server", "S"), "login must be a positive whole number, not '50a1'"),
        (("add", "--login", "0", "--server", "S"), "login must be a positive whole number"),
        (("add", "--login", "5001", "--server", " "), "server must not be empty"),
        (("add", "--login", "5001"), "the following arguments are required: --server"),
        (("remove", "main", "--yes"), "expected an account id or LOGIN@SERVER, not 'main'"),
        (("edit", "1"), "nothing to change"),
        ((), "the following arguments are required: ACTION"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    result = accounts(data_dir, *args)
    assert result.returncode == 2
    assert message in one_error_line(result)


def test_list_of_nothing(data_dir: Path) -> None:
    table = accounts(data_dir, "list")
    assert (table.returncode, table.stdout.strip()) == (
        0,
        "no accounts (add one: mt5-console accounts add --login N --server S)",
    )
    as_json = accounts(data_dir, "list", "--json")
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])
