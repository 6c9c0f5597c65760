"""Which terminals the pool runs: real MetaTrader 5 installs, or the built-in simulator.

Decided once at start. The real ``MetaTrader5`` package exists only for Windows; where it cannot be
imported the app falls back to the simulator and says why.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

from app.config import TerminalSettings


def metatrader5_available() -> bool:
    """True when the official ``MetaTrader5`` package can be imported here (without importing it)."""
    return importlib.util.find_spec("MetaTrader5") is not None


@dataclass(frozen=True, slots=True)
class TerminalPlan:
    """The terminal pool to start: ``paths`` are install paths for real terminals, empty for the sim."""

    kind: Literal["sim", "real"]
    paths: tuple[str, ...]
    sim_terminals: int
    reason: str

    @property
    def size(self) -> int:
        if self.kind == "sim":
            return self.sim_terminals
        return max(1, len(self.paths))

    @property
    def terminal_ids(self) -> tuple[str, ...]:
        """The pool's terminal ids, the live one first (``sim-1``..., or ``mt5-1``...): what an account's
        ``terminal_id`` may name."""
        prefix = "sim" if self.kind == "sim" else "mt5"
        return tuple(f"{prefix}-{i + 1}" for i in range(self.size))


def plan_terminals(settings: TerminalSettings, mt5_importable: bool | None = None) -> TerminalPlan:
    """Pick real terminals when configured and possible, else the simulator, with the reason."""
    importable = metatrader5_available() if mt5_importable is None else mt5_importable
    if settings.sim:
        return TerminalPlan("sim", (), settings.sim_terminals, "simulator requested (--sim)")
    if not importable:
        return TerminalPlan(
            "sim",
            (),
            settings.sim_terminals,
            "MetaTrader5 package not importable (it exists only for Windows): using the simulator",
        )
    reason = (
        f"{len(settings.paths)} terminal path(s) configured"
        if settings.paths
        else ("no terminal path configured: attaching to the terminal MetaTrader5 finds itself")
    )
    return TerminalPlan("real", tuple(settings.paths), settings.sim_terminals, reason)
