"""``mt5-console accounts set-password``: an account's password into this machine's OS keyring only
(a node of the distributed carousel then serves it); the row and the store stay as they were."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from app.core.credentials import SERVICE_NAME
from app.core.storage import Database, database_path
from app.core.times import utc_now
from app.models import NewAccount
from tests.cli.test_accounts_cli import accounts

pytestmark = pytest.mark.slow


@pytest.mark.keyring
def test_set_password_keeps_it_in_this_machines_keyring_and_nowhere_else(
    data_dir: Path, secret_service: KeyringBackend
) -> None:
    server = f"Broker-{uuid.uuid4().hex[:8]}"
    with Database(database_path(data_dir)) as db:  # the row came from another machine: no password here
        account = db.call(lambda tx: tx.accounts.insert(NewAccount(5101, server, alias="a"), utc_now()))
    key = f"5101@{server}"
    assert secret_service.get_password(SERVICE_NAME, key) is None

    done = accounts(data_dir, "set-password", key, stdin="N0de-s3cret\n")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip() == f"password of account {account.id} ({key}) kept in this machine's OS keyring"
    )
    assert secret_service.get_password(SERVICE_NAME, key) == "N0de-s3cret"
    assert "N0de-s3cret" not in done.stdout + done.stderr
    assert b"N0de-s3cret" not in database_path(data_dir).read_bytes()
    with Database(database_path(data_dir)) as db:
        assert db.call(lambda tx: tx.accounts.get(account.id)) == account  # the row is untouched
    logs = "".join(p.read_text() for p in (data_dir / "logs").glob("*"))
    assert "N0de-s3cret" not in logs

    by_id = accounts(data_dir, "set-password", str(account.id), stdin="N0de-s3cret-2\n")
    assert by_id.returncode == 0, by_id.stderr
    assert secret_service.get_password(SERVICE_NAME, key) == "N0de-s3cret-2"


def test_set_password_refuses_an_unknown_account_and_a_password_argument(data_dir: Path) -> None:
    with Database(database_path(data_dir)):
        pass
    unknown = accounts(
        data_dir,
        "set-password",
        "77",
        stdin="x\n",
        PYTHON_KEYRING_BACKEND="tests.support.keyrings.MemoryKeyring",
    )
    assert unknown.returncode in (1, 2)
    assert len(unknown.stderr.strip().splitlines()) == 1 and "Traceback" not in unknown.stderr
    flag = accounts(data_dir, "set-password", "77", "--password", "hunter2")
    assert flag.returncode == 2 and "hunter2" not in flag.stderr
