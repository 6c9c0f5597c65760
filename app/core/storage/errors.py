"""Storage errors; ``str()`` is one line fit to show the user."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot do what was asked."""


class SchemaTooNewError(StorageError):
    """The database file comes from a newer version of the app; it is left untouched."""


class ConflictError(StorageError):
    """A write would break a uniqueness rule (an account with that login and server exists)."""


class DatabaseClosedError(StorageError):
    """The database is not open (not started yet, or stopped)."""
