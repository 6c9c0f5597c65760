"""The simulated trade server as an app service: its own process, shared by every sim terminal, and
supervised as the terminal workers are.

Terminals in different worker processes see the same accounts, positions and deals, as with a real
broker. Its state lives in ``<data dir>/sim`` so a restart of the app finds the same positions.

If the server process dies (a crash, the OOM killer, ``kill -9``), the service reaps it and starts it
again on the same state directory — the books (positions, orders, history, ticket counters) are on
disk, every change committed before it is answered — with backoff, on the same port when it is
free, and with its clock running on from where it was. Then it tells its listeners (the runtime
asks the terminals to reconnect at once rather than after their own backoff).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import SimSettings
from app.retry import Backoff

log = logging.getLogger(__name__)

WAIT_FOR_CLI_S = 120.0  # how long the app waits for a one-off `accounts sync` to release the state dir
STABLE_AFTER_S = 60.0  # a server that ran this long before dying is restarted without the backoff's growth
ATTACHED_POLL_S = 1.0  # how often the app looks whether a server the user started still runs

RestartListener = Callable[[str], None]


class SimTradeServer:
    """Starts the trade server on ``<data dir>/sim`` (the server claims that directory: see
    :mod:`app.mt5.sim.claim`). If a trade server already runs there: one started by
    ``mt5-console accounts sync`` is waited for (it ends with its command), one the user started
    (``mt5-console sim``) is used as it is, and another app's is an error — two apps on one data dir.

    A server of its own that dies is restarted (see the module docstring); one the user started that
    goes away is replaced by one of its own."""

    name = "sim-trade-server"

    def __init__(
        self,
        state_dir: Path,
        settings: SimSettings,
        *,
        wait_for_cli_s: float = WAIT_FOR_CLI_S,
        backoff: Backoff | None = None,
        stable_after_s: float = STABLE_AFTER_S,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.state_dir = state_dir
        self.settings = settings
        self.wait_for_cli_s = wait_for_cli_s
        self.stable_after_s = stable_after_s
        self.extra_args = extra_args  # more `python -m app.mt5.sim` options (tests: --no-history)
        self._backoff = backoff or Backoff(initial=0.2, maximum=15.0)
        self._handle: Any = None
        self._attached: str | None = None
        self._address: str | None = None
        self._clock: tuple[float, int] | None = None  # (wall time, server time in ms) seen together
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None  # a restart under way, or the attached watch
        self._starting: asyncio.Future[tuple[Any, tuple[float, int] | None]] | None = None
        self._listeners: list[RestartListener] = []
        self.restarts = 0
        self.restart_delays: list[float] = []  # the backoff of each restart, for the log and tests

    @property
    def address(self) -> str:
        """Where the server listens ("host:port"); while it restarts, where it last listened."""
        if self._address is None:
            raise RuntimeError("the sim trade server is not running")
        return self._address

    @property
    def pid(self) -> int | None:
        """The pid of the server process this app runs (None when attached to the user's)."""
        return int(self._handle.pid) if self._handle is not None else None

    @property
    def running(self) -> bool:
        return self._attached is not None or (self._handle is not None and self._handle.exit_code is None)

    def add_restart_listener(self, listener: RestartListener) -> None:
        """Call ``listener(address)`` on the loop each time a new server process listens."""
        self._listeners.append(listener)

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

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        from app.mt5.sim.claim import running_server
        from app.mt5.sim.process import StateDirInUse

        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_for_cli_s
        while True:
            try:
                started = await self._loop.run_in_executor(None, self._start_process, self.settings.port)
                break
            except StateDirInUse as exc:
                holder = running_server(self.state_dir)
                if holder is not None and holder.owner == "user":
                    self._attach(holder.address)
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
        self._adopt(started)
        log.info("sim trade server running at %s (state in %s)", self.address, self.state_dir)

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        starting, self._starting = self._starting, None
        if starting is not None:  # a restart was starting a process: it must not outlive us
            started = (await asyncio.gather(starting, return_exceptions=True))[0]
            if isinstance(started, tuple):
                await asyncio.get_running_loop().run_in_executor(None, started[0].stop)
        handle, self._handle = self._handle, None
        self._attached = None
        if handle is not None:
            await asyncio.get_running_loop().run_in_executor(None, handle.stop)

    # ------------------------------------------------------------------ starting a process
    def _start_process(self, port: int) -> tuple[Any, tuple[float, int] | None]:
        """Start a server process and read its clock (blocking: run it in an executor)."""
        from app.mt5.sim.server import start_server_process

        options = self.settings
        extra = self.extra_args
        start = self._clock_start()
        if start is not None:
            extra = (*extra, "--start", start.isoformat(), "--speed", str(options.speed))
        if options.manual_clock:
            extra = (*extra, "--manual-clock")
        handle = start_server_process(
            self.state_dir, seed=options.seed, host=options.host, port=port, extra_args=extra
        )
        return handle, _server_clock(str(handle.address)) if start is not None else None

    def _clock_start(self) -> datetime | None:
        """Where a server's clock starts: the configured ``start`` the first time; after that, where
        the last server's clock has got to by now (a restart must not send the market back in time:
        ticks already streamed would come again)."""
        options = self.settings
        if options.start is None:
            return None  # the wall clock: it runs on by itself
        if self._clock is None:
            return options.start if options.start.tzinfo else options.start.replace(tzinfo=UTC)
        wall, server_ms = self._clock
        now_ms = server_ms + (time.time() - wall) * 1000 * options.speed
        return datetime.fromtimestamp(now_ms / 1000, tz=UTC)

    def _adopt(self, started: tuple[Any, tuple[float, int] | None]) -> None:
        """Make a started server the running one: note its clock, watch for its end."""
        handle, clock = started
        self._handle = handle
        self._attached = None
        self._address = str(handle.address)
        self._clock = clock or self._clock
        loop = self._loop
        assert loop is not None  # noqa: S101 - set by start()

        def ended(process: Any, code: int) -> None:  # on the handle's thread
            try:
                loop.call_soon_threadsafe(self._on_exit, process, code)
            except RuntimeError:  # the loop has closed: the app is gone
                pass

        handle.on_exit(ended)

    def _attach(self, address: str) -> None:
        self._attached = self._address = address
        self._task = asyncio.create_task(self._watch_attached(), name="sim-server-attached")

    # ------------------------------------------------------------------ supervision
    def _on_exit(self, handle: Any, code: int) -> None:
        if self._stopping or handle is not self._handle:
            return  # stopped on purpose, or an old process
        self._handle = None
        uptime = time.monotonic() - handle.started_at
        if uptime >= self.stable_after_s:
            self._backoff.reset()
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        # A crash leaves its traceback in the output; a signal leaves nothing worth repeating.
        last = "; its last words: " + " | ".join(list(handle.tail)[-3:]) if code >= 0 and handle.tail else ""
        log.error("sim trade server (pid %d) died after %.0fs (%s)%s", handle.pid, uptime, how, last)
        self._task = asyncio.create_task(self._restart(), name="sim-server-restart")

    async def _restart(self) -> None:
        """Start a new server on the same state dir, with backoff, until one runs (or we stop)."""
        from app.mt5.sim.claim import running_server
        from app.mt5.sim.process import PortInUse, StateDirInUse

        port = _port(self._address) if self._address else self.settings.port
        while not self._stopping:
            delay = self._backoff.next_delay()
            self.restart_delays.append(delay)
            log.info("restarting the sim trade server in %.1fs (state in %s)", delay, self.state_dir)
            await asyncio.sleep(delay)
            self._starting = asyncio.get_running_loop().run_in_executor(None, self._start_process, port)
            try:
                started = await asyncio.shield(self._starting)
            except PortInUse as exc:
                log.warning("sim trade server: port %d is taken (%s); using any free port", port, exc)
                port = 0
                continue
            except StateDirInUse:
                holder = running_server(self.state_dir)
                if holder is not None and holder.owner == "user":  # the user started one meanwhile
                    log.info("using the sim trade server the user started (%s)", holder.describe())
                    self._task = None
                    self._attach(holder.address)
                    self._announce()
                    return
                log.warning("sim trade server: its state dir is still held (%s); trying again", holder)
                continue
            except Exception as exc:  # noqa: BLE001 - keep trying: the terminals need a server
                log.error("sim trade server did not restart: %s", exc)
                continue
            finally:
                if self._starting is not None and self._starting.done():
                    self._starting = None
            self._task = None
            self._adopt(started)
            self.restarts += 1
            log.warning("sim trade server restarted at %s (restart %d); the terminals reconnect",
                        self.address, self.restarts)  # fmt: skip
            self._announce()
            return

    async def _watch_attached(self) -> None:
        """A server the user started is theirs to stop; when it goes, the app starts its own."""
        from app.mt5.sim.claim import running_server

        while not self._stopping:
            await asyncio.sleep(ATTACHED_POLL_S)
            if running_server(self.state_dir) is None:
                log.warning("the sim trade server on %s has stopped; starting one of the app's own",
                            self.state_dir)  # fmt: skip
                self._attached = None
                self._task = asyncio.create_task(self._restart(), name="sim-server-restart")
                return

    def _announce(self) -> None:
        for listener in self._listeners:
            try:
                listener(self.address)
            except Exception:
                log.exception("a sim server restart listener failed")


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


def _server_clock(address: str) -> tuple[float, int] | None:
    """(wall time, the server's time in ms) read together from the server at ``address``."""
    from app.mt5.sim.client import Connection
    from app.mt5.sim.errors import SimError

    host, _, port = address.rpartition(":")
    connection = Connection(host, int(port), "app-supervisor", 5.0)
    try:
        before = time.time()
        hello = connection.call("hello", "initialize")
        return (before + time.time()) / 2, int(hello["now"])
    except (SimError, KeyError, TypeError, ValueError):
        return None
    finally:
        connection.close()
