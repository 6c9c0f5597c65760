"""``mt5-console accounts add|list|edit|remove|sync``: the account registry on the command line.

A password is never an argument (it would sit in the shell history and the process list): it is
prompted for on a terminal, or read as one line from standard input otherwise
(``printf '%s\\n' "$PW" | mt5-console accounts add ...``). It goes straight to the OS keyring.

Exit codes: 0 done; 1 refused or failed (unknown account, duplicate, no usable keyring, database
error, not confirmed); 2 bad input (a bad flag, login, server, alias, password or account reference).
Every error is one line on stderr.

Actions plug in through :data:`ACTIONS`: a function that adds its parser to the ``accounts``
sub-parsers and sets ``run`` — a callable ``(args, settings) -> int``. ``sync`` (one-off carousel
visits) lives in :mod:`app.core.accounts_sync`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NoReturn, TextIO

from app.audit import Actor, AuditTrail
from app.config import APP_NAME, Settings
from app.core.accounts import (
    AccountError,
    AccountRegistry,
    DuplicateAccountError,
    InvalidAccountError,
    validate_login,
    validate_new,
    validate_password,
)
from app.core.audit_hooks import account_change_recorder
from app.core.credentials import CredentialError, CredentialStore, Secret
from app.core.storage import Database, StorageError, database_target
from app.core.times import utc_now
from app.models import AccountEdit, ManagedAccount, NewAccount

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Run = Callable[[argparse.Namespace, Settings], int]
Subparsers = Any  # argparse's private _SubParsersAction
ActionRegistrar = Callable[[Subparsers, argparse.ArgumentParser], None]


class _Refused(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _NoPasswordArgument(argparse.Action):
    """A trap for ``--password``: explain, without echoing the value, and stop."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        parser.error(
            "a password is never taken as an argument (it would be kept in the shell history and shown "
            "in the process list): you will be asked for it, or pipe it on standard input"
        )


def _refuse_password_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", nargs="?", action=_NoPasswordArgument, help=argparse.SUPPRESS)


# ----------------------------------------------------------------------------- parsers


def register(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add ``accounts`` and its actions to the top-level sub-commands."""
    parser = subparsers.add_parser(
        "accounts",
        parents=[common],
        help="manage the accounts the carousel visits (passwords go to the OS keyring)",
        description="Manage the accounts the carousel visits. Passwords live only in the OS keyring.",
    )
    _refuse_password_flag(parser)
    actions = parser.add_subparsers(title="actions", dest="accounts_action", metavar="ACTION", required=True)
    for add_action in ACTIONS:
        add_action(actions, common)


def _register_add(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "add",
        parents=[common],
        help="add an account (its password is prompted for, or read from stdin)",
        description="Add an account. Its password is prompted for on a terminal, or read as one line "
        "from standard input, and kept only in the OS keyring.",
    )
    parser.add_argument("--login", required=True, help="the MT5 account number")
    parser.add_argument("--server", required=True, help="the trade server, as the terminal names it")
    parser.add_argument("--broker", default="", help="the broker's name (for display)")
    parser.add_argument("--alias", default="", help="a short name for the account")
    parser.add_argument("--terminal", default=None, metavar="ID", help="the terminal of the pool to use")
    parser.add_argument("--disabled", action="store_true", help="add it, but keep the carousel away")
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_add)


def _register_list(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser("list", parents=[common], help="list the accounts (never a password)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_list)


def _register_edit(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "edit",
        parents=[common],
        help="change an account's details or password",
        description="Change an account. Login and server are its identity: to change them, remove the "
        "account and add it again.",
    )
    parser.add_argument("account", metavar="ID|LOGIN@SERVER")
    parser.add_argument("--broker", default=None)
    parser.add_argument("--alias", default=None, help='a new alias ("" clears it)')
    terminal = parser.add_mutually_exclusive_group()
    terminal.add_argument("--terminal", default=None, metavar="ID")
    terminal.add_argument("--no-terminal", action="store_true", help="let the carousel choose the terminal")
    enabled = parser.add_mutually_exclusive_group()
    enabled.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    enabled.add_argument("--disable", dest="enabled", action="store_const", const=False)
    parser.add_argument(
        "--set-password", action="store_true", help="replace the password (prompted for, or read from stdin)"
    )
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_edit)


def _register_remove(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "remove",
        parents=[common],
        help="remove an account, its keyring entry, snapshots and deals",
    )
    parser.add_argument("account", metavar="ID|LOGIN@SERVER")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_remove)


def _register_sync(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    from app.core.accounts_sync import register_sync  # it builds on this module

    register_sync(actions, common)


ACTIONS: list[ActionRegistrar] = [
    _register_add,
    _register_list,
    _register_edit,
    _register_remove,
    _register_sync,
]


# ----------------------------------------------------------------------------- running


def _guarded(run: Callable[[argparse.Namespace, Settings], int]) -> Run:
    """Turn the registry's errors into one line on stderr and an exit code."""

    def guarded(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return run(args, settings)
        except _Refused as exc:
            return _fail(str(exc), exc.code)
        except InvalidAccountError as exc:
            return _fail(str(exc), EXIT_USAGE)
        except AccountError as exc:  # unknown account, duplicate
            return _fail(str(exc), EXIT_FAILED)
        except CredentialError as exc:
            log.info("accounts %s refused: %s", args.accounts_action, exc)
            return _fail(f"{exc}. Nothing was changed.", EXIT_FAILED)
        except StorageError as exc:
            return _fail(f"database {_database(settings).target}: {exc}", EXIT_FAILED)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)

    return guarded


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"{APP_NAME}: error: {message}\n")
    return code


def _credentials(settings: Settings) -> CredentialStore:
    return CredentialStore(timeout_s=settings.accounts.keyring_timeout_s)


def read_password(label: str, *, confirm: bool, stdin: TextIO | None = None) -> Secret:
    """Prompt for a password on a terminal (twice when ``confirm``), else read one line of stdin."""
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass(f"Password for {label}: ")
        if confirm and getpass.getpass("Repeat the password: ") != first:
            raise InvalidAccountError("password", "the two passwords differ")
        return validate_password(first)
    line = stream.readline()
    if not line:
        raise InvalidAccountError("password", "no password on standard input (pipe it, or run in a terminal)")
    return validate_password(line.removesuffix("\n").removesuffix("\r"))


def _database(settings: Settings) -> Database:
    """The database the settings name (nothing is opened yet)."""
    return Database(database_target(settings.data_dir, settings.storage))


def _registry(db: Database, settings: Settings, trail: AuditTrail | None = None) -> AccountRegistry:
    from app.mt5.backend import plan_terminals

    hook = account_change_recorder(trail) if trail is not None else None
    terminals = plan_terminals(settings.terminals).terminal_ids  # what the app's pool will have
    return AccountRegistry(
        db, _credentials(settings), settings=settings.accounts, on_change=hook, terminals=lambda: terminals
    )


def _trail(settings: Settings) -> AuditTrail:
    """The audit trail every change made here is recorded in (actor ``cli``)."""
    return AuditTrail.for_data_dir(settings.data_dir, settings.audit)


@_guarded
def run_add(args: argparse.Namespace, settings: Settings) -> int:
    new = validate_new(
        NewAccount(
            login=validate_login(args.login),
            server=args.server,
            broker=args.broker,
            alias=args.alias,
            terminal_id=args.terminal,
            enabled=not args.disabled,
        )
    )
    _credentials(settings).ensure_available()  # before the prompt, and before the database exists
    with _database(settings) as db, _trail(settings) as trail:
        registry = _registry(db, settings, trail)
        if asyncio.run(registry.find(new.login, new.server)) is not None:  # before the prompt, too
            raise DuplicateAccountError(f"account {new.key} is already registered")
        password = read_password(new.key, confirm=True)
        account = asyncio.run(registry.add(new, password, actor=Actor.CLI))
    print(f"added account {account.id}: {_describe(account)} (status {account.status.value})")
    return EXIT_OK


@_guarded
def run_list(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as db:  # no event loop needed: the blocking form
        accounts = db.call(lambda tx: tx.accounts.list(), readonly=True)
    if args.json:
        json.dump([account_json(a) for a in accounts], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not accounts:
        print("no accounts (add one: mt5-console accounts add --login N --server S)")
    else:
        print(format_table(accounts))
    return EXIT_OK


@_guarded
def run_edit(args: argparse.Namespace, settings: Settings) -> int:
    edit = AccountEdit(
        broker=args.broker,
        alias=args.alias,
        terminal_id="" if args.no_terminal else args.terminal,
        enabled=args.enabled,
    )
    if edit.empty and not args.set_password:
        raise InvalidAccountError("account", "nothing to change (see: mt5-console accounts edit --help)")
    if args.set_password:
        _credentials(settings).ensure_available()

    async def work(registry: AccountRegistry) -> ManagedAccount:
        account = await registry.resolve(args.account)
        # The prompt blocks, but nothing else runs in this process: no one waits on the loop.
        password = read_password(account.key, confirm=True) if args.set_password else None
        return await registry.edit(account.id, edit, password, actor=Actor.CLI)

    with _database(settings) as db, _trail(settings) as trail:
        account = asyncio.run(work(_registry(db, settings, trail)))
    changed = " and password" if args.set_password else ""
    print(f"edited account {account.id}{changed}: {_describe(account)}")
    return EXIT_OK


@_guarded
def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(registry: AccountRegistry) -> ManagedAccount | None:
        account = await registry.resolve(args.account)
        if not args.yes:
            snapshots, deals = await registry.history_size(account.id)
            question = (
                f"Remove account {account.id} {_describe(account)}, its password from the OS keyring, "
                f"{snapshots} snapshot(s) and {deals} deal(s)? [y/N] "
            )
            if not _confirm(question):
                return None
        return await registry.remove(account.id, actor=Actor.CLI)

    with _database(settings) as db, _trail(settings) as trail:
        account = asyncio.run(work(_registry(db, settings, trail)))
    if account is None:
        raise _Refused("not removed", EXIT_FAILED)
    print(f"removed account {account.id}: {_describe(account)}")
    return EXIT_OK


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise _Refused("refusing to remove without confirmation: add --yes", EXIT_USAGE)
    return input(question).strip().lower() in ("y", "yes")


# ----------------------------------------------------------------------------- output


def _describe(account: ManagedAccount) -> str:
    return f"{account.key} ({account.alias})" if account.alias else account.key


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def account_json(account: ManagedAccount) -> dict[str, Any]:
    """An account as the CLI's ``--json`` shows it: never a password (there is none to show)."""
    return {
        "id": account.id,
        "login": account.login,
        "server": account.server,
        "key": account.key,
        "broker": account.broker,
        "alias": account.alias,
        "terminal": account.terminal_id,
        "enabled": account.enabled,
        "status": account.status.value,
        "status_reason": account.status_reason,
        "last_snapshot_at": _iso(account.last_snapshot_at),
        "last_deal_sync_at": _iso(account.last_deal_sync_at),
        "created_at": _iso(account.created_at),
        "updated_at": _iso(account.updated_at),
    }


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def format_table(accounts: Sequence[ManagedAccount], now: datetime | None = None) -> str:
    now = now or utc_now()
    header = ("ID", "ACCOUNT", "ALIAS", "BROKER", "TERMINAL", "ENABLED", "STATUS", "LAST SNAPSHOT", "REASON")
    rows = [
        (
            str(a.id),
            a.key,
            a.alias,
            a.broker,
            a.terminal_id or "-",
            "yes" if a.enabled else "no",
            a.status.value,
            _age(a.last_snapshot_at, now),
            a.status_reason,
        )
        for a in accounts
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
