"""``mt5-console server users ...`` and ``server keys ...``: the server's users and API keys.

A password is never an argument: it is prompted for (twice) on a terminal, else read as one line from
standard input (``printf '%s\\n' "$PW" | mt5-console server users add ann --role viewer``). Every
change is recorded in the audit trail (actor ``cli``); a running server notices it within half a
second and closes the sockets of a removed or changed user, or a revoked key.

Exit codes: 0 done; 1 refused or failed (unknown user, taken name, database error, not confirmed);
2 bad input (a bad name, role, account list, password or expiry).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from app.config import APP_NAME, Settings
from app.server.cli_password import NoPasswordArgument as _NoPasswordArgument

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Run = Callable[[argparse.Namespace, Settings], int]


class _Usage(Exception):
    pass


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    """Add ``users`` and ``keys`` under ``server``."""
    users = actions.add_parser(
        "users",
        parents=[common],
        help="the server's users: add, list, remove, set-role, ...",
        description="Users of the server: a role (admin, trader, viewer) and the accounts they see.",
    )
    verbs = users.add_subparsers(title="actions", dest="users_action", metavar="ACTION", required=True)

    add = verbs.add_parser("add", parents=[common], help="add a user (the password is prompted for)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="admin, trader or viewer")
    add.add_argument("--accounts", default="all", help="managed account ids (3,7) or all (default)")
    add.add_argument("--password", nargs="?", action=_NoPasswordArgument, help=argparse.SUPPRESS)
    add.set_defaults(run=run_add)

    verbs.add_parser("list", parents=[common], help="list the users").set_defaults(run=run_list)

    remove = verbs.add_parser("remove", parents=[common], help="remove a user (its tokens stop working)")
    remove.add_argument("name")
    remove.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(run=run_remove)

    role = verbs.add_parser("set-role", parents=[common], help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", help="admin, trader or viewer")
    role.set_defaults(run=run_set_role)

    password = verbs.add_parser("set-password", parents=[common], help="change a user's password")
    password.add_argument("name")
    password.add_argument("--password", nargs="?", action=_NoPasswordArgument, help=argparse.SUPPRESS)
    password.set_defaults(run=run_set_password)

    scope = verbs.add_parser("set-accounts", parents=[common], help="change the accounts a user sees")
    scope.add_argument("name")
    scope.add_argument("accounts", help="managed account ids (3,7) or all")
    scope.set_defaults(run=run_set_accounts)

    keys = actions.add_parser(
        "keys",
        parents=[common],
        help="API keys for machines: create, list, revoke",
        description="API keys (mt5c_...) for dashboards and scripts: a role, a scope, an optional expiry.",
    )
    kverbs = keys.add_subparsers(title="actions", dest="keys_action", metavar="ACTION", required=True)
    create = kverbs.add_parser("create", parents=[common], help="make a key (shown once)")
    create.add_argument("name", help="what the key is for (shown in the list and the audit trail)")
    create.add_argument("--role", required=True, help="admin, trader or viewer")
    create.add_argument("--accounts", default="all", help="managed account ids (3,7) or all (default)")
    create.add_argument("--expires", default=None, help="an ISO 8601 date or time, or a number of days (30d)")
    create.set_defaults(run=run_key_create)
    kverbs.add_parser("list", parents=[common], help="list the keys").set_defaults(run=run_key_list)
    revoke = kverbs.add_parser("revoke", parents=[common], help="revoke a key (by id or mt5c_ prefix)")
    revoke.add_argument("key")
    revoke.set_defaults(run=run_key_revoke)


# ----------------------------------------------------------------------------- plumbing


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"{APP_NAME}: error: {message}\n")
    return code


def _guarded(run: Run) -> Run:
    """One line on stderr and an exit code for every expected failure."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace, settings: Settings) -> int:
        from app.audit import AuditError
        from app.core.storage import StorageError
        from app.core.users import UnknownUserError, UserError, UserExistsError
        from app.models.users import AccessError

        try:
            return run(args, settings)
        except (UnknownUserError, UserExistsError) as exc:
            return _fail(str(exc), EXIT_FAILED)
        except (UserError, AccessError, _Usage) as exc:
            return _fail(str(exc), EXIT_USAGE)
        except (StorageError, AuditError) as exc:
            return _fail(str(exc), EXIT_FAILED)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)

    return wrapper


def _with_directory[T](settings: Settings, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    from app.audit import AuditTrail
    from app.core.storage import Database, database_target
    from app.core.users import UserDirectory

    with (
        Database(database_target(settings.data_dir, settings.storage)) as db,
        AuditTrail.for_data_dir(settings.data_dir, settings.audit) as trail,
    ):
        return asyncio.run(work(UserDirectory(db, trail, settings.server.admin_username)))


def read_user_password(name: str, stdin: TextIO | None = None) -> str:
    from app.core.users import check_password

    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass(f"Password for user {name}: ")
        if getpass.getpass("Repeat it: ") != first:
            raise _Usage("the two passwords differ")
        return check_password(first)
    line = stream.readline()
    if not line:
        raise _Usage("no password on standard input (pipe it, or run in a terminal)")
    return check_password(line.removesuffix("\n").removesuffix("\r"))


def _describe(user: Any) -> str:
    return f"{user.username} (role {user.role.value}, accounts {user.scope.describe()})"


# ----------------------------------------------------------------------------- users


@_guarded
def run_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor
    from app.core.users import check_username
    from app.models.users import Role, Scope

    name = check_username(args.name, settings.server.admin_username)
    role, scope = Role.parse(args.role), Scope.parse(args.accounts)  # before the prompt
    password = read_user_password(name)
    user = _with_directory(settings, lambda d: d.add(name, role, scope, password, actor=Actor.CLI))
    print(f"added user {_describe(user)}")
    return EXIT_OK


@_guarded
def run_list(args: argparse.Namespace, settings: Settings) -> int:
    people = _with_directory(settings, lambda d: d.users())
    rows = [(settings.server.admin_username, "admin", "all", "built-in (server set-password)")]
    rows += [(u.username, u.role.value, u.scope.describe(), f"since {u.created_at:%Y-%m-%d}") for u in people]
    width = max(len(r[0]) for r in rows)
    for name, role, scope, note in rows:
        print(f"{name:<{width}}  {role:<7}  accounts {scope:<12}  {note}")
    return EXIT_OK


@_guarded
def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor

    if not args.yes:
        if not sys.stdin.isatty():
            return _fail("refusing to remove without confirmation: add --yes", EXIT_USAGE)
        if input(f"Remove user {args.name}? [y/N] ").strip().lower() not in ("y", "yes"):
            return _fail("not removed", EXIT_FAILED)
    user = _with_directory(settings, lambda d: d.remove(args.name, actor=Actor.CLI))
    print(f"removed user {user.username}: its tokens no longer work")
    return EXIT_OK


@_guarded
def run_set_role(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor
    from app.models.users import Role

    role = Role.parse(args.role)
    user = _with_directory(settings, lambda d: d.set_role(args.name, role, actor=Actor.CLI))
    print(f"user {_describe(user)}: earlier tokens no longer work")
    return EXIT_OK


@_guarded
def run_set_password(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor

    async def change(directory: Any) -> Any:
        await directory.get(args.name)  # an unknown user is said before the prompt
        return None

    _with_directory(settings, change)
    password = read_user_password(args.name)
    user = _with_directory(settings, lambda d: d.set_password(args.name, password, actor=Actor.CLI))
    print(f"password of user {user.username} set: earlier tokens no longer work")
    return EXIT_OK


@_guarded
def run_set_accounts(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor
    from app.models.users import Scope

    scope = Scope.parse(args.accounts)
    user = _with_directory(settings, lambda d: d.set_accounts(args.name, scope, actor=Actor.CLI))
    print(f"user {_describe(user)}: earlier tokens no longer work")
    return EXIT_OK


# ----------------------------------------------------------------------------- keys

_DAYS = re.compile(r"^(\d{1,5})d$")


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    if text is None:
        return None
    moment = now or datetime.now(UTC)
    days = _DAYS.fullmatch(text.strip())
    if days:
        if int(days.group(1)) < 1:
            raise _Usage("--expires takes at least 1d")
        return moment + timedelta(days=int(days.group(1)))
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Usage(
            f"--expires takes an ISO 8601 date or time, or days like 30d (not {text[:30]!r})"
        ) from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed <= moment:
        raise _Usage("--expires is in the past")
    return parsed


@_guarded
def run_key_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor
    from app.core.users import check_key_name
    from app.models.users import Role, Scope

    name = check_key_name(args.name)
    role, scope, expires = Role.parse(args.role), Scope.parse(args.accounts), parse_expiry(args.expires)
    record, key = _with_directory(
        settings, lambda d: d.create_key(name, role, scope, expires, actor=Actor.CLI)
    )
    until = "never" if record.expires_at is None else record.expires_at.isoformat()
    print(
        f"API key {record.id} {record.prefix} for {name!r}: role {role.value}, accounts {scope.describe()}, "
        f"expires {until}"
    )
    print("The key (shown this once; send it as Authorization: Bearer <key> or X-API-Key):")
    print(key)
    return EXIT_OK


@_guarded
def run_key_list(args: argparse.Namespace, settings: Settings) -> int:
    keys = _with_directory(settings, lambda d: d.keys())
    now = datetime.now(UTC)
    if not keys:
        print("no API keys")
    for k in keys:
        used = "never used" if k.last_used_at is None else f"last used {k.last_used_at:%Y-%m-%d %H:%M}Z"
        until = "no expiry" if k.expires_at is None else f"expires {k.expires_at:%Y-%m-%d %H:%M}Z"
        print(
            f"{k.id:>4}  {k.prefix}  {k.status(now):<7}  {k.role.value:<7}  "
            f"accounts {k.scope.describe():<10}  {until}  {used}  {k.name}"
        )
    return EXIT_OK


@_guarded
def run_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Actor

    record = _with_directory(settings, lambda d: d.revoke_key(args.key, actor=Actor.CLI))
    print(f"revoked API key {record.id} {record.prefix} ({record.name})")
    return EXIT_OK
