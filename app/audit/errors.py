"""The audit trail's errors. Any of them from an append means the entry is *not* known to be on disk:
a caller about to send an order must not send it."""

from __future__ import annotations


class AuditError(Exception):
    """The base: a bad entry or a trail that cannot be written."""


class AuditWriteError(AuditError):
    """Writing, flushing or fsyncing failed, or the writer is closed or too far behind."""


class AuditLockTimeout(AuditWriteError):
    """Another process held the trail's lock for longer than the timeout."""


class AuditCorruptError(AuditWriteError):
    """The newest complete line is not an entry, so there is nothing safe to chain onto.

    A crash cannot cause this (a crash leaves at most an incomplete last line, which is set aside); it
    needs a person: run ``mt5-console audit verify``.
    """
