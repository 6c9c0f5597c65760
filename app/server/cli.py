"""``mt5-console server set-password``: the admin password of the embedded server.

Prompted for (twice) on a terminal, else read as one line from standard input
(``printf '%s\\n' "$PW" | mt5-console server set-password``); never an argument. Stored as an argon2id
hash in ``<data dir>/server/admin-password.json``; recorded in the audit trail as a setting change
(without the value). Setting a new password logs out every token issued before it.

Exit codes: 0 done; 1 could not be stored; 2 bad input (too short, the two entries differ, nothing on
stdin).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from app.config import APP_NAME, Settings
from app.server.cli_password import NoPasswordArgument as _NoPasswordArgument

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "server", parents=[common], help="the embedded REST + Socket.IO server (admin password, users, keys)"
    )
    actions = parser.add_subparsers(title="actions", dest="server_action", metavar="ACTION", required=True)
    set_password = actions.add_parser(
        "set-password",
        parents=[common],
        help="set the admin password (prompted for, or read from stdin)",
        description="Set the server's admin password: prompted for on a terminal, or read as one line "
        "from standard input. Stored as an argon2 hash in the data dir; earlier tokens stop working.",
    )
    set_password.add_argument("--password", nargs="?", action=_NoPasswordArgument, help=argparse.SUPPRESS)
    set_password.set_defaults(run=run_set_password)
    from app.server import users_cli

    users_cli.register(actions, common)


class _BadInput(Exception):
    pass


def read_new_password(stdin: TextIO | None = None) -> str:
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass("New admin password for the server: ")
        if getpass.getpass("Repeat it: ") != first:
            raise _BadInput("the two passwords differ")
        return first
    line = stream.readline()
    if not line:
        raise _BadInput("no password on standard input (pipe it, or run in a terminal)")
    return line.removesuffix("\n").removesuffix("\r")


def run_set_password(args: argparse.Namespace, settings: Settings) -> int:
    from app.audit import Action, Actor, AuditError, AuditTrail, setting_change
    from app.server.auth import PasswordPolicyError, check_new_password, password_path, set_admin_password

    try:
        password = check_new_password(read_new_password())
    except (_BadInput, PasswordPolicyError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    try:
        set_admin_password(settings.data_dir, password)
    except OSError as exc:
        return _fail(f"cannot write {password_path(settings.data_dir)}: {exc.strerror or exc}", EXIT_FAILED)
    try:
        with AuditTrail.for_data_dir(settings.data_dir, settings.audit) as trail:
            trail.append_sync(
                Actor.CLI,
                Action.SETTING_CHANGE,
                payload=setting_change("server.admin_password", "***", "***"),
            )
    except AuditError as exc:
        sys.stderr.write(f"{APP_NAME}: warning: the change is not in the audit trail: {exc}\n")
    print(
        f"admin password set for user {settings.server.admin_username!r} "
        f"(stored as an argon2 hash in {password_path(settings.data_dir)})"
    )
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"{APP_NAME}: error: {message}\n")
    return code
