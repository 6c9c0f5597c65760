"""The account registry: validation, keyring and row moving together, events and the audit hook."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import keyring.errors
import pytest
from keyring.backends import fail

from app.config import AccountsSettings
from app.core.accounts import (
    AccountRegistry,
    DuplicateAccountError,
    InvalidAccountError,
    UnknownAccountError,
    parse_account_ref,
)
from app.core.credentials import SERVICE_NAME, CredentialMissing, CredentialStore, CredentialStoreUnavailable
from app.core.hub import Delivery, EventHub, Topic
from app.core.storage import Database, database_path
from app.models import (
    AccountAction,
    AccountEdit,
    AccountStatus,
    AccountUpdate,
    DealType,
    NewAccount,
    Side,
)
from tests.support.factories import deal, position, snapshot, utc
from tests.support.keyrings import MemoryKeyring

NOW = utc(2026, 12, 1, 22, 30)


class Harness:
    def __init__(self, db: Database, backend: MemoryKeyring) -> None:
        self.db = db
        self.backend = backend
        self.hub = EventHub()
        self.events = self.hub.subscribe(Topic.ACCOUNTS, Delivery.ALL)
        self.changes: list[AccountUpdate] = []
        self.registry = AccountRegistry(
            db,
            CredentialStore(backend),
            hub=self.hub,
            on_change=self.changes.append,
            settings=AccountsSettings(server_utc_offsets={"Broker-Live": 2}),
            clock=lambda: NOW,
        )

    def password_of(self, key: str) -> str | None:
        return self.backend.entries.get((SERVICE_NAME, key))

    def updates(self) -> list[AccountUpdate]:
        return [event.value for event in self.events.drain()]


@pytest.fixture
async def h(data_dir: Path) -> AsyncIterator[Harness]:
    db = Database(database_path(data_dir))
    await db.start()
    yield Harness(db, MemoryKeyring())
    await db.stop()


# ----------------------------------------------------------------------------- add


async def test_add_keeps_the_password_in_the_keyring_and_the_row_in_the_database(h: Harness) -> None:
    account = await h.registry.add(
        NewAccount(5001, "  Broker-Demo ", broker="Broker", alias="main", terminal_id="T1"), "pa55"
    )
    assert (account.login, account.server, account.alias, account.terminal_id) == (
        5001,
        "Broker-Demo",
        "main",
        "T1",
    )
    assert account.status is AccountStatus.PENDING and account.created_at == NOW
    assert h.password_of("5001@Broker-Demo") == "pa55"
    assert await h.registry.list() == [account]
    assert h.updates() == [AccountUpdate(AccountAction.ADDED, account)]
    assert h.changes == [AccountUpdate(AccountAction.ADDED, account)]
    assert (await h.registry.password(account)).reveal() == "pa55"


@pytest.mark.parametrize(
    ("new", "password", "field"),
    [
        (NewAccount(0, "S"), "Zq9-secret", "login"),
        (NewAccount(-5, "S"), "Zq9-secret", "login"),
        (NewAccount(2**63, "S"), "Zq9-secret", "login"),
        (NewAccount(True, "S"), "Zq9-secret", "login"),
        (NewAccount(1, "   "), "Zq9-secret", "server"),
        (NewAccount(1, "S\x00"), "Zq9-secret", "server"),
        (NewAccount(1, "S" * 129), "Zq9-secret", "server"),
        (NewAccount(1, "S", alias="a" * 65), "Zq9-secret", "alias"),
        (NewAccount(1, "S", broker="b\nc"), "Zq9-secret", "broker"),
        (NewAccount(1, "S", terminal_id="t\tx"), "Zq9-secret", "terminal"),
        (NewAccount(1, "S"), "", "password"),
        (NewAccount(1, "S"), "pa55\n", "password"),
        (NewAccount(1, "S"), "x" * 257, "password"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    h: Harness, new: NewAccount, password: str, field: str
) -> None:
    with pytest.raises(InvalidAccountError) as caught:
        await h.registry.add(new, password)
    assert caught.value.field == field
    if password:
        assert password.strip() not in str(caught.value)
    assert h.backend.entries == {} and await h.registry.list() == [] and h.changes == []


async def test_a_duplicate_is_refused_and_the_first_password_kept(h: Harness) -> None:
    await h.registry.add(NewAccount(5001, "Broker-Demo"), "first")
    with pytest.raises(DuplicateAccountError, match="5001@broker-demo is already registered"):
        await h.registry.add(NewAccount(5001, "broker-demo"), "second")
    assert h.password_of("5001@Broker-Demo") == "first"
    assert h.password_of("5001@broker-demo") is None
    assert len(await h.registry.list()) == 1


async def test_no_usable_keyring_means_no_row(data_dir: Path, h: Harness) -> None:
    registry = AccountRegistry(h.db, CredentialStore(fail.Keyring()))
    with pytest.raises(CredentialStoreUnavailable, match="no usable OS keyring"):
        await registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    assert await h.registry.list() == []


async def test_a_keyring_that_fails_on_write_means_no_row(h: Harness) -> None:
    h.backend.fail = keyring.errors.PasswordSetError("Failed to unlock the collection!")
    with pytest.raises(CredentialStoreUnavailable, match="PasswordSetError"):
        await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    h.backend.fail = None
    assert await h.registry.list() == [] and h.backend.entries == {} and h.changes == []


@pytest.mark.parametrize("earlier", [None, "left-over"])
async def test_if_the_row_cannot_be_written_the_keyring_is_put_back(h: Harness, earlier: str | None) -> None:
    # Another process (the CLI, say) registers the same account between our check and our insert.
    if earlier is not None:
        h.backend.entries[(SERVICE_NAME, "5001@Broker-Demo")] = earlier

    def other_process_registers_it(service: str, username: str) -> None:
        h.backend.on_set = None
        with sqlite3.connect(h.db.path or "") as other:  # its own connection, as another process
            other.execute(
                "INSERT INTO accounts (login, server, created_ms, updated_ms) "
                "VALUES (5001, 'Broker-Demo', 0, 0)"
            )
        other.close()

    h.backend.on_set = other_process_registers_it
    with pytest.raises(DuplicateAccountError):
        await h.registry.add(NewAccount(5001, "Broker-Demo"), "mine")
    assert h.password_of("5001@Broker-Demo") == earlier
    assert h.changes == []


async def test_the_add_finishes_even_if_the_caller_is_cancelled(h: Harness) -> None:
    h.backend.delay_s = 0.1  # a slow keyring: the window closes while it works
    adding = asyncio.ensure_future(h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55"))
    await asyncio.sleep(0.15)
    adding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await adding
    for _ in range(100):
        if [a.key for a in await h.registry.list()]:
            break
        await asyncio.sleep(0.05)
    assert [a.key for a in await h.registry.list()] == ["5001@Broker-Demo"]
    assert h.password_of("5001@Broker-Demo") == "pa55"


# ----------------------------------------------------------------------------- edit


async def test_edit_fields_and_password(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo", alias="main", terminal_id="T1"), "old")
    h.updates()
    edited = await h.registry.edit(account.id, AccountEdit(alias=" demo ", terminal_id="", enabled=False))
    assert (edited.alias, edited.terminal_id, edited.enabled) == ("demo", None, False)
    assert h.password_of(account.key) == "old"
    renewed = await h.registry.edit(account.id, AccountEdit(), password="new")
    assert h.password_of(account.key) == "new"
    assert [(u.action, u.password_changed) for u in h.updates()] == [
        (AccountAction.EDITED, False),
        (AccountAction.EDITED, True),
    ]
    assert h.changes[-1].account == renewed


async def test_edit_refuses_nothing_unknown_and_bad_input(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    with pytest.raises(InvalidAccountError, match="nothing to change"):
        await h.registry.edit(account.id, AccountEdit())
    with pytest.raises(UnknownAccountError, match="no account with id 99"):
        await h.registry.edit(99, AccountEdit(alias="x"))
    with pytest.raises(InvalidAccountError, match="alias"):
        await h.registry.edit(account.id, AccountEdit(alias="x" * 65))
    with pytest.raises(InvalidAccountError, match="password"):
        await h.registry.edit(account.id, AccountEdit(), password="")


async def test_edit_with_a_failing_keyring_changes_nothing(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo", alias="main"), "pa55")
    h.backend.fail = keyring.errors.KeyringLocked("locked")
    with pytest.raises(CredentialStoreUnavailable):
        await h.registry.edit(account.id, AccountEdit(alias="other"), password="new")
    h.backend.fail = None
    assert (await h.registry.get(account.id)).alias == "main"
    assert h.password_of(account.key) == "pa55"


# ----------------------------------------------------------------------------- remove


async def test_remove_deletes_row_history_and_keyring_entry(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    keep = await h.registry.add(NewAccount(5002, "Broker-Demo"), "other")
    await h.registry.record_visit(account, snapshot(NOW), [deal(NOW, profit=1.0)])
    assert await h.registry.history_size(account.id) == (1, 1)
    h.updates()

    removed = await h.registry.remove(account.id)
    assert removed.id == account.id and removed.status is AccountStatus.OK
    assert [a.id for a in await h.registry.list()] == [keep.id]
    assert h.password_of(account.key) is None and h.password_of(keep.key) == "other"
    assert await h.registry.history_size(account.id) == (0, 0)
    assert [(u.action, u.account.id) for u in h.updates()] == [(AccountAction.REMOVED, account.id)]
    assert h.changes[-1].action is AccountAction.REMOVED
    with pytest.raises(UnknownAccountError):
        await h.registry.remove(account.id)


async def test_remove_without_a_usable_keyring_removes_nothing(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    h.backend.fail = keyring.errors.InitError("Failed to create the collection")
    with pytest.raises(CredentialStoreUnavailable):
        await h.registry.remove(account.id)
    h.backend.fail = None
    assert await h.registry.list() == [account]
    assert h.password_of(account.key) == "pa55"


async def test_remove_works_when_the_keyring_entry_is_already_gone(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    h.backend.entries.clear()
    await h.registry.remove(account.id)
    assert await h.registry.list() == []


# ----------------------------------------------------------------------------- lookups, status, visits


async def test_resolve_by_id_or_login_at_server(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    assert await h.registry.resolve(str(account.id)) == account
    assert await h.registry.resolve(account.id) == account
    assert await h.registry.resolve("5001@broker-demo") == account
    with pytest.raises(UnknownAccountError, match="no account 5001@Other"):
        await h.registry.resolve("5001@Other")
    with pytest.raises(InvalidAccountError, match="LOGIN@SERVER"):
        await h.registry.resolve("main")
    assert parse_account_ref(" 12 ") == 12
    assert parse_account_ref("12@A@B") == (12, "A@B")


async def test_missing_password_is_its_own_error(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    h.backend.entries.clear()
    with pytest.raises(CredentialMissing, match="edit the account to set it"):
        await h.registry.password(account)


async def test_status_changes_are_published_with_the_latest_snapshot(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    await h.registry.record_visit(account, snapshot(NOW, balance=123.0))
    h.updates()
    failed = await h.registry.set_status(account.id, AccountStatus.ERROR, "invalid password")
    assert (failed.status, failed.status_reason) == (AccountStatus.ERROR, "invalid password")
    (update,) = h.updates()
    assert update.action is AccountAction.STATUS and update.snapshot is not None
    assert update.snapshot.balance == 123.0
    assert h.hub.latest(Topic.ACCOUNTS, account.id) == update  # the latest per account is its state
    assert [c.action for c in h.changes] == [AccountAction.ADDED]  # status is not an audit event
    with pytest.raises(UnknownAccountError):
        await h.registry.set_status(99, AccountStatus.OK)


async def test_a_visit_uses_the_servers_calendar(h: Harness) -> None:
    live = await h.registry.add(NewAccount(5001, "Broker-Live"), "pa55")  # UTC+2 in the settings
    demo = await h.registry.add(NewAccount(5002, "Broker-Demo"), "pa55")  # UTC
    deals = [
        deal(utc(2026, 11, 1), type=DealType.BALANCE, profit=5_000.0),
        deal(utc(2026, 12, 1, 21, 59), profit=-12.5, commission=-1.0),
        deal(utc(2026, 12, 1, 22, 10), profit=40.0, commission=-1.0, swap=0.5),
    ]
    seen = snapshot(NOW, positions=(position("EURUSD", Side.BUY, 0.1, 1.1, 3.0),))
    on_live = await h.registry.record_visit(live, seen, deals)
    on_demo = await h.registry.record_visit(demo, seen, deals)
    assert on_live is not None and on_demo is not None
    assert on_live.snapshot.pnl.day == pytest.approx(39.5)
    assert on_demo.snapshot.pnl.day == pytest.approx(26.0)
    assert on_live.account.status is AccountStatus.OK
    latest = await h.registry.latest_snapshots()
    assert latest[live.id].positions == seen.positions
    assert [u.action for u in h.updates()][-2:] == [AccountAction.VISITED, AccountAction.VISITED]
    assert h.registry.calendar(live).utc_offset == timedelta(hours=2)


# ----------------------------------------------------------------------------- the audit hook


async def test_a_failing_hook_is_logged_and_the_change_stands(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(update: AccountUpdate) -> None:
        raise OSError("audit disk full")

    registry = AccountRegistry(h.db, CredentialStore(h.backend), on_change=broken)
    with caplog.at_level(logging.ERROR):
        account = await registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    assert await registry.list() == [account]
    assert "account change hook failed for added 5001@Broker-Demo" in caplog.text


async def test_a_coroutine_hook_is_awaited(h: Harness) -> None:
    seen: list[AccountAction] = []

    async def audit(update: AccountUpdate) -> None:
        await asyncio.sleep(0)
        seen.append(update.action)

    registry = AccountRegistry(h.db, CredentialStore(h.backend), on_change=audit)
    account = await registry.add(NewAccount(5001, "Broker-Demo"), "pa55")
    await registry.edit(account.id, AccountEdit(alias="x"))
    await registry.remove(account.id)
    assert seen == [AccountAction.ADDED, AccountAction.EDITED, AccountAction.REMOVED]


async def test_an_unknown_terminal_is_refused_at_add_and_edit(h: Harness) -> None:
    registry = AccountRegistry(h.db, CredentialStore(h.backend), terminals=lambda: ["sim-1", "sim-2"])
    with pytest.raises(InvalidAccountError, match=r"no terminal 'no-such-terminal'.*sim-1, sim-2") as caught:
        await registry.add(NewAccount(5001, "Broker-Demo", terminal_id="no-such-terminal"), "pa55")
    assert caught.value.field == "terminal"
    assert await registry.list() == [] and h.password_of("5001@Broker-Demo") is None
    account = await registry.add(NewAccount(5001, "Broker-Demo", terminal_id="sim-2"), "pa55")
    with pytest.raises(InvalidAccountError, match="no terminal 'sim-9'"):
        await registry.edit(account.id, AccountEdit(terminal_id="sim-9"))
    assert (await registry.get(account.id)).terminal_id == "sim-2"
    cleared = await registry.edit(account.id, AccountEdit(terminal_id=""))  # unassigning is always fine
    assert cleared.terminal_id is None


async def test_passwords_are_kept_byte_exact(h: Harness) -> None:
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "  spaced pass  ")
    assert h.password_of(account.key) == "  spaced pass  "
    await h.registry.edit(account.id, AccountEdit(), password=" other ")
    assert h.password_of(account.key) == " other "


async def test_a_new_or_changed_password_is_verified_and_pending_until_then(h: Harness) -> None:
    asked: list[int] = []
    h.registry.verifier = lambda account: asked.append(account.id)
    account = await h.registry.add(NewAccount(5001, "Broker-Demo"), "first")
    assert asked == [account.id] and account.status is AccountStatus.PENDING
    await h.registry.set_status(account.id, AccountStatus.OK)
    edited = await h.registry.edit(account.id, AccountEdit(alias="renamed"))
    assert edited.status is AccountStatus.OK and asked == [account.id]  # no new password: nothing to check
    renewed = await h.registry.edit(account.id, AccountEdit(), password="second")
    assert renewed.status is AccountStatus.PENDING and "not verified" in renewed.status_reason
    assert asked == [account.id, account.id]
