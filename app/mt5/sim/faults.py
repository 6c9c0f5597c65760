"""Fault injection per terminal, held by the trade server so that any process can set it.

A terminal is known by its name (``sim://host:port/NAME``). Before each call the server applies the
faults set for that terminal: the call is delayed, hangs until released, fails as MT5 reports an
IPC timeout (-10005) or a lost connection (-10004), a login is refused (-6) or slow, a market order
is requoted, or the call is carried out and its answer held back (the moment a crash or a lost
connection makes an order's outcome unknown). ``functions`` narrows the call faults to some MT5
functions (e.g. only order_send).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Faults:
    latency_ms: float = 0.0  # added to every call
    ipc_timeout: bool = False  # calls fail with (-10005, 'IPC timeout') ...
    ipc_timeout_after_s: float = 0.0  # ... after this long
    timeout_after_execute: bool = False  # the call is carried out, but the terminal reports -10005
    disconnected: bool = False  # terminal_info().connected False; other calls (-10004, 'No IPC connection')
    auth_fail: bool = False  # initialize()/login() fail with (-6, 'Terminal: Authorization failed')
    login_latency_s: float = 0.0  # a slow login
    requote_probability: float = 0.0  # market orders answered TRADE_RETCODE_REQUOTE
    hang: bool = False  # calls block until released (SimAdmin.release) ...
    hang_s: float | None = None  # ... or for this many seconds
    hold_answer: bool = False  # calls are carried out, then their answer waits until released
    algo_trading: bool = True  # False: the terminal's AutoTrading is off (retcode 10027)
    functions: tuple[str, ...] | None = None  # the MT5 functions the call faults apply to (None = all)

    def applies(self, function: str) -> bool:
        return self.functions is None or function in self.functions

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["functions"] = list(self.functions) if self.functions is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        if data.get("functions") is not None:
            data = {**data, "functions": tuple(data["functions"])}
        return cls(**data)


NONE = Faults()


class FaultBoard:
    """The faults of every terminal, and the gates hung calls wait on."""

    def __init__(self) -> None:
        self._faults: dict[str, Faults] = {}
        self._gates: dict[str, threading.Event] = {}
        self._waiting: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, terminal: str) -> Faults:
        with self._lock:
            return self._faults.get(terminal, NONE)

    def set(self, terminal: str, changes: dict[str, Any], replace_all: bool = False) -> Faults:
        with self._lock:
            current = NONE if replace_all else self._faults.get(terminal, NONE)
            updated = Faults.from_json({**current.to_json(), **changes})
            self._faults[terminal] = updated
            if updated.hang or updated.hold_answer:
                self._gates.setdefault(terminal, threading.Event()).clear()
            return updated

    def clear(self, terminal: str | None = None) -> None:
        with self._lock:
            names = list(self._faults) if terminal is None else [terminal]
            for name in names:
                self._faults.pop(name, None)
                gate = self._gates.pop(name, None)
                if gate is not None:
                    gate.set()

    def release(self, terminal: str) -> None:
        """Let the calls hung on ``terminal`` go (and stop hanging new ones)."""
        with self._lock:
            current = self._faults.get(terminal)
            if current is not None:
                self._faults[terminal] = replace(current, hang=False, hang_s=None, hold_answer=False)
            gate = self._gates.get(terminal)
        if gate is not None:
            gate.set()

    def wait_released(self, terminal: str, seconds: float | None) -> None:
        with self._lock:
            gate = self._gates.setdefault(terminal, threading.Event())
            self._waiting[terminal] = self._waiting.get(terminal, 0) + 1
        try:
            gate.wait(seconds)
        finally:
            with self._lock:
                self._waiting[terminal] -= 1
                if not self._waiting[terminal]:
                    del self._waiting[terminal]

    def waiting(self) -> dict[str, int]:
        """How many calls of each terminal are hung or hold their answer right now."""
        with self._lock:
            return dict(self._waiting)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: faults.to_json() for name, faults in self._faults.items()}
