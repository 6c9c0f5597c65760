"""``mt5-console node``: run this machine's share of the distributed carousel, headless (the entry point
of :mod:`app.distributed`; like :mod:`app.headless` it sits above the layers, since ``--serve`` runs a
whole console's runtime beside the node).

Its terminals (``[terminals]``: real MetaTrader 5 installs, or simulated ones) and one worker per
terminal visit the accounts of the PostgreSQL store (``storage.url``) whose password this machine's
OS keyring holds (``mt5-console accounts set-password ID`` here). On the simulator, every node uses
one trade server, as a broker's is shared: ``--sim-server HOST:PORT`` (``[distributed] sim_server``),
or the one of this data dir (started if none runs).

Prints one line when it runs; SIGINT/SIGTERM stop it cleanly (exit 0). Exit 2: bad settings (no
PostgreSQL store, a heartbeat timeout shorter than a terminal call); 1: it cannot start (no usable
keyring, the store unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from app.config import APP_NAME, Settings, SettingsError
from app.core.credentials import CredentialError
from app.core.storage import StorageError
from app.mt5.backend import plan_terminals
from app.mt5.client import TerminalClient
from app.mt5.protocol import WorkerSpec
from app.server.service import ServerStartError
from app.shutdown import install_stop_signals, remove_stop_signals

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "node",
        parents=[common],
        help="run this machine's terminals for the distributed carousel (PostgreSQL store)",
        description="Run a node of the distributed carousel: this machine's terminals visit the accounts "
        "of the PostgreSQL store (storage.url) whose passwords its OS keyring holds.",
    )
    parser.add_argument("--name", default=None, help="the node's name (default: the host name)")
    parser.add_argument("--sim", action="store_true", default=None, help="use simulated terminals")
    parser.add_argument("--sim-terminals", type=int, default=None, metavar="N", help="how many (sim)")
    parser.add_argument("--sim-server", default=None, metavar="HOST:PORT", help="the shared sim trade server")
    parser.add_argument(
        "--terminal", action="append", metavar="PATH", dest="terminals", help="a terminal64.exe (repeatable)"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="also run the headless console here: the REST + Socket.IO server over the whole carousel",
    )
    parser.add_argument("--host", default=None, help="with --serve: the server's bind address")
    parser.add_argument("--port", type=int, default=None, help="with --serve: the server's port")
    parser.set_defaults(run=run_node)


def node_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings with the node's flags applied, checked as a distributed carousel needs them."""
    data = settings.model_dump()
    data["distributed"]["enabled"] = True
    if args.name:
        data["distributed"]["node_name"] = args.name
    if args.sim_server:
        data["distributed"]["sim_server"] = args.sim_server
    if args.sim:
        data["terminals"]["sim"] = True
    if args.sim_terminals:
        data["terminals"]["sim_terminals"] = args.sim_terminals
    if args.terminals:
        data["terminals"]["paths"] = args.terminals
    if getattr(args, "serve", False):
        data["server"]["enabled"] = True
        for key in ("host", "port"):
            if getattr(args, key, None) is not None:
                data["server"][key] = getattr(args, key)
    return _validated(data)


def _validated(data: dict[str, Any]) -> Settings:
    from pydantic import ValidationError

    from app.config import _format_validation_error

    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_format_validation_error(exc)) from None


def run_node(args: argparse.Namespace, settings: Settings) -> int:
    try:
        settings = node_settings(args, settings)
    except SettingsError as exc:
        sys.stderr.write(f"{APP_NAME}: {exc}\n")
        return EXIT_USAGE
    runner = asyncio.Runner(loop_factory=asyncio.SelectorEventLoop if sys.platform == "win32" else None)
    try:
        with runner:
            return runner.run(_serve_with_console(settings) if args.serve else _serve(settings))
    except SettingsError as exc:
        sys.stderr.write(f"{APP_NAME}: {exc}\n")
        return EXIT_USAGE
    except (CredentialError, StorageError, ServerStartError, OSError) as exc:
        sys.stderr.write(f"{APP_NAME}: the node cannot start: {exc}\n")
        return EXIT_FAILED


async def _serve(settings: Settings) -> int:
    from app.distributed.node import Node

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    install_stop_signals(loop, stop.set)
    async with AsyncExitStack() as stack:
        stack.callback(remove_stop_signals, loop)
        clients = await _terminals(settings, stack)
        node = Node(settings, clients)
        await node.start()
        stack.push_async_callback(node.stop)
        print(  # noqa: T201 - the operator reads this
            f"node {node.node_name} running: {len(clients)} terminal(s), {len(node.served)} of "
            f"{len(node.accounts)} account(s) served; store {node.db.target}",
            flush=True,
        )
        await stop.wait()
        log.info("stopping node %s", node.node_name)
    return EXIT_OK


async def _serve_with_console(settings: Settings) -> int:
    """The node inside the headless console's runtime (``--serve``): the server shows the whole
    carousel; the runtime's live terminal is its own, the node's terminals the carousel's."""
    from app.distributed.node import Node
    from app.headless import serve
    from app.logs import LogBus
    from app.runtime import build_runtime

    bus = next((h for h in logging.getLogger().handlers if isinstance(h, LogBus)), None) or LogBus()
    node_settings, console_settings = _split_terminals(settings)
    runtime = build_runtime(console_settings, bus, headless=True)
    node_name = settings.distributed.node_name or _default_name()
    address = settings.distributed.sim_server
    sim = runtime.sim_server

    def path(terminal_id: str) -> str | None:
        where = address or (sim.address if sim is not None else None)
        return f"sim://{where}/{node_name}-{terminal_id}" if where else None

    clients = _clients(node_settings, node_name, path)
    node = Node(node_settings, clients, credentials=runtime.credentials, node_name=node_name)
    runtime.add(node)
    await serve(runtime)
    return EXIT_OK


async def _terminals(settings: Settings, stack: AsyncExitStack) -> list[TerminalClient]:
    """The node's terminal clients (not started: the node's pool starts them)."""
    plan = plan_terminals(settings.terminals)
    limits = settings.terminals
    node = settings.distributed.node_name or _default_name()
    specs: list[WorkerSpec]
    if plan.kind == "sim":
        address = settings.distributed.sim_server
        if not address:
            from app.mt5.sim_service import SimTradeServer

            server = SimTradeServer(settings.data_dir / "sim", settings.sim)
            await server.start()
            stack.push_async_callback(server.stop)
            address = server.address
        specs = [
            WorkerSpec(
                f"sim-{n}", "sim", path=f"sim://{address}/{node}-sim-{n}", log_level=settings.logging.level
            )
            for n in range(1, plan.size + 1)
        ]
    else:
        paths: list[str | None] = list(plan.paths) or [None]
        specs = [
            WorkerSpec(f"mt5-{n}", "real", path=path, log_level=settings.logging.level)
            for n, path in enumerate(paths, start=1)
        ]
    return [
        TerminalClient(spec, call_timeout=limits.call_timeout_s, login_timeout=limits.login_timeout_s)
        for spec in specs
    ]


def _split_terminals(settings: Settings) -> tuple[Settings, Settings]:
    """With ``--serve`` the console needs a live terminal of its own: one sim terminal, or the first
    ``--terminal`` path (two processes must never drive one terminal); the node has the others."""
    terminals = settings.terminals
    if plan_terminals(terminals).kind == "sim":
        console = terminals.model_copy(update={"sim_terminals": 1})
        return settings, settings.model_copy(update={"terminals": console})
    if len(terminals.paths) < 2:
        raise SettingsError(
            "node --serve with MetaTrader 5 terminals needs two --terminal paths at least: the first for "
            "the console's live trading, the others for the carousel"
        )
    node = terminals.model_copy(update={"paths": terminals.paths[1:]})
    console = terminals.model_copy(update={"paths": terminals.paths[:1]})
    return (
        settings.model_copy(update={"terminals": node}),
        settings.model_copy(update={"terminals": console}),
    )


def _clients(settings: Settings, node: str, path: Callable[[str], str | None]) -> list[TerminalClient]:
    """The node's terminals beside a console's own (``--serve``): sim terminals reach their server
    through ``path`` once it is known."""
    plan = plan_terminals(settings.terminals)
    limits = settings.terminals
    if plan.kind == "sim":
        return [
            TerminalClient(
                WorkerSpec(f"sim-{n}", "sim", log_level=settings.logging.level),
                call_timeout=limits.call_timeout_s,
                login_timeout=limits.login_timeout_s,
                path_provider=path,
            )
            for n in range(1, plan.size + 1)
        ]
    paths: list[str | None] = list(plan.paths) or [None]
    return [
        TerminalClient(
            WorkerSpec(f"mt5-{n}", "real", path=p, log_level=settings.logging.level),
            call_timeout=limits.call_timeout_s,
            login_timeout=limits.login_timeout_s,
        )
        for n, p in enumerate(paths, start=1)
    ]


def _default_name() -> str:
    from app.distributed.node import default_node_name

    return default_node_name()
