"""Control of a running trade server from any process: faults, the tick storm, the clock, accounts.

admin = SimAdmin("127.0.0.1:18555")
admin.set_faults("terminal-2", latency_ms=200, functions=["order_send"])
admin.set_faults("terminal-2", hang=True)      # the next call blocks ...
admin.release("terminal-2")                     # ... until released
admin.storm(2000)                               # 2,000 ticks/s per symbol from the next second
admin.set_login_latency(1.0)                    # every login takes a second
admin.advance(60)                               # a server started with a manual clock
"""

from __future__ import annotations

import time
from typing import Any

from app.mt5.sim.address import split
from app.mt5.sim.client import Connection
from app.mt5.sim.faults import Faults


class SimAdmin:
    """An administrative connection to the trade server at ``address`` ("host:port" or "sim://host:port")."""

    def __init__(self, address: str, timeout_s: float = 30.0) -> None:
        if address.startswith("sim://"):
            address = address[len("sim://") :].split("/", 1)[0]
        host, port = split(address)
        self._connection = Connection(host, port, "admin", timeout_s)

    def _call(self, op: str, **args: Any) -> Any:
        return self._connection.call(op, op, **args)

    def set_faults(self, terminal: str, *, replace: bool = False, **faults: Any) -> Faults:
        """Set faults for ``terminal`` (see :class:`Faults` for the names); others stay unless ``replace``."""
        if "functions" in faults and faults["functions"] is not None:
            faults["functions"] = list(faults["functions"])
        return Faults.from_json(
            self._call("admin_faults", terminal_name=terminal, changes=faults, replace=replace)
        )

    def clear_faults(self, terminal: str | None = None) -> None:
        """Remove the faults of ``terminal`` (of every terminal when None); hung calls are released."""
        self._call("admin_clear_faults", terminal_name=terminal)

    def release(self, terminal: str) -> None:
        """Let the calls hanging on ``terminal`` go on."""
        self._call("admin_release", terminal_name=terminal)

    def storm(self, rate: float, symbols: list[str] | None = None) -> int:
        """Tick storm of ``rate`` ticks/s per symbol (0 = calm) from the next whole second (returned, ms)."""
        return int(self._call("admin_storm", rate=rate, symbols=symbols))

    def set_login_latency(self, seconds: float) -> float:
        """Make every login on the server take ``seconds`` (the carousel benchmark's slow broker)."""
        return float(self._call("admin_login_latency", seconds=seconds))

    def advance(self, seconds: float) -> int:
        """Move a manual server clock forward; returns the new server time in ms."""
        return int(self._call("admin_clock", advance_s=seconds))

    def set_time(self, time_ms: int) -> int:
        return int(self._call("admin_clock", set_ms=time_ms))

    def stats(self) -> dict[str, Any]:
        """Server time, ticks processed, CPU seconds used, counts of books, storm and faults."""
        return dict(self._call("admin_stats"))

    def clock_offset_ms(self, samples: int = 20) -> float:
        """Wall clock minus server clock, from the tightest of ``samples`` round trips (benchmarks
        measure latency from a tick's server time)."""
        best: tuple[float, float] = (float("inf"), 0.0)
        for _ in range(samples):
            before = time.time() * 1000
            server_ms = self.stats()["now"]
            after = time.time() * 1000
            best = min(best, (after - before, (before + after) / 2 - server_ms))
        return best[1]

    def create_account(self, login: int, password: str, **options: Any) -> int:
        """Open an account; options: name, currency, leverage, balance, hedging, real, server,
        commission_per_lot."""
        return int(self._call("admin_create_account", login=login, password=password, **options))

    def deposit(self, login: int, amount: float, comment: str = "Deposit") -> float:
        return float(self._call("admin_deposit", login=login, amount=amount, comment=comment))

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> SimAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
