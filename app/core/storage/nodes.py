"""The ``nodes`` and ``node_accounts`` tables: the machines of a distributed carousel (``mt5-console
node``), their heartbeats, and which accounts each can log in to (those whose password its own OS
keyring holds: the node says which, never the password)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from app.core.storage.schema import accounts as accounts_table
from app.core.storage.schema import node_accounts, nodes
from app.core.storage.sql import upsert
from app.core.times import from_ms, to_ms


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A node as it last announced itself. ``accounts``: the ids of the accounts it can log in to."""

    name: str
    host: str
    pid: int
    version: str
    terminals: tuple[str, ...]
    started_at: datetime
    seen_at: datetime
    stopped_at: datetime | None
    accounts: frozenset[int]

    def alive(self, now: datetime, timeout_s: float) -> bool:
        """Running, and heard from within ``timeout_s``."""
        return self.stopped_at is None and (now - self.seen_at).total_seconds() <= timeout_s


_NODE_KEYS = ("name",)
_NODE_FIELDS = ("host", "pid", "version", "terminals", "started_ms", "seen_ms", "stopped_ms")


class NodeRows:
    """Queries on ``nodes`` and ``node_accounts``, inside a :class:`~app.core.storage.Tx`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def announce(
        self,
        name: str,
        *,
        host: str,
        pid: int,
        version: str,
        terminals: Iterable[str],
        accounts: Iterable[int],
        started_at: datetime,
        now: datetime,
    ) -> None:
        """Say that node ``name`` runs (now), with these terminals, and can log in to these accounts
        (ids of accounts that no longer exist are left out)."""
        statement = upsert(self._conn.dialect.name, nodes, _NODE_KEYS, _NODE_FIELDS)
        self._conn.execute(
            statement,
            {
                "name": name,
                "host": host,
                "pid": pid,
                "version": version,
                "terminals": list(terminals),
                "started_ms": to_ms(started_at),
                "seen_ms": to_ms(now),
                "stopped_ms": None,
            },
        )
        self.set_accounts(name, accounts)

    def set_accounts(self, name: str, accounts: Iterable[int]) -> None:
        wanted = set(accounts)
        have = set(
            self._conn.execute(
                select(node_accounts.c.account_id).where(node_accounts.c.node == name)
            ).scalars()
        )
        gone = have - wanted
        if gone:
            self._conn.execute(
                delete(node_accounts).where(
                    node_accounts.c.node == name, node_accounts.c.account_id.in_(gone)
                )
            )
        new = wanted - have
        if new:
            existing = set(
                self._conn.execute(select(accounts_table.c.id).where(accounts_table.c.id.in_(new))).scalars()
            )
            if existing:
                self._conn.execute(
                    insert(node_accounts), [{"node": name, "account_id": a} for a in sorted(existing)]
                )

    def beat(self, name: str, now: datetime) -> bool:
        """The node's heartbeat; False if its row is gone (it announces itself again)."""
        done = self._conn.execute(
            update(nodes).where(nodes.c.name == name, nodes.c.stopped_ms.is_(None)).values(seen_ms=to_ms(now))
        )
        return bool(done.rowcount)

    def stopped(self, name: str, now: datetime) -> None:
        """A clean stop: the node serves nothing from now on."""
        self._conn.execute(update(nodes).where(nodes.c.name == name).values(stopped_ms=to_ms(now)))
        self._conn.execute(delete(node_accounts).where(node_accounts.c.node == name))

    def all(self) -> list[NodeRow]:
        served: dict[str, set[int]] = {}
        for node, account_id in self._conn.execute(select(node_accounts.c.node, node_accounts.c.account_id)):
            served.setdefault(node, set()).add(account_id)
        rows = self._conn.execute(
            select(nodes.c.name, *(nodes.c[f] for f in _NODE_FIELDS)).order_by(nodes.c.name)
        )
        return [
            NodeRow(
                name=name,
                host=host,
                pid=pid,
                version=version,
                terminals=tuple(terminals or ()),
                started_at=from_ms(started),
                seen_at=from_ms(seen),
                stopped_at=None if stopped is None else from_ms(stopped),
                accounts=frozenset(served.get(name, ())),
            )
            for name, host, pid, version, terminals, started, seen, stopped in rows
        ]

    def live(self, now: datetime, timeout_s: float) -> list[NodeRow]:
        """The nodes heard from within ``timeout_s`` that have not stopped."""
        return [node for node in self.all() if node.alive(now, timeout_s)]

    def live_summary(self, now: datetime, timeout_s: float) -> list[tuple[str, int]]:
        """The running nodes and how many accounts each can log in to: a cheap way to see that the
        nodes changed (a node came, went, or announced other accounts)."""
        since = to_ms(now) - int(timeout_s * 1000)
        rows = self._conn.execute(
            select(nodes.c.name, func.count(node_accounts.c.account_id))
            .select_from(nodes.outerjoin(node_accounts, node_accounts.c.node == nodes.c.name))
            .where(nodes.c.stopped_ms.is_(None), nodes.c.seen_ms >= since)
            .group_by(nodes.c.name)
            .order_by(nodes.c.name)
        )
        return [(name, int(count)) for name, count in rows]

    def forget(self, name: str) -> None:
        self._conn.execute(delete(nodes).where(nodes.c.name == name))
