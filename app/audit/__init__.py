"""The tamper-evident audit trail: every trading action, append-only, each entry hash-chained to the last.

Where: ``<data_dir>/audit/audit-<first seq>-<YYYYMMDD>.jsonl`` (JSON Lines, one entry a line; files
rotate by size and/or day, the chain running on across them). Each entry holds ``seq``, ``time`` (UTC),
``actor``, ``action``, ``account`` (``login@server`` or null), ``payload``, ``prev`` (the previous
entry's hash) and ``hash`` = SHA-256 over the RFC 8785 canonical JSON of the entry without ``hash``
(:mod:`app.audit.canonical`). Secrets are removed before anything is hashed (:mod:`app.audit.secrets`).

Writing (:class:`AuditTrail`): one per process, opened at start (``runtime.add(trail)``: it is a service)::

    trail = AuditTrail.for_data_dir(settings.data_dir, settings.audit)
    await trail.append("api:alice", Action.API_LOGIN, payload={"ip": "127.0.0.1"})   # async: no blocking
    trail.append_sync(Actor.CLI, Action.ACCOUNT_ADD, account="5001@Sim-Demo")        # CLI / tests

Each call returns only once the entry is written and fsynced; an exception means it is not known to be
on disk. Several processes may write the same trail (a lock keeps one chain).

Orders (the trading service): :class:`OrderAudit` — the intent is recorded and on disk *before* the
order goes to the terminal, the result (retcode, ticket, latency) *before* the order is reported done,
both carrying the same ``client_id``; see :mod:`app.audit.orders` for the exact sequence.

Reading: :class:`AuditReader` (``query(AuditQuery(...))``, ``verify()``), :func:`verify_trail`; the
command line: ``mt5-console audit verify`` / ``audit show`` (:mod:`app.audit.cli`).
"""

from app.audit.actions import CLIENT_ID, Action, Actor, account_ref, setting_change
from app.audit.entry import AuditEntry
from app.audit.errors import AuditCorruptError, AuditError, AuditLockTimeout, AuditWriteError
from app.audit.files import audit_dir
from app.audit.orders import AuditAppender, OrderAudit
from app.audit.reader import AuditQuery, AuditReader, AuditSource
from app.audit.summary import summarize
from app.audit.trail import AuditTrail
from app.audit.verify import Finding, Problem, VerifyReport, verify_trail

__all__ = [
    "CLIENT_ID",
    "Action",
    "Actor",
    "AuditAppender",
    "AuditCorruptError",
    "AuditEntry",
    "AuditError",
    "AuditLockTimeout",
    "AuditQuery",
    "AuditReader",
    "AuditSource",
    "AuditTrail",
    "AuditWriteError",
    "Finding",
    "OrderAudit",
    "Problem",
    "VerifyReport",
    "account_ref",
    "audit_dir",
    "setting_change",
    "summarize",
    "verify_trail",
]
