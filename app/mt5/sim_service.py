"""The simulated trade server as an app service: its own process, shared by every sim terminal.

Terminals in different worker processes see the same accounts, positions and deals, as with a real
broker. Its state lives in ``<data dir>/sim`` so a restart of the app finds the same positions.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from pathlib import Path
from typing import Any

from app.config import SimSettings

log = logging.getLogger(__name__)


class SimTradeServer:
    name = "sim-trade-server"

    def __init__(self, state_dir: Path, settings: SimSettings) -> None:
        self.state_dir = state_dir
        self.settings = settings
        self._handle: Any = None

    @property
    def address(self) -> str:
        if self._handle is None:
            raise RuntimeError("the sim trade server is not running")
        return str(self._handle.address)

    def terminal_path(self, terminal_id: str) -> str:
        """What a sim terminal passes to ``initialize(path=...)`` to reach this server."""
        return f"sim://{self.address}/{terminal_id}"

    async def start(self) -> None:
        from app.mt5.sim.server import start_server_process

        self.state_dir.mkdir(parents=True, exist_ok=True)
        options = self.settings
        extra: tuple[str, ...] = ()
        if options.start is not None:
            start = options.start if options.start.tzinfo else options.start.replace(tzinfo=UTC)
            extra = ("--start", start.isoformat(), "--speed", str(options.speed))
        loop = asyncio.get_running_loop()
        self._handle = await loop.run_in_executor(
            None,
            lambda: start_server_process(
                self.state_dir, seed=options.seed, host=options.host, port=options.port, extra_args=extra
            ),
        )
        log.info("sim trade server running at %s (state in %s)", self.address, self.state_dir)

    async def stop(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            await asyncio.get_running_loop().run_in_executor(None, handle.stop)
