"""Logging: console + rotating file, secrets redacted, recent records kept for subscribers.

The Journal tab and the server's ``logs`` channel read :class:`LogBus`; it holds a bounded ring of
:class:`LogEntry` and calls subscribers synchronously on the emitting thread, so a subscriber must only
hand the entry over (for example with ``loop.call_soon_threadsafe``), never block.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only types here: importing the settings (pydantic) costs ~0.15 s
    from app.config import LoggingSettings, LogLevel

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Libraries whose INFO lines are routine steps ("Context impl SQLiteImpl.", each migration step): the
# app logs its own line about them (the schema upgraded, from and to), so theirs show at DEBUG only.
ROUTINE_LIBRARIES = ("alembic",)
LOG_FILE_NAME = "mt5-console.log"
REDACTED = "***"

# key=value, key: value and "key": "value" forms, for every spelling of a secret a log line may carry.
_SECRET_KEYS = r"(?:password|passwd|pwd|secret|token|access_token|api_key|apikey|authorization)"  # noqa: S105 - key names
_KEY_VALUE = re.compile(
    rf"""(?P<key>["']?\b{_SECRET_KEYS}\b["']?\s*[:=]\s*)(?P<quote>["']?)(?P<value>(?:bearer\s+)?[^\s"',;}}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """Replace anything that looks like a password or token in ``text`` with ``***``."""
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['quote']}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m[1]}{REDACTED}", text)
    return _JWT.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it, and stores the result so no handler sees the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log record as the Journal and the API show it."""

    time: datetime
    level: str
    module: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.time.isoformat().replace("+00:00", "Z"),
            "level": self.level,
            "message": self.message,
            "module": self.module,
            "extra": self.extra,
        }


_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

LogSubscriber = Callable[[LogEntry], None]


class LogBus(logging.Handler):
    """A handler that keeps the last ``capacity`` entries and fans them out to subscribers."""

    def __init__(self, capacity: int = 2_000) -> None:
        super().__init__(level=logging.DEBUG)
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._subscribers: list[LogSubscriber] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        extra = {
            key: value if isinstance(value, str | int | float | bool | None) else repr(value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        }
        entry = LogEntry(
            time=datetime.fromtimestamp(record.created, tz=UTC),
            level=record.levelname,
            module=record.name,
            message=record.getMessage(),
            extra=extra,
        )
        with self._guard:
            self._entries.append(entry)
            subscribers = tuple(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(entry)
            except Exception:  # noqa: BLE001 - one broken subscriber must not silence the others
                self.handleError(record)

    def recent(self, limit: int | None = None, min_level: int = logging.NOTSET) -> list[LogEntry]:
        """The newest entries (oldest first), optionally only those at or above ``min_level``."""
        with self._guard:
            entries = [e for e in self._entries if logging.getLevelNamesMapping()[e.level] >= min_level]
        return entries[-limit:] if limit else entries

    def subscribe(self, subscriber: LogSubscriber) -> Callable[[], None]:
        """Register ``subscriber``; the returned function unregisters it."""
        with self._guard:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._guard:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, created 0600 (it may name accounts and servers), whatever the umask."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: PTH123 - a descriptor


def setup_logging(
    settings: LoggingSettings,
    data_dir: Path | None,
    console: bool = True,
    console_level: LogLevel | None = None,
) -> LogBus:
    """Configure the root logger once for the process and return the bus that mirrors it.

    ``console_level`` quietens the console alone (a command-line tool shows warnings there, while its
    file log keeps the configured level)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(settings.level)
    for name in ROUTINE_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if settings.level == "DEBUG" else logging.WARNING)
    redactor = RedactingFilter()
    formatter = logging.Formatter(LOG_FORMAT)
    handlers: list[logging.Handler] = []
    if console:
        stream = logging.StreamHandler()
        if console_level is not None:
            stream.setLevel(console_level)
        handlers.append(stream)
    if data_dir is not None:
        log_dir = data_dir / "logs"
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handlers.append(
            PrivateRotatingFileHandler(
                log_dir / LOG_FILE_NAME,
                maxBytes=settings.file_max_bytes,
                backupCount=settings.file_backups,
                encoding="utf-8",
            )
        )
    bus = LogBus(settings.buffer_size)
    handlers.append(bus)
    for handler in handlers:
        handler.addFilter(redactor)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.captureWarnings(True)
    return bus
