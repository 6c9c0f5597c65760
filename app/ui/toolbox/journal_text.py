"""How the Journal words a log record for a trader (Qt-free): where it comes from, in the Source
column, by what it is about ("Terminal sim-1", "Carousel", "Trading"), not by a Python module's
name, and the message without the prefixes the log file needs.

The log file and ``/api/logs`` keep the records as they are; only the Journal's reading changes.
"""

from __future__ import annotations

import re

from app.logs import LogEntry

# Logger name prefixes, most specific first, and what the trader calls that part of the app.
SOURCES = (
    ("app.mt5.sim", "Simulator"),
    ("app.mt5.sim_service", "Simulator"),
    ("app.mt5", "Terminal"),
    ("app.core.carousel", "Carousel"),
    ("app.core.accounts_sync", "Carousel"),
    ("app.core.trading", "Trading"),
    ("app.core.reconcile", "Trading"),
    ("app.core.order", "Trading"),
    ("app.core.risk", "Risk"),
    ("app.core.market_data", "Market data"),
    ("app.core.account_state", "Account"),
    ("app.core.accounts", "Accounts"),
    ("app.core.credentials", "Accounts"),
    ("app.core.storage", "Database"),
    ("app.audit", "Audit trail"),
    ("app.server", "Server"),
    ("app.ui", "Window"),
    ("app", "App"),
)
_WORKER_LINE = re.compile(r"\[(?P<terminal>[\w.:-]+)\] (?P<text>.*)", re.DOTALL)
_TERMINAL_LINE = re.compile(r"terminal (?P<terminal>[\w.:-]+): (?P<text>.*)", re.DOTALL)
_STATUS_WORD = re.compile(r"^(logged_in|not_ready)\b")


def source_of(module: str) -> str:
    for prefix, name in SOURCES:
        if module == prefix or module.startswith(prefix + "."):
            return name
    return module.rsplit(".", 1)[-1].replace("_", " ").capitalize() or "App"


def journal_line(entry: LogEntry) -> tuple[str, str]:
    """(source, message) of a log record as the Journal shows it."""
    source, text = source_of(entry.module), entry.message
    for pattern in (_WORKER_LINE, _TERMINAL_LINE):
        found = pattern.match(text)
        if found is not None and source in ("Terminal", "Simulator", "App"):
            source, text = f"Terminal {found['terminal']}", found["text"]
            text = _STATUS_WORD.sub(lambda m: m.group(1).replace("_", " "), text)
            break
    return source, text[:1].upper() + text[1:]
