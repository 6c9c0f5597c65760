"""``mt5-console accounts set-password ID|LOGIN@SERVER``: put an account's password in *this* machine's
OS keyring, and nothing else.

For the distributed carousel: an account is added once (on any machine: its row goes to the shared
store); each node that should visit it gets its password in its own keyring with this command, and
from then on announces that it can log in to it. The row is not changed, and the password goes
nowhere but the keyring (prompted twice on a terminal, or one line on standard input).
"""

from __future__ import annotations

import argparse
import logging

from sqlalchemy import text

from app.config import Settings
from app.core.accounts import UnknownAccountError, parse_account_ref
from app.core.accounts_cli import (
    EXIT_OK,
    Subparsers,
    _credentials,
    _database,
    _guarded,
    _refuse_password_flag,
    read_password,
)
from app.core.storage import Tx

log = logging.getLogger(__name__)


def register_set_password(actions: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "set-password",
        parents=[common],
        help="keep an account's password in this machine's OS keyring (a node then visits it)",
        description="Put an account's password in this machine's OS keyring only: a node of the "
        "distributed carousel visits the accounts whose passwords its own keyring holds.",
    )
    parser.add_argument("account", metavar="ID|LOGIN@SERVER")
    _refuse_password_flag(parser)
    parser.set_defaults(run=run_set_password)


@_guarded
def run_set_password(args: argparse.Namespace, settings: Settings) -> int:
    parsed = parse_account_ref(args.account)  # bad input is named before anything else
    credentials = _credentials(settings)
    credentials.ensure_available()
    with _database(settings) as db:
        if isinstance(parsed, int):
            account = db.call(lambda tx: tx.accounts.get(parsed), readonly=True)
        else:
            account = db.call(lambda tx: tx.accounts.find(*parsed), readonly=True)
    if account is None:
        raise UnknownAccountError(f"no account {args.account}")
    password = read_password(account.key, confirm=True)
    credentials.store(account.login, account.server, password)
    log.info("password of %s put in this machine's keyring", account.key)
    with _database(settings) as db:
        db.call(lambda tx: _tell_the_nodes(tx, account.id))
    print(f"password of account {account.id} ({account.key}) kept in this machine's OS keyring")
    return EXIT_OK


def _tell_the_nodes(tx: Tx, account_id: int) -> None:
    """On a shared PostgreSQL store, a node on this machine looks at its keyring for the account
    again at once (the channel the account triggers use: storage revision 0010)."""
    if tx.conn.dialect.name == "postgresql":
        tx.conn.execute(text("SELECT pg_notify('mt5c_accounts', :payload)"), {"payload": str(account_id)})
