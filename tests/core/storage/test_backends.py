"""Choosing the backend from ``storage.url``; PostgreSQL's connection lost and made again; a password
in the URL never shows."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest

from app.config import SettingsError, StorageSettings, load_settings
from app.core.storage import Database, StorageError, Tx, database_target
from app.core.storage.backends import PostgresBackend, SqliteBackend, backend_for
from app.models import NewAccount
from tests.support.factories import utc
from tests.support.postgres import PostgresCluster


def test_sqlite_in_the_data_dir_is_the_default(data_dir: Path) -> None:
    target = database_target(data_dir, StorageSettings())
    assert target == data_dir / "mt5-console.db"
    assert isinstance(backend_for(target), SqliteBackend)
    assert Database(target).path == target


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_a_postgresql_url_is_driven_by_psycopg(scheme: str, data_dir: Path) -> None:
    target = database_target(data_dir, StorageSettings(url=f"{scheme}://mt5@db.example:5433/console"))
    backend = backend_for(target)
    assert isinstance(backend, PostgresBackend)
    assert backend.url.drivername == "postgresql+psycopg"
    assert (backend.url.host, backend.url.port, backend.url.database) == ("db.example", 5433, "console")
    assert Database(target).path is None


def test_a_bad_storage_url_stops_the_app_with_one_line_and_no_password(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(
            {"data_dir": tmp_path, "storage": {"url": "mysql://mt5:s3cret@db/console"}}, env_file=None
        )
    assert "storage.url" in str(refused.value) and "postgresql://" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(StorageError, match="names no database"):
        backend_for("postgresql://mt5@db.example")


def test_the_url_and_its_password_stay_out_of_reprs_and_messages(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://mt5:s3cret@127.0.0.1:{port}/console"
    settings = load_settings({"data_dir": tmp_path, "storage": {"url": url}}, env_file=None)
    assert settings.storage.url == url
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(settings.storage)
    database = Database(url)
    assert "s3cret" not in repr(database) and "s3cret" not in database.target
    with pytest.raises(StorageError, match="cannot connect to the database") as refused:
        database.open()
    assert "s3cret" not in str(refused.value)
    assert not database.is_open


@pytest.mark.postgres
def test_a_restarted_postgresql_server_is_connected_to_again(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    with Database(postgres_url) as db:
        db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))
        postgres_cluster.restart()
        # The job that meets the dead connection runs again on a new one: the caller never notices.
        assert [a.login for a in db.call(lambda tx: tx.accounts.list(), readonly=True)] == [1]
        postgres_cluster.restart()
        db.call(lambda tx: tx.accounts.insert(NewAccount(2, "Demo"), utc(2026, 1, 1)))
        assert [a.login for a in db.call(lambda tx: tx.accounts.list())] == [1, 2]


@pytest.mark.postgres
def test_a_job_waits_for_a_server_that_is_down_then_runs_once(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    with Database(postgres_url, reconnect_s=60) as db:
        db.call(lambda tx: tx.accounts.list(), readonly=True)
        postgres_cluster.stop()
        back = threading.Timer(1.5, postgres_cluster.start, kwargs={"port": postgres_cluster.port})
        back.start()
        try:
            account = db.call(lambda tx: tx.accounts.insert(NewAccount(7, "Demo"), utc(2026, 1, 1)))
        finally:
            back.join()
        assert [a.id for a in db.call(lambda tx: tx.accounts.list(), readonly=True)] == [account.id]


@pytest.mark.postgres
def test_a_job_whose_connection_dies_under_it_is_run_again_from_the_start(postgres_url: str) -> None:
    runs: list[int] = []

    def job(tx: Tx) -> int:
        runs.append(len(runs))
        tx.accounts.insert(NewAccount(10 + len(runs), "Demo"), utc(2026, 1, 1))
        if len(runs) == 1:  # the server ends this session half-way through the transaction
            tx.conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        return len(runs)

    with Database(postgres_url) as db:
        assert db.call(job) == 2
        # The first run's insert went with its transaction: only the second run's row is there.
        assert [a.login for a in db.call(lambda tx: tx.accounts.list(), readonly=True)] == [12]


@pytest.mark.postgres
def test_a_server_that_stays_down_fails_the_job_after_the_reconnect_time(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    with Database(postgres_url, reconnect_s=1.0) as db:
        db.call(lambda tx: tx.accounts.list(), readonly=True)
        postgres_cluster.stop()
        try:
            with pytest.raises(StorageError, match="lost the connection"):
                db.call(lambda tx: tx.accounts.list(), readonly=True)
        finally:
            postgres_cluster.start(postgres_cluster.port)
        assert db.call(lambda tx: tx.accounts.list(), readonly=True) == []


@pytest.mark.postgres
async def test_several_connections_run_jobs_side_by_side(postgres_url: str) -> None:
    db = Database(postgres_url, connections=3)
    await db.start()
    try:
        # Three jobs that each wait for the others inside their transactions: with one connection they
        # could never meet (the first would wait for ever); with three they all finish.
        meeting = threading.Barrier(3, timeout=20)
        seen: set[int] = set()

        def job(tx: Tx) -> int:
            seen.add(threading.get_ident())
            meeting.wait()
            return len(tx.accounts.list())

        assert await asyncio.gather(*(db.run(job, readonly=True) for _ in range(3))) == [0, 0, 0]
        assert seen == db.thread_ids and len(seen) == 3
    finally:
        await db.stop()
    assert not db.is_open


def test_sqlite_keeps_one_connection(data_dir: Path) -> None:
    assert Database(data_dir / "x.db", connections=4).connections == 1
