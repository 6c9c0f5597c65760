"""Reading and writing the TOML settings file for the settings dialog (Qt-free).

Only what the dialog edits is written; other keys in the file are kept. Values are checked with the
app's own :class:`~app.config.Settings` before anything is written, so a saved file always loads.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from app.config import Settings


def read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(data: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first bad setting."""
    try:
        Settings.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError: say which key
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            name = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{name}: {first['msg']}") from None
        raise ValueError(str(exc)) from None


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def dumps(data: dict[str, Any]) -> str:
    """TOML for a settings dict: top-level keys first, then one table per section."""
    lines = [f"{key} = {_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    for section, values in data.items():
        if isinstance(values, dict):
            lines.append("")
            lines.append(f"[{section}]")
            lines.extend(f"{key} = {_value(value)}" for key, value in values.items())
    return "\n".join(lines).lstrip("\n") + "\n"


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(dumps(data), encoding="utf-8")
    temporary.replace(path)


def changed_keys(
    before: dict[str, Any], after: dict[str, Any], prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """Every setting whose value differs, as ``(dotted.key, old, new)`` (None where absent)."""
    changes: list[tuple[str, Any, Any]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        name = f"{prefix}{key}"
        if isinstance(old, dict) or isinstance(new, dict):
            changes += changed_keys(
                old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}, name + "."
            )
        elif old != new:
            changes.append((name, old, new))
    return changes
