"""``mt5-console accounts sync [ID|LOGIN@SERVER ...] [--all]``: one-off carousel visits, no window.

The visits are the carousel's own (:class:`~app.core.carousel.Carousel`), on terminals of this
process, with the same settings and the same safety: with one terminal it is shared and put back on
its account after each visit.

Which trade server? With real MetaTrader 5 terminals, the terminals themselves — but only while the
app is not running on this data dir (it holds ``<data dir>/terminals.lock``; two processes driving
one terminal would log each other's terminal out). On the simulator, the trade server whose books
live in ``<data dir>/sim``: the one running there if there is one (the app's, or a ``mt5-console
sim`` of the user's) — found through ``<data dir>/sim/server.json``, trusted only while that server
holds its lock — else one started for this command on that directory and stopped after it. Two
servers never run on one state directory: the directory is locked by the server that runs on it.
The command's sim terminals are named ``cli-<terminal id>`` on the server, so they never disturb
the app's.

Exit codes: 0 every named account was visited; 1 a visit failed (each failure is one line, with the
reason the account's status now shows), or no terminal could be used; 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC
from pathlib import Path

from app.config import Settings
from app.core.accounts import AccountError, AccountRegistry, InvalidAccountError, parse_account_ref
from app.core.accounts_cli import EXIT_FAILED, EXIT_OK, _credentials, _guarded, _refuse_password_flag
from app.core.carousel import Carousel, CarouselError
from app.core.hub import EventHub
from app.core.storage import Database, database_target
from app.models import AccountSnapshot, ManagedAccount, TerminalStatus
from app.mt5.backend import TerminalPlan, plan_terminals
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.mt5.protocol import WorkerSpec
from app.mt5.sim.claim import running_server
from app.mt5.sim.process import ServerProcess, StateDirInUse, start_server_process
from app.mt5.sim_service import SimTradeServer
from app.mt5.terminals_lock import TERMINALS_LOCK_FILE
from app.oslock import OsLock

log = logging.getLogger(__name__)

CLI_TERMINAL_PREFIX = "cli-"


class _SyncRefused(Exception):
    """Nothing could be visited (no terminal to use); ``str()`` is the one line shown."""


def register_sync(actions: object, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(  # type: ignore[attr-defined]
        "sync",
        parents=[common],
        help="visit accounts now (one-off carousel visits: snapshot, deals, P/L)",
        description="Visit accounts now, as the carousel does: log in, take a snapshot, fetch new deals, "
        "compute P/L, store it. In sim mode the running trade server of this data dir is used, or one "
        "is started for the command.",
    )
    parser.add_argument("accounts", nargs="*", metavar="ID|LOGIN@SERVER", help="the accounts to visit")
    parser.add_argument("--all", action="store_true", help="every enabled account")
    # As on the top level (``mt5-console --sim accounts sync`` works too); suppressed defaults, so
    # they never mask a top-level flag.
    parser.add_argument(
        "--sim", action="store_true", default=argparse.SUPPRESS, help="use the simulated terminal"
    )
    parser.add_argument(
        "--terminal",
        action="append",
        metavar="PATH",
        dest="terminals",
        default=argparse.SUPPRESS,
        help="a terminal64.exe to visit on (repeatable)",
    )
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_sync)


@_guarded
def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.all) == bool(args.accounts):
        raise InvalidAccountError("account", "name the accounts to visit (ID or LOGIN@SERVER), or give --all")
    for ref in args.accounts:
        parse_account_ref(ref)  # bad input is named before anything else
    _credentials(settings).ensure_available()
    try:
        return asyncio.run(_sync(args, settings))
    except _SyncRefused as exc:
        sys.stderr.write(f"mt5-console: error: {exc}\n")
        return EXIT_FAILED


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    async with AsyncExitStack() as stack:
        db = Database(database_target(settings.data_dir, settings.storage))
        await db.start()
        stack.push_async_callback(db.stop)
        registry = AccountRegistry(db, _credentials(settings), settings=settings.accounts)
        targets = [await registry.resolve(ref) for ref in args.accounts]  # unknown: fail before any login
        plan = plan_terminals(settings.terminals)
        pool = await stack.enter_async_context(_terminals(settings, plan))
        carousel = Carousel(
            registry,
            pool,
            EventHub(),
            settings.carousel.model_copy(update={"autostart": False, "shared_pause_s": 0.0}),
            home_passwords=SimTradeServer.demo_password if plan.kind == "sim" else None,
        )
        if args.all:
            return await _sync_all(carousel, registry)
        failed = 0
        for account in targets:
            failed += not await _sync_one(carousel, account)
        return EXIT_FAILED if failed else EXIT_OK
    raise AssertionError("unreachable")


async def _sync_one(carousel: Carousel, account: ManagedAccount) -> bool:
    try:
        snapshot = await carousel.sync_now(account.id)
    except (CarouselError, AccountError) as exc:
        print(f"{_label(account)}: failed: {_reason(exc)}")
        return False
    print(f"{_label(account)}: ok: {describe_snapshot(snapshot)}")
    return True


async def _sync_all(carousel: Carousel, registry: AccountRegistry) -> int:
    report = await carousel.run_cycle()
    accounts = {a.id: a for a in await registry.list(enabled_only=True)}
    visited = {visit.account.id: visit.snapshot for visit in report.visits}
    problems = 0
    for account_id, account in accounts.items():
        if account_id in visited:
            print(f"{_label(account)}: ok: {describe_snapshot(visited[account_id])}")
        else:
            reason = report.failures.get(account_id) or carousel.status().note or "not visited"
            print(f"{_label(account)}: failed: {reason}")
            problems += 1
    if not accounts:
        print("no enabled accounts (add one: mt5-console accounts add --login N --server S)")
    return EXIT_FAILED if problems else EXIT_OK


def _reason(exc: Exception) -> str:
    text = str(exc)
    prefix = "visit to "
    if text.startswith(prefix) and " failed: " in text:
        return text.split(" failed: ", 1)[1]
    return text


def _label(account: ManagedAccount) -> str:
    return f"{account.key} ({account.alias})" if account.alias else account.key


def describe_snapshot(snapshot: AccountSnapshot) -> str:
    """One line: balance, equity, open positions and P/L (never anything secret: there is nothing)."""
    pnl = snapshot.pnl
    return (
        f"balance {snapshot.balance:,.2f} {snapshot.currency}, equity {snapshot.equity:,.2f}, "
        f"{snapshot.open_positions} open ({snapshot.open_pl:+,.2f}), {snapshot.pending_orders} pending; "
        f"P/L today {pnl.day:+,.2f}, week {pnl.week:+,.2f}, month {pnl.month:+,.2f}, total {pnl.total:+,.2f}"
    )


# ----------------------------------------------------------------------------- terminals


@asynccontextmanager
async def _terminals(settings: Settings, plan: TerminalPlan) -> AsyncIterator[TerminalPool]:
    """The pool this command visits on, started, and everything it needs (a trade server, a lock)."""
    async with AsyncExitStack() as stack:
        if plan.kind == "sim":
            address = await stack.enter_async_context(sim_trade_server(settings))
            specs = [
                WorkerSpec(
                    f"sim-{n}",
                    "sim",
                    path=f"sim://{address}/{CLI_TERMINAL_PREFIX}sim-{n}",
                    log_level=settings.logging.level,
                )  # fmt: skip
                for n in range(1, plan.size + 1)
            ]
        else:
            lock = OsLock(settings.data_dir / TERMINALS_LOCK_FILE)
            if not lock.try_acquire():
                raise _SyncRefused(
                    "the app is running on this data dir and drives its terminals: use Sync now in its "
                    "Accounts tab (or POST /api/accounts/{id}/sync) instead"
                )
            stack.callback(lock.release)
            paths: list[str | None] = list(plan.paths) or [None]
            specs = [
                WorkerSpec(f"mt5-{n}", "real", path=path, log_level=settings.logging.level)
                for n, path in enumerate(paths, start=1)
            ]
        limits = settings.terminals
        clients = [
            TerminalClient(spec, call_timeout=limits.call_timeout_s, login_timeout=limits.login_timeout_s)
            for spec in specs
        ]
        pool = TerminalPool(clients)
        await pool.start()
        stack.push_async_callback(pool.stop)
        await _ready(pool, limits.login_timeout_s)
        yield pool


async def _ready(pool: TerminalPool, timeout_s: float) -> None:
    """Wait until every terminal is connected (or say which one is not)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not all(client.state.connected for client in pool.clients):
        if asyncio.get_running_loop().time() > deadline:
            broken = [c.state for c in pool.clients if not c.state.connected]
            raise _SyncRefused(
                "terminal(s) not ready: "
                + "; ".join(f"{s.terminal_id} {s.status.value} {s.reason}".strip() for s in broken)
            )
        if any(c.state.status is TerminalStatus.ERROR for c in pool.clients):
            log.info("waiting for terminals: %s", [c.state for c in pool.clients])
        await asyncio.sleep(0.05)


@asynccontextmanager
async def sim_trade_server(settings: Settings) -> AsyncIterator[str]:
    """The address of the trade server on ``<data dir>/sim``: the running one, else one started for
    the duration of the block (never a second one on the same directory)."""
    state_dir = settings.data_dir / "sim"
    for _ in range(3):  # the running server may stop, or another may start, between looking and using
        running = running_server(state_dir)
        if running is not None:
            log.info("using the sim trade server of %s (%s)", state_dir, running.describe())
            yield running.address
            return
        try:
            handle = await asyncio.get_running_loop().run_in_executor(None, _start_sim, settings, state_dir)
        except StateDirInUse:
            await asyncio.sleep(0.5)  # someone started one just now: use that
            continue
        try:
            log.info("started a sim trade server on %s at %s", state_dir, handle.address)
            yield str(handle.address)
        finally:
            await asyncio.get_running_loop().run_in_executor(None, handle.stop)
        return
    raise _SyncRefused(f"could not reach or start the sim trade server of {state_dir}")


def _start_sim(settings: Settings, state_dir: Path) -> ServerProcess:
    options = settings.sim
    extra: tuple[str, ...] = ()
    if options.start is not None:
        start = options.start if options.start.tzinfo else options.start.replace(tzinfo=UTC)
        extra = ("--start", start.isoformat(), "--speed", str(options.speed))
    return start_server_process(
        state_dir, seed=options.seed, host=options.host, port=0, extra_args=extra, owner="cli"
    )
