"""The window layout file: dock positions, window geometry, the open charts, the Market Watch symbols,
columns and named symbol sets, and the Toolbox tab that was open (Qt-free I/O).

Saved to ``<data dir>/ui/layout.json`` when the window closes and read at start, both off the GUI
thread. A missing or unreadable file means the default layout (and a line in the log), never a
failed start.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1


@dataclass
class WindowLayout:
    geometry: bytes = b""
    state: bytes = b""
    charts: list[dict[str, Any]] = field(default_factory=list)
    active: int = -1
    tabbed: bool = True
    toolbox_tab: str = "Trade"
    symbols: list[str] | None = None  # Market Watch's rows in order (None: the settings' symbols)
    market_columns: list[str] | None = None  # Market Watch's visible columns (None: the default ones)
    symbol_sets: dict[str, list[str]] = field(default_factory=dict)  # Market Watch › Sets

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "geometry": base64.b64encode(self.geometry).decode("ascii"),
            "state": base64.b64encode(self.state).decode("ascii"),
            "charts": self.charts,
            "active": self.active,
            "tabbed": self.tabbed,
            "toolbox_tab": self.toolbox_tab,
            "symbols": self.symbols,
            "market_columns": self.market_columns,
            "symbol_sets": self.symbol_sets,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowLayout:
        return cls(
            geometry=base64.b64decode(data.get("geometry", "")),
            state=base64.b64decode(data.get("state", "")),
            charts=[c for c in data.get("charts", []) if isinstance(c, dict)],
            active=int(data.get("active", -1)),
            tabbed=bool(data.get("tabbed", True)),
            toolbox_tab=str(data.get("toolbox_tab", "Trade")),
            symbols=_symbols(data.get("symbols")),
            market_columns=_names(data.get("market_columns")),
            symbol_sets=_sets(data.get("symbol_sets")),
        )


def _symbols(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [str(s).strip().upper() for s in value if isinstance(s, str) and s.strip()]


def _names(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [s for s in value if isinstance(s, str)]


def _sets(value: Any) -> dict[str, list[str]]:
    """Named symbol sets; a set that is not a list of names (a hand-edited file) is left out."""
    if not isinstance(value, dict):
        return {}
    sets = {str(name).strip(): _symbols(symbols) for name, symbols in value.items()}
    return {name: symbols for name, symbols in sets.items() if name and symbols}


def layout_path(data_dir: Path) -> Path:
    return data_dir / "ui" / "layout.json"


def load_layout(path: Path) -> WindowLayout | None:
    """The saved layout, or None (no file yet, or one this version cannot read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WindowLayout.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("window layout %s not used: %s", path, exc)
        return None


def save_layout(path: Path, layout: WindowLayout) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(layout.to_json(), indent=1), encoding="utf-8")
    temporary.replace(path)
