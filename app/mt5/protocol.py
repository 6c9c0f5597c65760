"""Messages between the app and a terminal worker process (pickled over a multiprocessing pipe).

App → worker: :class:`Call` and :class:`Stop`. Worker → app: :class:`Reply` for each call, plus
unsolicited :class:`TicksMessage` (the tick stream) and :class:`LogMessage` (the worker's log records).
Everything here is plain data: app domain types, never an MT5 namedtuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.models import TickBatch


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker process needs to own one terminal.

    ``kind`` "real" drives ``MetaTrader5`` with ``path`` (a terminal64.exe, or None to let MT5 find
    one); "sim" drives ``app.mt5.sim`` with ``path`` = ``sim://HOST:PORT/NAME``. ``module`` names
    another MetaTrader5-compatible module to drive instead (e.g. a bridge to a terminal under Wine).
    """

    terminal_id: str
    kind: Literal["sim", "real"]
    path: str | None = None
    module: str | None = None
    portable: bool = False
    init_timeout_ms: int = 60_000
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Call:
    request_id: int
    op: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stop:
    """Ask the worker to shut the terminal connection down and exit."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call failed. ``code``/``message`` come from ``last_error()`` read right after the call."""

    kind: Literal["mt5", "exception", "unknown_op"]
    function: str
    code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    request_id: int
    ok: bool
    value: Any = None
    failure: Failure | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class TickCursor:
    """Where a symbol's tick stream stands: the last delivered ``time_msc`` and how many ticks carried
    exactly that time (MT5 may give several ticks the same millisecond). Resuming from a cursor
    never doubles or skips a tick."""

    time_msc: int
    count_at_time: int


@dataclass(frozen=True, slots=True)
class TicksMessage:
    batches: tuple[TickBatch, ...]
    cursors: dict[str, TickCursor]
    polled_at: float


@dataclass(frozen=True, slots=True)
class LogMessage:
    level: int
    logger: str
    message: str
