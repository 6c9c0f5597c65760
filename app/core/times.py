"""Instants as the core stores and compares them: aware UTC datetimes, or integer milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive datetime is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (sub-millisecond parts are dropped, never rounded up)."""
    return (as_utc(moment) - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def utc_now() -> datetime:
    return datetime.now(UTC)
