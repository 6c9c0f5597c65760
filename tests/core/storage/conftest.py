"""A fresh database for each test, on each backend: an SQLite file in the test's data dir, and a new
database on the session's private PostgreSQL cluster (tests.support.postgres)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.core.storage import Database, database_path

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend a test runs on (every test that takes ``target``, ``db`` or ``adb`` runs on both)."""
    return str(request.param)


@pytest.fixture
def target(backend: str, data_dir: Path, request: pytest.FixtureRequest) -> str | Path:
    """Where the test's database is: a path for SQLite, a URL for PostgreSQL."""
    if backend == "sqlite":
        return database_path(data_dir)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(target: str | Path) -> Iterator[Database]:
    """An open database, used synchronously (``db.call``)."""
    database = Database(target)
    database.open()
    yield database
    database.close()


@pytest.fixture
async def adb(target: str | Path) -> AsyncIterator[Database]:
    """An open database, started and stopped on the test's event loop."""
    database = Database(target)
    await database.start()
    yield database
    await database.stop()
