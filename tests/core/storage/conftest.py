"""A fresh database in each test's data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.core.storage import Database, database_path


@pytest.fixture
def db(data_dir: Path) -> Iterator[Database]:
    """An open database, used synchronously (``db.call``)."""
    database = Database(database_path(data_dir))
    database.open()
    yield database
    database.close()


@pytest.fixture
async def adb(data_dir: Path) -> AsyncIterator[Database]:
    """An open database, started and stopped on the test's event loop."""
    database = Database(database_path(data_dir))
    await database.start()
    yield database
    await database.stop()
