"""The simulated trade server as an app service: its own process, shared by every sim terminal.

Terminals in different worker processes see the same accounts, positions and deals, as with a real
broker. Its state lives in ``<data dir>/sim`` so a restart of the app finds the same positions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from app.config import SimSettings

log = logging.getLogger(__name__)

WAIT_FOR_CLI_S = 120.0  # how long the app waits for a one-off `accounts sync` to release the state dir


class SimTradeServer:
    """Starts the trade server on ``<data dir>/sim`` (the server claims that directory: see
    :mod:`app.mt5.sim.claim`). If a trade server already runs there: one started by
    ``mt5-console accounts sync`` is waited for (it ends with its command), one the user started
    (``mt5-console sim``) is used as it is, and another app's is an error — two apps on one data dir."""

    name = "sim-trade-server"

    def __init__(
        self, state_dir: Path, settings: SimSettings, *, wait_for_cli_s: float = WAIT_FOR_CLI_S
    ) -> None:
        self.state_dir = state_dir
        self.settings = settings
        self.wait_for_cli_s = wait_for_cli_s
        self._handle: Any = None
        self._attached: str | None = None

    @property
    def address(self) -> str:
        if self._attached is not None:
            return self._attached
        if self._handle is None:
            raise RuntimeError("the sim trade server is not running")
        return str(self._handle.address)

    @staticmethod
    def demo_password(login: int, server: str) -> str | None:
        """The documented password of a demo account of the simulator, if ``login@server`` is one (the
        carousel needs it to put a shared live terminal back on its account)."""
        from app.mt5.sim.demo import DEMO_ACCOUNTS

        for demo in DEMO_ACCOUNTS:
            if demo.login == login and demo.server.casefold() == server.casefold():
                return demo.password
        return None

    def terminal_path(self, terminal_id: str) -> str:
        """What a sim terminal passes to ``initialize(path=...)`` to reach this server."""
        return f"sim://{self.address}/{terminal_id}"

    async def start(self) -> None:
        from app.mt5.sim.claim import running_server
        from app.mt5.sim.process import StateDirInUse

        self.state_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_for_cli_s
        while True:
            try:
                self._handle = await asyncio.get_running_loop().run_in_executor(None, self._start_process)
                break
            except StateDirInUse as exc:
                holder = running_server(self.state_dir)
                if holder is not None and holder.owner == "user":
                    self._attached = holder.address
                    log.info("using the sim trade server already running on %s (%s)", self.state_dir,
                             holder.describe())  # fmt: skip
                    return
                if holder is not None and holder.owner == "app":
                    raise RuntimeError(
                        f"another mt5-console ({holder.describe()}) runs on this data dir; "
                        "stop it or use another --data-dir"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the sim trade server's state dir {exc}") from None
                log.info("waiting for the sim trade server of `accounts sync` to finish (%s)", exc)
                await asyncio.sleep(0.5)
        log.info("sim trade server running at %s (state in %s)", self.address, self.state_dir)

    def _start_process(self) -> Any:
        from app.mt5.sim.server import start_server_process

        options = self.settings
        extra: tuple[str, ...] = ()
        if options.start is not None:
            start = options.start if options.start.tzinfo else options.start.replace(tzinfo=UTC)
            extra = ("--start", start.isoformat(), "--speed", str(options.speed))
        return start_server_process(
            self.state_dir, seed=options.seed, host=options.host, port=options.port, extra_args=extra
        )

    async def stop(self) -> None:
        handle, self._handle = self._handle, None
        self._attached = None
        if handle is not None:
            await asyncio.get_running_loop().run_in_executor(None, handle.stop)
