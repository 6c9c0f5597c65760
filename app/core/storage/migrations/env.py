"""The ``alembic`` command's entry point, for developers writing a migration (docs/storage.md)::

    alembic -c app/core/storage/migrations/alembic.ini revision -m "what changes" [--autogenerate]
    alembic -c app/core/storage/migrations/alembic.ini -x url=postgresql://... upgrade head

The app never runs this file: :mod:`app.core.storage.migrate` runs the migrations itself, inside the
transaction that also adopts pre-Alembic files. Without ``-x url=...`` this works on a scratch SQLite
file (``alembic-scratch.db`` in the current directory).
"""

from __future__ import annotations

from alembic import context

from app.core.storage.backends import backend_for
from app.core.storage.schema import metadata


def run() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///alembic-scratch.db")
    backend = backend_for(url)
    engine = backend.create_engine()
    with engine.connect() as conn:
        backend.prepare(conn)
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
    engine.dispose()


run()
