"""Persistence of the trade server's books in ``<state_dir>/broker.sqlite3`` (the app passes
``<data_dir>/sim``), so a restarted app finds its positions, orders and history, as with a broker.

Records are JSON rows keyed by (kind, key); after each change the server writes the ledger's dirty
records in one transaction (WAL, so a crash loses at most the last transaction, never the file).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.mt5.sim.ledger import Kind, Ledger

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
)
"""
FILE_NAME = "broker.sqlite3"


class Store:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / FILE_NAME
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def is_empty(self) -> bool:
        return self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0

    def load(self, ledger: Ledger) -> None:
        for kind, key, data in self._db.execute("SELECT kind, key, data FROM records ORDER BY kind, key"):
            ledger.load(kind, json.loads(data), key)

    def flush(self, ledger: Ledger) -> int:
        """Write what changed since the last flush; returns the number of records written."""
        if not ledger.dirty and not ledger.deleted:
            return 0
        rows = []
        for kind, key in ledger.dirty:
            record = ledger.record(kind, key)
            if record is not None:
                rows.append((kind, str(key), json.dumps(record)))
        gone: list[tuple[Kind, str]] = [(kind, str(key)) for kind, key in ledger.deleted]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR REPLACE INTO records (kind, key, data) VALUES (?, ?, ?)", rows)
            self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        ledger.dirty.clear()
        ledger.deleted.clear()
        return len(rows) + len(gone)

    def close(self) -> None:
        self._db.close()
