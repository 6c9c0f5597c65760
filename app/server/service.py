"""The server as a runtime service: uvicorn serving inside the app's own event loop.

``uvicorn.Server.serve()`` runs as a task on the running loop — plain asyncio with ``--serve``, the
qasync loop in the window — so it never blocks that loop and never takes over signal handling (the
app's one shutdown path stays in charge). It is started when ``server.enabled`` is set (always with
``--serve``); the window can also :meth:`ApiServer.enable`/:meth:`ApiServer.disable` it while running
and show :attr:`ApiServer.state` (``status``, ``url``, ``error``).

This module imports no web framework: FastAPI, Socket.IO and uvicorn load on the first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from app.audit import Action, Actor, setting_change
from app.core.credentials import Secret

if TYPE_CHECKING:
    from app.core.users import UserDirectory
    from app.server.context import ServerContext, Services
    from app.server.realtime import RealtimeGateway

log = logging.getLogger(__name__)

Status = Literal["off", "starting", "running", "stopping", "error"]
STARTUP_TIMEOUT_S = 15.0


class ServerStartError(Exception):
    """The server could not start; ``str()`` is one line for the user (no keyring, port in use, ...)."""


@dataclass(frozen=True, slots=True)
class ServerState:
    """What the window's status indicator shows."""

    status: Status
    url: str | None = None
    error: str = ""
    connections: int = 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_bind_warning(host: str, tls: bool) -> str | None:
    """What the log says when the server listens beyond this machine (None on loopback)."""
    if is_loopback(host):
        return None
    clear = "" if tls else "; without TLS, passwords and tokens cross the network in clear text"
    return (
        f"server bound to {host}, not to the loopback address: anyone who can reach this machine can "
        f"try to log in{clear}"
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port`` (port 0: any free port); errors name the address."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _directory(services: Services) -> UserDirectory:
    from app.core.users import UserDirectory

    return UserDirectory(services.storage.db, services.audit, services.settings.server.admin_username)


def _embedded_server_class() -> type[Any]:
    import uvicorn

    class EmbeddedServer(uvicorn.Server):
        """uvicorn without its signal handlers: the app owns SIGINT/SIGTERM."""

        def install_signal_handlers(self) -> None:  # uvicorn < 0.29
            return

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:  # uvicorn >= 0.29
            yield

    return EmbeddedServer


class ApiServer:
    """Runs the REST + Socket.IO server for a runtime. ``required``: a failure to start is fatal
    (``--serve``) rather than shown in :attr:`state` (the window)."""

    name = "api-server"

    def __init__(self, services: Services, *, required: bool = False) -> None:
        self.services = services
        self.required = required
        self._state = ServerState("off")
        self._listeners: list[Callable[[ServerState], None]] = []
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._gateway: RealtimeGateway | None = None
        self._ctx: ServerContext | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.users = _directory(services)  # one directory: a change in the window reaches the server

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> ServerState:
        if self._state.status == "running" and self._gateway is not None:
            return ServerState("running", self._state.url, connections=self._gateway.connections)
        return self._state

    @property
    def url(self) -> str | None:
        return self._state.url

    @property
    def gateway(self) -> RealtimeGateway | None:
        return self._gateway

    @property
    def context(self) -> ServerContext | None:
        """The running server's auth state and services (None when it is off)."""
        return self._ctx

    def add_state_listener(self, listener: Callable[[ServerState], None]) -> None:
        self._listeners.append(listener)

    def _set(self, state: ServerState) -> None:
        self._state = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # noqa: BLE001 - a broken indicator must not break the server
                log.exception("server state listener failed")

    # ------------------------------------------------------------------ service

    async def start(self) -> None:
        if self.services.settings.server.enabled:
            await self.enable()

    async def stop(self) -> None:
        await self.disable()

    async def enable(self) -> ServerState:
        """Start serving (no-op when already running). Raises :class:`ServerStartError` if
        ``required``; otherwise a failure is logged and kept in :attr:`state`."""
        async with self._lock:
            if self._task is not None:
                return self.state
            self._set(ServerState("starting"))
            try:
                await self._start()
            except ServerStartError as exc:
                log.error("server not started: %s", exc)
                self._set(ServerState("error", error=str(exc)))
                if self.required:
                    raise
            return self.state

    async def disable(self) -> ServerState:
        async with self._lock:
            if self._task is None:
                return self.state
            self._set(ServerState("stopping", self._state.url))
            await self._stop()
            self._set(ServerState("off"))
            log.info("server stopped")
            return self.state

    async def set_admin_password(self, password: str | Secret, actor: str = Actor.GUI) -> None:
        """Set the admin password (the window's way; the CLI has ``server set-password``), audited."""
        from app.server.auth import aset_admin_password

        await aset_admin_password(self.services.settings.data_dir, password)
        if self._ctx is not None:
            self._ctx.tokens.notice_changes()  # its sockets close now, not at the next look
        await self.services.audit.append(
            actor, Action.SETTING_CHANGE, payload=setting_change("server.admin_password", "***", "***")
        )
        log.info("server admin password set")

    # ------------------------------------------------------------------ the work

    async def _context(self) -> ServerContext:
        from app.core.credentials import CredentialError
        from app.server.auth import PasswordStore, TokenService, admin_password_is_set, load_or_create_secret
        from app.server.context import ServerContext
        from app.server.ratelimit import RateLimiter

        settings = self.services.settings
        try:
            secret = await load_or_create_secret(self.services.credentials, settings.data_dir)
        except CredentialError as exc:
            raise ServerStartError(
                f"the server keeps its token signing key in the OS keyring: {exc}"
            ) from None
        if not admin_password_is_set(settings.data_dir):
            log.warning(
                "server: no admin password is set yet, so every login is refused; set one with "
                "`mt5-console server set-password`"
            )
        from app.core.users import UserDirectory

        directory = UserDirectory(
            self.services.storage.db, self.services.audit, settings.server.admin_username
        )
        tokens = TokenService(
            secret,
            PasswordStore(settings.data_dir),
            settings.server.admin_username,
            settings.server.token_expiry_s,
            directory,
        )
        try:
            await tokens.refresh()
        except Exception as exc:  # noqa: BLE001 - fails closed: the users' tokens wait for the next look
            log.warning("server: the users and API keys cannot be read yet (%s): the admin only for now", exc)
        limiter = RateLimiter(settings.server.login_attempts, settings.server.login_window_s)
        return ServerContext(self.services, tokens, limiter)

    async def _start(self) -> None:
        import uvicorn

        from app.server.app import create_app
        from app.server.ws_batching import BatchedWebSocketProtocol

        options = self.services.settings.server
        ctx = await self._context()
        app, gateway = create_app(ctx)
        tls = options.tls_cert is not None
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=False,
            ssl_certfile=str(options.tls_cert) if options.tls_cert else None,
            ssl_keyfile=str(options.tls_key) if options.tls_key else None,
            ws=BatchedWebSocketProtocol,  # uvicorn's own, writing each connection's frames once a loop turn
            ws_max_size=options.max_body_bytes,
            ws_per_message_deflate=options.ws_compression,
            timeout_graceful_shutdown=int(options.shutdown_timeout_s),
            timeout_keep_alive=30,
        )
        try:
            config.load()  # TLS files are read here: a bad one is a start error, not a crash later
        except (OSError, ValueError) as exc:
            raise ServerStartError(f"cannot load the TLS certificate or key: {exc}") from None
        sock = bind_socket(options.host, options.port)
        host, port = sock.getsockname()[:2]
        server = _embedded_server_class()(config)
        gateway.start()
        self._server, self._gateway, self._ctx = server, gateway, ctx
        self._watch = asyncio.create_task(ctx.tokens.watch(), name="api-token-watch")
        self._task = asyncio.create_task(self._serve(server, sock), name="api-server")
        try:
            await self._wait_started(server)
        except ServerStartError:
            await self._stop()
            raise
        scheme = "https" if tls else "http"
        shown = f"[{host}]" if ":" in host else host
        url = f"{scheme}://{shown}:{port}"
        self._set(ServerState("running", url))
        log.info(
            "server listening on %s (REST under /api, Socket.IO at /socket.io, OpenAPI at /openapi.json)", url
        )
        warning = public_bind_warning(options.host, tls)
        if warning:
            log.warning("%s", warning)

    async def _serve(self, server: Any, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except (Exception, SystemExit) as exc:  # uvicorn exits the process on some startup failures
            log.error("server stopped unexpectedly: %s", exc)
            self._set(ServerState("error", error=str(exc) or type(exc).__name__))
        finally:
            sock.close()

    async def _wait_started(self, server: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_S
        while not server.started:
            if self._task is None or self._task.done():
                raise ServerStartError(self._state.error or "the server stopped while starting")
            if loop.time() > deadline:
                raise ServerStartError(f"the server did not start within {STARTUP_TIMEOUT_S:g} s")
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        server, task, gateway, watch = self._server, self._task, self._gateway, self._watch
        if self._ctx is not None:
            self._ctx.tokens.close()
        self._server = self._task = self._gateway = self._ctx = self._watch = None
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        if gateway is not None:
            await gateway.close()
        if server is None or task is None:
            return
        server.should_exit = True
        timeout = self.services.settings.server.shutdown_timeout_s + 2.0
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            server.force_exit = True
            done, _ = await asyncio.wait({task}, timeout=2.0)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
