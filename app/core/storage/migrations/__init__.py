"""The Alembic migrations of the app's database (SQLite and PostgreSQL): ``versions/`` holds one file
per schema change, applied in order by :mod:`app.core.storage.migrate`. See docs/storage.md."""
