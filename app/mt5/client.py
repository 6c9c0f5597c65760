"""The app's handle on one terminal: an asyncio client over a supervised worker process.

Contract (what every caller may rely on):

* **Non-blocking.** Every method is a coroutine or returns at once; nothing waits on the terminal on
  the caller's thread. Calls run one at a time in the worker, each bounded by a timeout.
* **Self-healing.** A call that outlives its timeout raises :class:`CallTimeoutError` and the worker is
  killed and restarted; a dead worker is restarted with backoff; a lost terminal connection
  (-10003/-10004/-10005, ``terminal_info()`` None or ``connected`` False) is re-initialised with
  backoff. After a restart the worker logs back in to the account it held and the tick stream resumes
  from its cursors: no tick doubled, none missed.
* **Observable.** Every change of connection state is reported as a :class:`TerminalState`.
* **App types only.** Results are immutable app models, never MT5 namedtuples, and are never
  changed after they have been handed out.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from app.models import (
    AccountInfo,
    AuthorizationError,
    CallTimeoutError,
    NotConnectedError,
    NotReadyError,
    TemporaryError,
    TerminalError,
    TerminalState,
    TerminalStatus,
    TickBatch,
    WorkerCrashedError,
)
from app.mt5.errors import error_from_failure
from app.mt5.process import WorkerProcess
from app.mt5.protocol import Call, LogMessage, Reply, TickCursor, TicksMessage, WorkerSpec
from app.retry import Backoff

log = logging.getLogger(__name__)

StateListener = Callable[[TerminalState], None]
TicksListener = Callable[[tuple[TickBatch, ...]], None]


class TerminalClient:
    """One terminal, owned by one worker process (see the module docstring for the contract)."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        call_timeout: float = 10.0,
        login_timeout: float = 60.0,
        health_interval: float = 2.0,
        backoff: Backoff | None = None,
        on_state: StateListener | None = None,
        on_ticks: TicksListener | None = None,
        path_provider: Callable[[str], str | None] | None = None,
    ) -> None:
        self.spec = spec
        self._path_provider = path_provider
        self.terminal_id = spec.terminal_id
        self.call_timeout = call_timeout
        self.login_timeout = login_timeout
        self.health_interval = health_interval
        self._backoff = backoff or Backoff()
        self._state_listeners: list[StateListener] = [on_state] if on_state else []
        self._ticks_listeners: list[TicksListener] = [on_ticks] if on_ticks else []
        self.state = TerminalState(self.terminal_id, TerminalStatus.DISCONNECTED, since=_now())
        self._process: WorkerProcess | None = None
        self._generation = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._call_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._stopping = False
        self._account: tuple[int, str, str] | None = None  # login, server, password of the held account
        self._home_account: tuple[int, str] | None = None  # the account found at the first connect
        self._stream_symbols: list[str] = []
        self._stream_interval = 0.01
        self._stream_paused = False
        self.cursors: dict[str, TickCursor] = {}
        self._recovery: asyncio.Task[None] | None = None
        self._health: asyncio.Task[None] | None = None
        self._kick_recovery = asyncio.Event()  # set by reconnect_now(): skip the backoff's wait
        self._kick_health = asyncio.Event()  # ... and look at the connection now
        self.restarts = 0

    # ------------------------------------------------------------------ listeners
    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def add_ticks_listener(self, listener: TicksListener) -> None:
        self._ticks_listeners.append(listener)

    def _set_state(self, status: TerminalStatus, reason: str = "", **changes: Any) -> None:
        current = self.state
        since = current.since if (status, reason) == (current.status, current.reason) else _now()
        new = replace(current, status=status, reason=reason, since=since, **changes)
        if new == current:
            return
        if (status, reason) != (current.status, current.reason):
            level = logging.WARNING if status is TerminalStatus.ERROR else logging.INFO
            log.log(
                level, "terminal %s: %s%s", self.terminal_id, status.value, f" ({reason})" if reason else ""
            )
        self.state = new
        for listener in self._state_listeners:
            listener(new)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the worker and connect in the background: returns at once, never raises. Calls wait
        (within their timeout) until the terminal is ready; :meth:`wait_ready` waits explicitly."""
        self._stopping = False
        self._spawn()
        self._recovery = asyncio.create_task(self._first_connect(), name=f"connect-{self.terminal_id}")
        self._health = asyncio.create_task(self._health_loop(), name=f"health-{self.terminal_id}")

    async def _first_connect(self) -> None:
        try:
            await self._connect()
        except (TerminalError, TimeoutError) as exc:
            self._set_state(TerminalStatus.ERROR, str(exc) or type(exc).__name__)
            self._recovery = None
            self._schedule_recovery(restart_worker=isinstance(exc, CallTimeoutError | WorkerCrashedError))

    async def wait_ready(self, timeout_s: float) -> bool:
        """True once the terminal is connected and ready for calls; False if not within ``timeout_s``."""
        return await _wait_set(self._ready, timeout_s)

    async def stop(self) -> None:
        self._stopping = True
        self._ready.clear()
        for task in (self._health, self._recovery):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._health, self._recovery) if t is not None), return_exceptions=True
        )
        process, self._process = self._process, None
        self._fail_pending(NotConnectedError("terminal stopped", terminal_id=self.terminal_id))
        if process is not None:
            await asyncio.get_running_loop().run_in_executor(None, process.stop)
        self._set_state(TerminalStatus.DISCONNECTED, "stopped")

    @property
    def worker_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _spawn(self) -> None:
        self._generation += 1
        generation = self._generation
        self._set_state(TerminalStatus.CONNECTING)
        self._process = WorkerProcess(
            self.spec,
            asyncio.get_running_loop(),
            partial(self._on_message, generation),
            partial(self._on_worker_exit, generation),
        )

    async def _connect(self) -> None:
        """Initialise the terminal in the current worker, log back in, resume the stream."""
        self._set_state(TerminalStatus.CONNECTING)
        path = self._path_provider(self.terminal_id) if self._path_provider else self.spec.path
        health = await self._raw_call(
            "initialize",
            path,
            timeout_s=self.login_timeout,
            init_timeout_ms=self.spec.init_timeout_ms,
            portable=self.spec.portable,
        )
        if self._account is not None:
            login, server, password = self._account
            if health.get("login") != login:
                await self._raw_call(
                    "login",
                    login,
                    password,
                    server,
                    int(self.login_timeout * 1000),
                    timeout_s=self.login_timeout,
                )
                health = await self._raw_call("health", timeout_s=self.call_timeout)
        self._apply_health(health)
        if self._home_account is None and health.get("login"):
            self._home_account = (int(health["login"]), str(health.get("server", "")))
        if self._stream_symbols:
            self.cursors = await self._raw_call(
                "stream_set",
                self._stream_symbols,
                self.cursors,
                self._stream_interval,
                timeout_s=self.call_timeout,
            )
            if self._stream_paused:
                await self._raw_call("stream_pause", True, timeout_s=self.call_timeout)
        self._backoff.reset()
        self._ready.set()

    def _apply_health(self, health: dict[str, Any]) -> None:
        status = TerminalStatus.LOGGED_IN if health.get("login") else TerminalStatus.CONNECTED
        reason = ""
        if not health.get("connected"):
            status, reason = TerminalStatus.DISCONNECTED, "terminal not connected to its trade server"
        self._set_state(
            status,
            reason,
            ping_ms=health.get("ping_ms"),
            login=health.get("login"),
            server=health.get("server", ""),
            trade_allowed=bool(health.get("trade_allowed")),
            build=int(health.get("build") or 0),
        )

    # ------------------------------------------------------------------ recovery
    def _schedule_recovery(self, restart_worker: bool) -> None:
        self._ready.clear()
        if self._stopping or (self._recovery is not None and not self._recovery.done()):
            return
        self._recovery = asyncio.create_task(
            self._recover(restart_worker), name=f"recover-{self.terminal_id}"
        )

    def reconnect_now(self) -> None:
        """The terminal's trade server is back (the sim server was restarted): check the connection
        now and, if it is lost, reconnect at once instead of after the rest of the backoff."""
        self._backoff.reset()
        self._kick_recovery.set()
        self._kick_health.set()

    async def _pause(self, delay: float, kick: asyncio.Event) -> None:
        """Sleep ``delay`` seconds, or less if ``kick`` is set meanwhile (or already)."""
        await _wait_set(kick, delay)
        kick.clear()

    async def _recover(self, restart_worker: bool) -> None:
        while not self._stopping:
            delay = self._backoff.next_delay()
            if restart_worker or self._process is None or not self._process.alive:
                await self._kill_worker()
                log.info("terminal %s: restarting its worker in %.1fs", self.terminal_id, delay)
                await asyncio.sleep(delay)
                self.restarts += 1
                self._spawn()
                restart_worker = False
            else:
                log.info("terminal %s: reconnecting in %.1fs", self.terminal_id, delay)
                await self._pause(delay, self._kick_recovery)
            try:
                await self._connect()
                return
            except (TerminalError, TimeoutError) as exc:
                status = (
                    TerminalStatus.ERROR
                    if isinstance(exc, AuthorizationError)
                    else TerminalStatus.DISCONNECTED
                )
                self._set_state(status, str(exc) or type(exc).__name__)
                if isinstance(exc, CallTimeoutError | WorkerCrashedError):
                    restart_worker = True

    async def _kill_worker(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await asyncio.get_running_loop().run_in_executor(None, process.kill)

    def _on_worker_exit(self, generation: int) -> None:
        if generation != self._generation or self._stopping:
            return
        log.warning("terminal %s: worker process exited unexpectedly", self.terminal_id)
        self._fail_pending(WorkerCrashedError("terminal worker process died", terminal_id=self.terminal_id))
        self._set_state(TerminalStatus.ERROR, "worker process died")
        self._schedule_recovery(restart_worker=True)

    async def _health_loop(self) -> None:
        while not self._stopping:
            await self._pause(self.health_interval, self._kick_health)
            if not self._ready.is_set():
                continue
            try:
                health = await self.call("health")
            except NotConnectedError as exc:
                self._set_state(TerminalStatus.DISCONNECTED, str(exc))
                self._schedule_recovery(restart_worker=False)
                continue
            except TerminalError:
                continue  # timeouts and crashes already trigger their own recovery
            self._apply_health(health)
            if not health.get("connected"):
                self._schedule_recovery(restart_worker=False)

    # ------------------------------------------------------------------ calls
    async def call(self, op: str, *args: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """Run ``op`` in the worker; wait for the terminal to be ready first (within the same timeout)."""
        limit = self.call_timeout if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        if not await _wait_set(self._ready, limit):
            raise NotReadyError(
                f"terminal {self.terminal_id} is not ready ({self.state.status.value}"
                f"{': ' + self.state.reason if self.state.reason else ''})",
                terminal_id=self.terminal_id,
            )
        return await self._raw_call(op, *args, timeout_s=max(0.05, deadline - time.monotonic()), **kwargs)

    async def _raw_call(self, op: str, *args: Any, timeout_s: float, **kwargs: Any) -> Any:
        async with self._call_lock:
            process = self._process
            if process is None:
                raise NotReadyError("no worker process", terminal_id=self.terminal_id)
            request_id = next(self._ids)
            future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            process.send(Call(request_id, op, args, kwargs))
            try:
                reply = await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                log.error(
                    "terminal %s: %s timed out after %.1fs; restarting the worker",
                    self.terminal_id,
                    op,
                    timeout_s,
                )
                self._set_state(TerminalStatus.ERROR, f"{op} timed out")
                await self._kill_worker()
                self._schedule_recovery(restart_worker=True)
                raise CallTimeoutError(
                    f"{op} timed out after {timeout_s:.1f}s", terminal_id=self.terminal_id
                ) from None
            finally:
                self._pending.pop(request_id, None)
        if reply.failure is not None:
            error = error_from_failure(reply.failure, self.terminal_id)
            if isinstance(error, NotConnectedError) and self._ready.is_set():
                self._set_state(TerminalStatus.DISCONNECTED, error.message)
                self._schedule_recovery(restart_worker=False)
            raise error
        return reply.value

    def _fail_pending(self, error: TerminalError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    def _on_message(self, generation: int, message: Any) -> None:
        if generation != self._generation:
            return  # from a worker we already replaced: its ticks will be fetched again
        if isinstance(message, Reply):
            future = self._pending.get(message.request_id)
            if future is not None and not future.done():
                future.set_result(message)
        elif isinstance(message, TicksMessage):
            self.cursors.update(message.cursors)
            for listener in self._ticks_listeners:
                listener(message.batches)
        elif isinstance(message, LogMessage):
            logging.getLogger(message.logger).log(message.level, "[%s] %s", self.terminal_id, message.message)

    # ------------------------------------------------------------------ account
    async def login(
        self, login: int, password: str, server: str, *, timeout_s: float | None = None
    ) -> AccountInfo:
        """Log in to an account and hold it: after any restart the worker logs back in to it.

        ``timeout_s`` bounds this login (default: the client's ``login_timeout``); past it the worker
        is restarted, as for any hung call. If the login fails, the terminal goes back to the account
        it was on before (a failed login leaves an MT5 terminal without an account), and the error is
        raised.
        """
        limit = self.login_timeout if timeout_s is None else timeout_s
        try:
            account: AccountInfo = await self.call(
                "login",
                int(login),
                password,
                server,
                int(limit * 1000),
                timeout_s=limit,
            )
        except TerminalError:
            await self._restore_account()
            raise
        self._account = (int(login), server, password)
        self._set_state(TerminalStatus.LOGGED_IN, login=account.login, server=account.server)
        return account

    async def _restore_account(self) -> None:
        try:
            if self._account is not None:
                held_login, held_server, held_password = self._account
                timeout_ms = int(self.login_timeout * 1000)
                await self.call(
                    "login", held_login, held_password, held_server, timeout_ms, timeout_s=self.login_timeout
                )
            else:
                await self._raw_call(
                    "initialize",
                    self._path_provider(self.terminal_id) if self._path_provider else self.spec.path,
                    timeout_s=self.login_timeout,
                    init_timeout_ms=self.spec.init_timeout_ms,
                    portable=self.spec.portable,
                )
            self._apply_health(await self.call("health"))
        except TerminalError as exc:
            self._set_state(TerminalStatus.ERROR, f"could not return to the previous account: {exc}")

    @property
    def held_account(self) -> tuple[int, str] | None:
        return (self._account[0], self._account[1]) if self._account else None

    @property
    def home_account(self) -> tuple[int, str] | None:
        """The account this terminal should be on: the one it was told to hold (``login``), else the
        one it was logged in to when it first connected (a terminal attaches to its last account)."""
        return self.held_account or self._home_account

    # ------------------------------------------------------------------ tick stream
    async def stream_ticks(self, symbols: list[str], interval_s: float | None = None) -> None:
        """Stream ticks of ``symbols`` (replacing the previous set) to the ticks listeners."""
        if interval_s is not None:
            self._stream_interval = interval_s
        self._stream_symbols = list(dict.fromkeys(symbols))
        self.cursors = {s: c for s, c in self.cursors.items() if s in self._stream_symbols}
        self.cursors = await self.call(
            "stream_set", self._stream_symbols, self.cursors, self._stream_interval
        )

    async def pause_stream(self, paused: bool) -> None:
        self._stream_paused = paused
        await self.call("stream_pause", paused)


async def _wait_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Whether ``event`` is set within ``timeout_s``. A budget already spent (a carousel step's) gives
    False at once: ``wait_for`` with a timeout of 0 would wrap ``event.wait()`` in a task it cancels
    before it starts, and that coroutine is then reported as never awaited."""
    if event.is_set():
        return True
    if timeout_s <= 0:
        return False
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["TemporaryError", "TerminalClient"]
