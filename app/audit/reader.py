"""Read the trail back with filters: for ``audit show``, ``GET /api/audit`` and the Audit tab.

Reading never takes the writers' lock and never judges the chain (that is :func:`verify_trail`'s job):
it shows every line that parses as an entry and skips the rest, including an append in progress.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from app.audit.entry import AuditEntry, MalformedEntry, format_time, parse_line
from app.audit.files import list_segments
from app.audit.verify import VerifyReport, verify_trail

DEFAULT_LIMIT = 500
_HASHES = re.compile(r'"(?:hash|prev)":"[0-9a-f]{64}"')  # hex that any short text search would hit


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries to show. Every given filter must match; ``limit`` keeps the newest matches.

    ``actor`` matches exactly or as a prefix before ``:`` (``api`` matches ``api:alice``); ``action``
    exactly or as a prefix before ``.`` (``order`` matches ``order.intent``); ``text`` anywhere in the
    entry's line but its two hashes, ignoring case; ``since`` inclusive, ``until`` exclusive.
    """

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    account: str | None = None
    client_id: str | None = None
    text: str | None = None
    limit: int | None = DEFAULT_LIMIT

    def matcher(self) -> Callable[[AuditEntry, str], bool]:
        """A test for ``(entry, its line)``; times compare as text (fixed width: text order is time order)."""
        since = format_time(self.since) if self.since is not None else None
        until = format_time(self.until) if self.until is not None else None
        text = self.text.casefold() if self.text else None

        def matches(entry: AuditEntry, line: str) -> bool:
            return (
                (since is None or entry.time >= since)
                and (until is None or entry.time < until)
                and _labelled(entry.actor, self.actor, ":")
                and _labelled(entry.action, self.action, ".")
                and (not self.account or entry.account == self.account)
                and (not self.client_id or entry.client_id == self.client_id)
                and (text is None or text in _HASHES.sub("", line).casefold())
            )

        return matches


def _labelled(value: str, wanted: str | None, separator: str) -> bool:
    return not wanted or value == wanted or value.startswith(wanted + separator)


class AuditSource(Protocol):
    """What the Audit tab and the server need: entries by query, and a verification."""

    def query(self, query: AuditQuery) -> list[AuditEntry]: ...

    def verify(self) -> VerifyReport: ...


class AuditReader:
    """Reads the trail in ``directory`` (``<data_dir>/audit``); blocking, so call it off the event loop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def lines(self) -> Iterator[tuple[AuditEntry, str]]:
        """Every readable entry with its line, oldest first."""
        for segment in list_segments(self.directory):
            with segment.path.open("rb") as handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # an append in progress, or a torn tail: not an entry (yet)
                    try:
                        yield parse_line(raw), raw.decode("utf-8")
                    except (MalformedEntry, UnicodeDecodeError):
                        continue

    def query(self, query: AuditQuery) -> list[AuditEntry]:
        """The newest ``query.limit`` matching entries, oldest first."""
        limit = query.limit if query.limit and query.limit > 0 else None
        found: deque[AuditEntry] = deque(maxlen=limit)
        matches = query.matcher()
        for entry, line in self.lines():
            if matches(entry, line):
                found.append(entry)
        return list(found)

    def verify(self) -> VerifyReport:
        return verify_trail(self.directory)
