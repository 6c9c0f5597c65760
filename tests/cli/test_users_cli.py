"""``mt5-console server users ...`` and ``server keys ...`` as a user runs them (real subprocesses, a
real database and audit trail): each action works, each bad input is one clear line with exit 2 (or 1
for an unknown or taken name) and changes nothing; passwords come from stdin, never an argument."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from app.audit import AuditQuery, AuditReader, AuditTrail, audit_dir
from app.core.storage import Database, database_path
from app.core.users import UserDirectory
from app.models import NewAccount
from app.models.users import Role, Scope
from tests.conftest import app_command, subprocess_env
from tests.support.factories import utc

pytestmark = pytest.mark.slow

PASSWORD = "viewer password 1"  # noqa: S105 - the tests' own


def run(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command("server", *args, "--data-dir", str(data_dir)),
        input=stdin,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def users_in(data_dir: Path) -> list[tuple[str, str, list[int] | None, int]]:
    with Database(database_path(data_dir)) as db:
        people = db.call(lambda tx: tx.users.list())
    return [(u.username, u.role.value, u.scope.to_json(), u.version) for u in people]


def actions(data_dir: Path) -> list[tuple[str, str]]:
    entries = AuditReader(audit_dir(data_dir)).query(AuditQuery()) if audit_dir(data_dir).exists() else []
    return [(e.actor, e.action) for e in entries]


@pytest.fixture
def with_accounts(data_dir: Path) -> Path:
    with Database(database_path(data_dir)) as db:
        for login in (7001, 7002, 7003):
            db.call(lambda tx, login=login: tx.accounts.insert(NewAccount(login, "Demo"), utc(2026, 1, 1)))
    return data_dir


def _add_directly(data_dir: Path, name: str) -> None:
    """A user made in-process (as the CLI would: a subprocess costs seconds on a shared machine)."""
    with (
        Database(database_path(data_dir)) as db,
        AuditTrail.for_data_dir(data_dir) as trail,
    ):
        asyncio.run(UserDirectory(db, trail, "admin").add(name, Role.VIEWER, Scope(), PASSWORD, actor="cli"))


def test_add_list_change_and_remove_a_user(with_accounts: Path) -> None:
    data_dir = with_accounts
    added = run(
        data_dir, "users", "add", "ann", "--role", "viewer", "--accounts", "1,3", stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert "added user ann (role viewer, accounts 1,3)" in added.stdout
    assert users_in(data_dir) == [("ann", "viewer", [1, 3], 1)]
    with Database(database_path(data_dir)) as db:  # an argon2id hash, never the password
        stored = db.call(lambda tx: tx.users.get("ann"))
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in (data_dir / "mt5-console.db").read_bytes().decode("latin-1")

    listed = run(data_dir, "users", "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:2] == ["admin", "admin"] and "set-password" in lines[0]
    assert lines[1].split()[:4] == ["ann", "viewer", "accounts", "1,3"]

    assert run(data_dir, "users", "set-role", "ann", "trader").returncode == 0
    assert run(data_dir, "users", "set-accounts", "ann", "all").returncode == 0
    assert run(data_dir, "users", "set-password", "ann", stdin="a new password 2\n").returncode == 0
    assert users_in(data_dir) == [("ann", "trader", None, 4)]  # every change bumped the version

    removed = run(data_dir, "users", "remove", "ann", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert users_in(data_dir) == []
    assert [a for a in actions(data_dir) if a[1].startswith("user.")] == [
        ("cli", "user.add"),
        ("cli", "user.set_role"),
        ("cli", "user.set_accounts"),
        ("cli", "user.set_password"),
        ("cli", "user.remove"),
    ]
    trail = (audit_dir(data_dir)).glob("*.jsonl")
    assert all(PASSWORD not in f.read_text(encoding="utf-8") for f in trail)


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ("users", "add", "bob", "--role", "boss"),
            PASSWORD,
            2,
            "unknown role 'boss': one of admin, trader, viewer",
        ),
        (
            ("users", "add", "bob", "--role", "viewer", "--accounts", "1,x"),
            PASSWORD,
            2,
            "--accounts takes `all`",
        ),
        (
            ("users", "add", "bob", "--role", "viewer", "--accounts", "9"),
            PASSWORD,
            2,
            "no managed account with id 9",
        ),
        (("users", "add", "b b", "--role", "viewer"), PASSWORD, 2, "a user name is 1-64 letters"),
        (("users", "add", "admin", "--role", "viewer"), PASSWORD, 2, "built-in administrator"),
        (("users", "add", "bob", "--role", "viewer"), "short\n", 2, "at least 8 characters"),
        (("users", "add", "bob", "--role", "viewer"), "", 2, "no password on standard input"),
        (("users", "add", "bob", "--role", "viewer", "--password", "x"), "", 2, "never taken as an argument"),
        (("users", "add", "ann", "--role", "viewer"), PASSWORD, 1, "user 'ann' exists already"),
        (("users", "remove", "nobody", "--yes"), "", 1, "no user 'nobody'"),
        (("users", "remove", "ann"), "", 2, "refusing to remove without confirmation: add --yes"),
        (("users", "set-role", "nobody", "viewer"), "", 1, "no user 'nobody'"),
        (("users", "set-role", "ann", "root"), "", 2, "unknown role 'root'"),
        (("users", "set-role", "admin", "viewer"), "", 2, "built-in administrator"),
        (("users", "set-accounts", "ann", "0"), "", 2, "--accounts takes `all`"),
        (("users", "set-password", "nobody"), PASSWORD, 1, "no user 'nobody'"),
        (("keys", "create", "bot", "--role", "god"), "", 2, "unknown role 'god'"),
        (("keys", "create", "bot", "--role", "viewer", "--expires", "2001-01-01"), "", 2, "in the past"),
        (("keys", "create", "bot", "--role", "viewer", "--expires", "soon"), "", 2, "--expires takes"),
        (("keys", "revoke", "mt5c_zzzzzzzz"), "", 1, "no API key 'mt5c_zzzzzzzz'"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    with_accounts: Path, args: tuple[str, ...], stdin: str, code: int, message: str
) -> None:
    data_dir = with_accounts
    _add_directly(data_dir, "ann")
    before, trail = users_in(data_dir), actions(data_dir)
    result = run(data_dir, *args, stdin=stdin)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert users_in(data_dir) == before
    assert actions(data_dir) == trail
    if "--password" in args:
        assert "x" not in result.stderr.replace("argument", "")  # the value is not echoed


def test_an_api_key_is_shown_once_stored_hashed_listed_and_revoked(with_accounts: Path) -> None:
    data_dir = with_accounts
    made = run(
        data_dir, "keys", "create", "grafana", "--role", "viewer", "--accounts", "2", "--expires", "30d"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("mt5c_") and len(key) == 5 + 8 + 1 + 43
    prefix = key[:13]
    assert f"{prefix} for 'grafana': role viewer, accounts 2, expires 20" in made.stdout
    assert key not in (data_dir / "mt5-console.db").read_bytes().decode("latin-1")
    listed = run(data_dir, "keys", "list")
    assert prefix in listed.stdout and "active" in listed.stdout and "never used" in listed.stdout
    assert key not in listed.stdout
    revoked = run(data_dir, "keys", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in run(data_dir, "keys", "list").stdout
    again = run(data_dir, "keys", "revoke", prefix)
    assert again.returncode == 1 and "no active API key" in again.stderr
    trail = [json.dumps(e) for e in actions(data_dir)]
    assert ('["cli", "key.create"]' in trail) and ('["cli", "key.revoke"]' in trail)
