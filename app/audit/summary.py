"""A one-line summary of an entry's payload, for the Audit tab and ``audit show``.

Fields that matter for orders come first (``side volume symbol @price``, ticket, retcode, ...), then
whatever else the payload holds, flattened to ``path=value``; long text is cut.
"""

from __future__ import annotations

from typing import Any

from app.audit.entry import AuditEntry

MAX_LENGTH = 200
_FIRST = (
    "command",
    "side",
    "type",
    "volume",
    "symbol",
    "price",
    "sl",
    "tp",
    "position",
    "ticket",
    "retcode",
    "outcome",
    "message",
    "latency_ms",
    "key",
    "old",
    "new",
    "user",
    "reason",
)
_LAST = ("client_id", "_redacted")


def _flatten(payload: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in payload.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items.extend(_flatten(value, path + "."))
        else:
            items.append((path, value))
    return items


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if value is None:
        return "null"
    return str(value)


def _rank(item: tuple[str, Any]) -> tuple[int, int]:
    leaf = item[0].rsplit(".", 1)[-1]
    if leaf in _FIRST:
        return 0, _FIRST.index(leaf)
    return (2, _LAST.index(leaf)) if leaf in _LAST else (1, 0)


def summarize(entry: AuditEntry, max_length: int = MAX_LENGTH) -> str:
    items = sorted(_flatten(entry.payload), key=_rank)  # stable: payload order within a rank
    text = " ".join(
        f"{path.rsplit('.', 1)[-1] if _rank((path, v))[0] == 0 else path}={_text(v)}" for path, v in items
    )
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
