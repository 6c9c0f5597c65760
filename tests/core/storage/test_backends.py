"""Choosing the backend from ``storage.url``; PostgreSQL's connection lost and made again; a password
in the URL never shows."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.config import SettingsError, StorageSettings, load_settings
from app.core.storage import Database, StorageError, database_target
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
        # The job that meets the dead connection fails, saying so; the next one connects again.
        with pytest.raises(StorageError, match="lost the connection"):
            db.call(lambda tx: tx.accounts.list(), readonly=True)
        assert [a.login for a in db.call(lambda tx: tx.accounts.list(), readonly=True)] == [1]
        db.call(lambda tx: tx.accounts.insert(NewAccount(2, "Demo"), utc(2026, 1, 1)))
        assert len(db.call(lambda tx: tx.accounts.list())) == 2
