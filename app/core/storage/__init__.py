"""The app's database: the account registry, snapshot history, deals, client order ids and kill
switches. An SQLite file in the data dir by default, or PostgreSQL (``storage.url``); one schema
(:mod:`app.core.storage.schema`) and one set of Alembic migrations for both (docs/storage.md).

Start with :class:`Database` (or :class:`StorageService` in a runtime) and give it functions of a
:class:`Tx`::

    db = Database(database_target(settings.data_dir, settings.storage))
    await db.start()
    accounts = await db.run(lambda tx: tx.accounts.list(), readonly=True)
    visit = await db.run(lambda tx: tx.record_visit(account.id, snapshot, deals, calendar=calendar))
"""

from app.core.storage.database import DB_FILE_NAME, Database, database_path, database_target
from app.core.storage.deals import DealRows, UpsertResult
from app.core.storage.errors import ConflictError, DatabaseClosedError, SchemaTooNewError, StorageError
from app.core.storage.migrate import SchemaState, head_revision, migrate, schema_state
from app.core.storage.service import StorageService
from app.core.storage.snapshots import PruneResult, RetentionPolicy, SnapshotRows
from app.core.storage.tx import Tx, Visit

__all__ = [
    "DB_FILE_NAME",
    "ConflictError",
    "Database",
    "DatabaseClosedError",
    "DealRows",
    "PruneResult",
    "RetentionPolicy",
    "SchemaState",
    "SchemaTooNewError",
    "SnapshotRows",
    "StorageError",
    "StorageService",
    "Tx",
    "UpsertResult",
    "Visit",
    "database_path",
    "database_target",
    "head_revision",
    "migrate",
    "schema_state",
]
