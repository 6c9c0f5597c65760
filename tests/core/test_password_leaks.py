"""No password in the database file, the logs, the audit trail, the CLI's output, or any event (the
carousel's included): searched byte by byte.

The passwords must be found in one place only — the keyring — and that is checked too, so the search
is known to be looking for the right bytes.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from app.audit import AuditTrail
from app.config import CarouselSettings, LoggingSettings
from app.core.accounts import AccountRegistry
from app.core.accounts_cli import account_json, format_table
from app.core.audit_hooks import account_change_recorder
from app.core.carousel import Carousel
from app.core.credentials import SERVICE_NAME, CredentialStore
from app.core.hub import Delivery, EventHub, Topic
from app.core.storage import Database, database_path
from app.logs import setup_logging
from app.models import AccountEdit, AccountStatus, NewAccount, Side
from app.mt5.pool import TerminalPool
from tests.conftest import app_command, subprocess_env
from tests.support.factories import deal, position, snapshot, utc
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import wait_until

FIRST = "Leak-Canary-1 ünï"
SECOND = "Leak-Canary-2 §$%"
THIRD = "Leak-Canary-3"


def encodings(secret: str) -> list[bytes]:
    return [secret.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be")]


def files_under(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*")) if path.is_file())


def assert_absent(secrets: list[str], where: str, data: bytes) -> None:
    for secret in secrets:
        for encoded in encodings(secret):
            assert encoded not in data, f"a password was found in {where}"


def assert_no_file_holds(secrets: list[str], data_dir: Path) -> int:
    scanned = 0
    for path in files_under(data_dir):
        assert_absent(secrets, str(path), path.read_bytes())
        scanned += 1
    return scanned


@pytest.fixture
def reset_logging() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(False)


async def test_no_password_in_database_logs_or_events(
    data_dir: Path, capsys: pytest.CaptureFixture[str], reset_logging: None
) -> None:
    bus = setup_logging(LoggingSettings(level="DEBUG"), data_dir)
    backend = MemoryKeyring()
    hub = EventHub()
    events = hub.subscribe(Topic.ACCOUNTS, Delivery.ALL)
    hooked: list[object] = []
    db = Database(database_path(data_dir))
    await db.start()
    registry = AccountRegistry(db, CredentialStore(backend), hub=hub, on_change=hooked.append)

    one = await registry.add(NewAccount(5001, "Broker-Demo", alias="main"), FIRST)
    two = await registry.add(NewAccount(5002, "Broker-Demo"), THIRD)
    await registry.edit(one.id, AccountEdit(alias="renamed"), password=SECOND)
    secret = await registry.password(one)
    logging.getLogger("app.test").info("logging in %s with %r / %s", one.key, secret, secret)
    seen = snapshot(utc(2026, 12, 1), positions=(position("EURUSD", Side.BUY, 0.1, 1.1, 2.0),))
    await registry.record_visit(one, seen, [deal(utc(2026, 11, 30), profit=5.0)])
    await registry.set_status(one.id, AccountStatus.ERROR, "invalid account (authorization failed)")
    await registry.remove(two.id)
    listed = await registry.list()

    secrets = [FIRST, SECOND, THIRD]
    assert_no_file_holds(secrets, data_dir)  # while open: the WAL holds the recent writes
    await db.stop()
    assert assert_no_file_holds(secrets, data_dir) >= 2  # the database and the log file, at least

    payloads = [e.value for e in events.drain()] + hooked + listed
    texts = [repr(p) for p in payloads] + [str(dataclasses.asdict(p)) for p in payloads]
    texts += [str(account_json(a)) for a in listed] + [format_table(listed)]
    texts += [e.message for e in bus.recent()] + [str(e.to_json()) for e in bus.recent()]
    console = capsys.readouterr()
    texts += [console.out, console.err]
    assert_absent(secrets, "the events, the log bus or the console", "\n".join(texts).encode("utf-8"))

    assert backend.entries == {(SERVICE_NAME, "5001@Broker-Demo"): SECOND}  # where it belongs, only
    assert len(payloads) >= 6 and bus.recent()


@pytest.mark.keyring
@pytest.mark.slow
def test_no_password_in_the_files_or_output_of_the_cli(
    data_dir: Path, secret_service: KeyringBackend
) -> None:
    server = f"Leak-{uuid.uuid4().hex[:8]}"
    outputs: list[str] = []

    def cli(*args: str, stdin: str | None = None) -> None:
        result = subprocess.run(
            app_command("--log-level", "DEBUG", "accounts", *args, "--data-dir", str(data_dir)),
            input=stdin,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        outputs.extend([result.stdout, result.stderr])

    cli("add", "--login", "6001", "--server", server, "--alias", "canary", stdin=FIRST + "\n")
    cli("add", "--login", "6002", "--server", server, stdin=THIRD + "\n")
    cli("edit", f"6001@{server}", "--set-password", stdin=SECOND + "\n")
    cli("list")
    cli("list", "--json")
    cli("remove", f"6002@{server}", "--yes")

    secrets = [FIRST, SECOND, THIRD]
    assert assert_no_file_holds(secrets, data_dir) >= 2
    assert_absent(secrets, "the CLI's output", "\n".join(outputs).encode("utf-8"))
    assert "DEBUG" in "".join(outputs)  # the console did talk, at the most verbose level
    assert secret_service.get_password(SERVICE_NAME, f"6001@{server}") == SECOND
    assert secret_service.get_password(SERVICE_NAME, f"6002@{server}") is None
    cli("remove", f"6001@{server}", "--yes")


@pytest.mark.slow
async def test_no_password_in_anything_the_carousel_touches(
    data_dir: Path,
    admin: Any,
    client_factory: Any,
    capsys: pytest.CaptureFixture[str],
    reset_logging: None,
) -> None:
    """Visits that succeed, fail on a wrong password and share the live terminal (whose own password
    comes from the registry): the database, the log file, the audit trail, the hub's events and the
    console hold none of the passwords."""
    bus = setup_logging(LoggingSettings(level="DEBUG"), data_dir)
    backend = MemoryKeyring()
    hub = EventHub()
    events = hub.subscribe([Topic.ACCOUNTS, Topic.CAROUSEL, Topic.TERMINAL], Delivery.ALL, maxlen=100_000)
    db = Database(database_path(data_dir))
    await db.start()
    trail = AuditTrail(data_dir / "audit")
    trail.open()
    recorder = account_change_recorder(trail)
    registry = AccountRegistry(db, CredentialStore(backend), hub=hub, on_change=recorder)
    live_login, good_login, bad_login = 7_200_001, 7_200_002, 7_200_003
    for login, password in ((live_login, FIRST), (good_login, SECOND), (bad_login, "Right-One")):
        admin.create_account(login, password)
    live = await registry.add(NewAccount(live_login, "SimBroker-Demo"), FIRST, actor="gui")
    good = await registry.add(NewAccount(good_login, "SimBroker-Demo"), SECOND, actor="gui")
    await registry.add(NewAccount(bad_login, "SimBroker-Demo"), THIRD, actor="gui")  # wrong password
    client, _ = await client_factory("t1")
    await client.login(live_login, FIRST, "SimBroker-Demo")  # the live account: a managed one
    pool = TerminalPool([client], lambda state: hub.publish(Topic.TERMINAL, state, key=state.terminal_id))
    settings = CarouselSettings(autostart=False, shared_pause_s=0, cycle_interval_s=0, login_timeout_s=5)
    carousel = Carousel(registry, pool, hub, settings, audit=trail)

    await carousel.run("gui")
    try:
        await wait_until(lambda: carousel.status().cycle >= 2)
    finally:
        await carousel.halt("gui")
    report = await carousel.run_cycle()
    await carousel.sync_now(good.id)
    assert {v.account.id for v in report.visits} == {live.id, good.id}
    assert (await registry.get(3)).status_reason.startswith("login refused")
    assert (await client.call("account")).login == live_login and pool.lends >= 2

    secrets = [FIRST, SECOND, THIRD]
    listed = await registry.list()
    assert_no_file_holds(secrets, data_dir)
    await db.stop()
    trail.close()
    assert assert_no_file_holds(secrets, data_dir) >= 3  # database, log file, audit trail at least
    payloads = [e.value for e in events.drain()] + listed
    texts = [repr(p) for p in payloads] + [str(dataclasses.asdict(p)) for p in payloads]
    texts += [e.message for e in bus.recent()] + [str(e.to_json()) for e in bus.recent()]
    console = capsys.readouterr()
    texts += [console.out, console.err]
    assert_absent(secrets, "the events, the log bus or the console", "\n".join(texts).encode("utf-8"))
    assert any("login refused" in text for text in texts)  # the failure was reported, without it
