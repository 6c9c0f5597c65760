"""``mt5-console webhooks add|list|remove|rotate`` and ``mt5-console strategies list|enable|disable|set``:
the named webhooks and the strategies on the command line, on the same database and audit trail as the
app (a running app picks strategy changes up within seconds; webhooks at their next alert).

A webhook's secret is printed once, by ``add`` and ``rotate`` (only its digest is kept).

Exit codes: 0 done; 1 refused (unknown name, exists already, database error); 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from app.audit import Actor, AuditTrail
from app.config import APP_NAME, Settings
from app.core.signals.strategy_runner import StrategyBook, StrategyError
from app.core.signals.webhooks import WebhookBook, WebhookError
from app.core.storage import Database, StorageError, database_target
from app.models.signals import SignalMode, StrategyConfig, Webhook

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
MODES = [m.value for m in SignalMode]
Work = Callable[[argparse.Namespace, WebhookBook, StrategyBook], Any]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    hooks = subparsers.add_parser(
        "webhooks", parents=[common], help="named webhooks for alerts (TradingView)"
    )
    actions = hooks.add_subparsers(title="actions", dest="webhooks_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="add a webhook and print its secret (once)")
    add.add_argument("name")
    add.add_argument("--mode", choices=MODES, default="confirm", help="what its approved alerts do")
    add.add_argument("--symbol", action="append", dest="symbols", default=[], help="allow only (repeatable)")
    add.add_argument("--volume", type=float, default=None, help="the volume when an alert names none")
    add.add_argument(
        "--map", action="append", default=[], metavar="SENT=SYMBOL", help="symbol map (repeatable)"
    )
    add.set_defaults(run=_run(_webhook_add))
    listed = actions.add_parser("list", parents=[common], help="the webhooks (never their secrets)")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(run=_run(_webhook_list))
    changes: tuple[tuple[str, Work], ...] = (("remove", _webhook_remove), ("rotate", _webhook_rotate))
    for name, what in changes:
        action = actions.add_parser(name, parents=[common], help=f"{name} a webhook" + (
            "'s secret (prints the new one)" if name == "rotate" else ""))  # fmt: skip
        action.add_argument("name")
        action.set_defaults(run=_run(what))

    strategies = subparsers.add_parser("strategies", parents=[common], help="strategies on the live bars")
    s_actions = strategies.add_subparsers(
        title="actions", dest="strategies_action", metavar="ACTION", required=True
    )
    s_list = s_actions.add_parser("list", parents=[common], help="the strategies, and the kinds there are")
    s_list.add_argument("--json", action="store_true")
    s_list.set_defaults(run=_run(_strategy_list))
    toggles: tuple[tuple[str, Work], ...] = (("enable", _strategy_enable), ("disable", _strategy_disable))
    for name, what in toggles:
        action = s_actions.add_parser(name, parents=[common], help=f"{name} a strategy")
        action.add_argument("id")
        action.set_defaults(run=_run(what))
    s_set = s_actions.add_parser("set", parents=[common], help="add a strategy or change its settings")
    s_set.add_argument("id")
    s_set.add_argument("--kind", help="sma_cross, rsi_threshold, bollinger_breakout or a plugin's")
    s_set.add_argument("--symbol")
    s_set.add_argument("--timeframe", help="M1, M5, H1, D1, ...")
    s_set.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="(repeatable)")
    s_set.add_argument("--mode", choices=MODES)
    s_set.add_argument("--volume", type=float)
    s_set.set_defaults(run=_run(_strategy_set))


def _run(work: Work) -> Callable[[argparse.Namespace, Settings], int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            db = Database(database_target(settings.data_dir, settings.storage))
            with db, AuditTrail.for_data_dir(settings.data_dir, settings.audit) as trail:
                hooks = WebhookBook(db, trail)
                book = StrategyBook(db, trail, folder=settings.signals.strategy_dir)
                asyncio.run(_call(work, args, hooks, book))
        except (WebhookError, StrategyError) as exc:
            code = EXIT_USAGE if getattr(exc, "status", 422) == 422 else EXIT_FAILED
            return _fail(str(exc), code)
        except _Usage as exc:
            return _fail(str(exc), EXIT_USAGE)
        except StorageError as exc:
            return _fail(f"database: {exc}", EXIT_FAILED)
        return EXIT_OK

    return run


async def _call(work: Work, args: argparse.Namespace, hooks: WebhookBook, book: StrategyBook) -> None:
    result = work(args, hooks, book)
    if asyncio.iscoroutine(result):
        await result


class _Usage(Exception):
    pass


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise _Usage(f"{what} {item!r}: write it as NAME=VALUE")
        out[key] = value
    return out


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"{APP_NAME}: error: {message}\n")
    return code


# ----------------------------------------------------------------------------- webhooks


async def _webhook_add(args: argparse.Namespace, hooks: WebhookBook, _: StrategyBook) -> None:
    if args.volume is not None and not args.volume > 0:
        raise _Usage("--volume: a positive number")
    hook = Webhook(
        args.name, "", SignalMode(args.mode), tuple(args.symbols), args.volume, _pairs(args.map, "--map")
    )
    stored, secret = await hooks.add(hook, actor=Actor.CLI)
    print(f"added webhook {stored.name} ({stored.mode.value}): POST /api/webhooks/{stored.name}")
    print(f'secret (shown this once; put it in the alert\'s body as "secret"): {secret}')


async def _webhook_list(args: argparse.Namespace, hooks: WebhookBook, _: StrategyBook) -> None:
    found = await hooks.all()
    if args.json:
        print(json.dumps([h.to_json() for h in found], indent=2))
    elif not found:
        print("no webhooks (add one: mt5-console webhooks add NAME --mode confirm)")
    for h in [] if args.json else found:
        allowed = ",".join(h.symbols) or "any symbol"
        print(f"{h.name:<20} {h.mode.value:<8} {allowed:<24} volume {h.volume if h.volume else '-'}")


async def _webhook_remove(args: argparse.Namespace, hooks: WebhookBook, _: StrategyBook) -> None:
    await hooks.remove(args.name, actor=Actor.CLI)
    print(f"removed webhook {args.name}")


async def _webhook_rotate(args: argparse.Namespace, hooks: WebhookBook, _: StrategyBook) -> None:
    secret = await hooks.rotate(args.name, actor=Actor.CLI)
    print(f"new secret of webhook {args.name} (the old one no longer works): {secret}")


# ----------------------------------------------------------------------------- strategies


async def _strategy_list(args: argparse.Namespace, _: WebhookBook, book: StrategyBook) -> None:
    found = await book.all()
    if args.json:
        print(json.dumps([c.to_json() for c in found], indent=2))
        return
    for c in found:
        params = ", ".join(f"{k}={v:g}" for k, v in sorted(c.params.items())) or "defaults"
        state = "enabled" if c.enabled else "disabled"
        print(f"{c.id:<20} {c.kind:<20} {c.symbol} {c.timeframe:<4} {state:<8} {c.mode.value:<8} {params}")
    if not found:
        print("no strategies (add one: mt5-console strategies set ID --kind sma_cross --symbol EURUSD "
              "--timeframe M15)")  # fmt: skip
    print("kinds: " + ", ".join(sorted(book.kinds)))


async def _strategy_enable(args: argparse.Namespace, _: WebhookBook, book: StrategyBook) -> None:
    config = await book.enable(args.id, actor=Actor.CLI)
    where = f"{config.kind} on {config.symbol} {config.timeframe}"
    print(f"enabled strategy {config.id} ({where}, {config.mode.value})")


async def _strategy_disable(args: argparse.Namespace, _: WebhookBook, book: StrategyBook) -> None:
    config = await book.disable(args.id, actor=Actor.CLI)
    print(f"disabled strategy {config.id}")


async def _strategy_set(args: argparse.Namespace, _: WebhookBook, book: StrategyBook) -> None:
    try:
        params = {k: float(v) for k, v in _pairs(args.param, "--param").items()}
    except ValueError:
        raise _Usage("--param: each value is a number") from None
    current = next((c for c in await book.all() if c.id.casefold() == args.id.casefold()), None)
    if current is None:
        if not (args.kind and args.symbol and args.timeframe):
            raise _Usage("a new strategy needs --kind, --symbol and --timeframe")
        current = StrategyConfig(args.id, args.kind, args.symbol, args.timeframe)
    if args.volume is not None and not args.volume > 0:
        raise _Usage("--volume: a positive number")
    changed = current.with_changes(
        kind=args.kind or current.kind,
        symbol=args.symbol or current.symbol,
        timeframe=args.timeframe or current.timeframe,
        params={**current.params, **params},
        mode=SignalMode(args.mode) if args.mode else current.mode,
        volume=args.volume or current.volume,
    )
    stored = await book.put(changed, actor=Actor.CLI)
    state = (
        "enabled"
        if stored.enabled
        else "disabled (enable it: mt5-console strategies enable " + stored.id + ")"
    )
    where = f"{stored.kind} on {stored.symbol} {stored.timeframe}"
    print(f"strategy {stored.id}: {where}, {stored.mode.value}; {state}")
