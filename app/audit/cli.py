"""``mt5-console audit verify`` and ``mt5-console audit show``: the trail from the command line.

``verify`` exits 0 when the chain is intact, 1 when an entry was edited, deleted, inserted, reordered or
is unreadable (the first one is named), and 3 when the only problem is a torn tail from a crash.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from app.audit.files import audit_dir
from app.audit.reader import AuditQuery, AuditReader
from app.audit.summary import summarize
from app.audit.verify import verify_trail
from app.config import Settings

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_TORN_TAIL = 3
DEFAULT_SHOW_LIMIT = 50


def _moment(text: str) -> datetime:
    """ISO 8601 date or date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    report = verify_trail(audit_dir(settings.data_dir))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.summary())
        for note in report.notes:
            print(f"note: {note}")
    if report.status == "ok":
        return EXIT_OK
    return EXIT_TORN_TAIL if report.status == "torn_tail" else EXIT_TAMPERED


def _row(values: dict[str, Any]) -> str:
    return (
        f"{values['seq']:>7}  {values['time']}  {values['actor']:<12} {values['action']:<18} "
        f"{values['account'] or '-':<20} {values['summary']}"
    )


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    query = AuditQuery(
        since=args.since,
        until=args.until,
        actor=args.actor,
        action=args.action,
        account=args.account,
        client_id=args.client_id,
        text=args.text,
        limit=args.limit,
    )
    entries = AuditReader(audit_dir(settings.data_dir)).query(query)
    if args.json:
        for entry in entries:
            sys.stdout.write(entry.to_line().decode("utf-8"))
        return EXIT_OK
    if not entries:
        print("no matching entries", file=sys.stderr)
        return EXIT_OK
    print(_row({"seq": "SEQ", "time": "TIME (UTC)".ljust(27), "actor": "ACTOR", "action": "ACTION",
                "account": "ACCOUNT", "summary": "SUMMARY"}))  # fmt: skip
    for entry in entries:
        print(_row({**entry.to_json(), "summary": summarize(entry)}))
    return EXIT_OK


def _no_command(args: argparse.Namespace, settings: Settings) -> int:
    args.audit_parser.print_help(sys.stderr)
    return 2


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``audit verify`` and ``audit show`` (see :data:`app.cli.SUBCOMMANDS`)."""
    audit = subparsers.add_parser(
        "audit",
        parents=[common],
        help="verify or show the audit trail",
        description="The tamper-evident audit trail in <data dir>/audit: verify its chain, or show entries.",
    )
    audit.set_defaults(run=_no_command, audit_parser=audit)
    commands = audit.add_subparsers(title="audit commands", dest="audit_command", metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        parents=[common],
        help="recompute the hash chain; name the first bad entry",
        description="Recompute the hash chain over every audit file. Exit 0: intact; 1: an entry was "
        "edited, deleted, inserted or reordered (the first is named); 3: a torn last line from a crash.",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=run_verify)

    show = commands.add_parser(
        "show",
        parents=[common],
        help="list entries, newest last",
        description="List audit entries (the newest --limit that match every filter given), oldest first.",
    )
    show.add_argument(
        "--since", type=_moment, metavar="TIME", help="from this ISO 8601 time (UTC if no zone)"
    )
    show.add_argument("--until", type=_moment, metavar="TIME", help="before this ISO 8601 time")
    show.add_argument("--actor", help="gui, cli, carousel, system, api (any API user) or api:<user>")
    show.add_argument("--action", help="e.g. order (all order.*), order.result, api.login_failed")
    show.add_argument("--account", metavar="LOGIN@SERVER", help="only this account")
    show.add_argument("--client-id", metavar="ID", help="one order's entries (intent, check, result)")
    show.add_argument("--text", help="text anywhere in the entry (case-insensitive)")
    show.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_SHOW_LIMIT,
        help=f"at most N entries (default {DEFAULT_SHOW_LIMIT})",
    )
    show.add_argument("--json", action="store_true", help="the entries' lines as stored (JSON Lines)")
    show.set_defaults(run=run_show)
