"""Headless mode (``--serve``): the same runtime as the window, on plain asyncio, no Qt imported."""

from __future__ import annotations

import asyncio
import logging
import sys

from app.config import APP_NAME, Settings
from app.logs import LogBus
from app.runtime import Runtime, build_runtime
from app.server.service import ServerStartError
from app.shutdown import install_stop_signals, remove_stop_signals

log = logging.getLogger(__name__)


async def serve(runtime: Runtime) -> None:
    """Run until SIGINT/SIGTERM, then stop every service."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    install_stop_signals(loop, stop.set)
    try:
        await runtime.start()
        if runtime.server.url:
            print(f"serving on {runtime.server.url}", flush=True)  # noqa: T201 - the user reads this
        log.info("headless mode running; stop with Ctrl+C or SIGTERM")
        await stop.wait()
        log.info("stopping")
    finally:
        await runtime.stop()
        remove_stop_signals(loop)
    log.info("stopped")


def run_headless(settings: Settings, log_bus: LogBus) -> int:
    """Exit 0 after a clean stop; 1 (one line on stderr) when the app cannot start, e.g. the server."""
    try:
        asyncio.run(serve(build_runtime(settings, log_bus, headless=True)))
    except ServerStartError as exc:
        sys.stderr.write(f"{APP_NAME}: the server cannot start: {exc}\n")
        return 1
    return 0
