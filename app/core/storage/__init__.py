"""The app's SQLite database: the account registry, snapshot history and deals.

Start with :class:`Database` (or :class:`StorageService` in a runtime) and give it functions of a
:class:`Tx`::

    db = Database(database_path(settings.data_dir))
    await db.start()
    accounts = await db.run(lambda tx: tx.accounts.list(), readonly=True)
    visit = await db.run(lambda tx: tx.record_visit(account.id, snapshot, deals, calendar=calendar))
"""

from app.core.storage.database import DB_FILE_NAME, Database, database_path
from app.core.storage.deals import DealRows, UpsertResult
from app.core.storage.errors import ConflictError, DatabaseClosedError, SchemaTooNewError, StorageError
from app.core.storage.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate, schema_version
from app.core.storage.service import StorageService
from app.core.storage.snapshots import PruneResult, RetentionPolicy, SnapshotRows
from app.core.storage.tx import Tx, Visit

__all__ = [
    "DB_FILE_NAME",
    "LATEST_VERSION",
    "MIGRATIONS",
    "ConflictError",
    "Database",
    "DatabaseClosedError",
    "DealRows",
    "Migration",
    "PruneResult",
    "RetentionPolicy",
    "SchemaTooNewError",
    "SnapshotRows",
    "StorageError",
    "StorageService",
    "Tx",
    "UpsertResult",
    "Visit",
    "database_path",
    "migrate",
    "schema_version",
]
