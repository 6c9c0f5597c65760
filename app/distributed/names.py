"""Names the nodes, the planner and the consoles agree on: queues, locks, channels, the task."""

from __future__ import annotations

VISIT_TASK = "mt5c.visit"
# A cycle's visit of account N waits in queue ``visit.N``; a "Sync now" in ``sync.N`` (a node that is
# paused takes only those). Only nodes that can log in to N listen on its queues.
VISIT_QUEUE = "visit.{}"
SYNC_QUEUE = "sync.{}"
# Every visit of account N holds lock ``account.N``: never two visits of one account at once.
ACCOUNT_LOCK = "account.{}"
SYNC_QUEUEING_LOCK = "sync.{}"  # one "Sync now" of an account waiting at a time
SYNC_PRIORITY = 1_000_000  # before any visit of a cycle (whose priorities are 1 … accounts)

# PostgreSQL NOTIFY channels (the triggers of storage revision 0010).
ACCOUNTS_CHANNEL = "mt5c_accounts"  # payload: the changed account's id (+ ":status": a visit, a status)
CAROUSEL_CHANNEL = "mt5c_carousel"  # payload: the table that changed

# pg_advisory_xact_lock key held while the job engine's schema is made ("mt5cjs").
JOB_SCHEMA_LOCK = 0x6D74_3563_6A73


def visit_queue(account_id: int) -> str:
    return VISIT_QUEUE.format(account_id)


def sync_queue(account_id: int) -> str:
    return SYNC_QUEUE.format(account_id)


def account_lock(account_id: int) -> str:
    return ACCOUNT_LOCK.format(account_id)


NO_NODE_REASON = (
    "no node can log in to it: no running node's OS keyring holds its password "
    "(on a node: mt5-console accounts set-password {ref})"
)


def no_node_reason(account_id: int, terminal_id: str | None = None) -> str:
    if terminal_id:
        return (
            f"no node can log in to it on terminal {terminal_id!r}: no running node has that terminal "
            f"and its password (on a node: mt5-console accounts set-password {account_id})"
        )
    return NO_NODE_REASON.format(ref=account_id)
