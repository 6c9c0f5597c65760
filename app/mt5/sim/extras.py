"""What the simulator tells that the ``MetaTrader5`` package has no function for.

The real package gives no trading sessions (MQL5's ``SymbolInfoSessionTrade`` has no Python
counterpart), so its module stays exactly the real API (tests/sim/test_api_surface.py) and the extras
live here, reached as ``app.mt5.sim.extras``. Callers look them up with ``getattr(mt5, "extras",
None)`` and do without on a real terminal. Each sets ``last_error()`` as the module's functions do.
"""

from __future__ import annotations

from app.mt5.sim.terminal import default_terminal


def symbol_sessions(symbol: str) -> tuple[tuple[tuple[int, int], ...], ...] | None:
    """Weekly sessions of ``symbol``: seven days, Monday first, each a tuple of (start, end) minutes
    from midnight server time when it quotes and trades; None (and last_error()) when unknown."""
    return default_terminal().symbol_sessions(symbol)
