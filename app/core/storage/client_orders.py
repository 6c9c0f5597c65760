"""The ``client_orders`` table: what became of each client order id (the idempotency memory), and
``kill_switches``: the accounts whose daily-loss kill switch has tripped and not been reset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select, update

from app.core.order_codec import request_from_json, request_to_json, result_from_json, result_to_json
from app.core.storage.schema import client_orders, kill_switches
from app.core.storage.sql import upsert
from app.core.times import from_ms, to_ms
from app.models import OrderRequest, OrderResult

ClientOrderState = Literal["sending", "done", "rejected", "unknown"]
Verdict = Literal["not_sent", "filled", "pending", "done", "rejected", "unknown"]
"""What reconciliation found for an order cut off from its answer; ``not_sent`` frees its id."""


@dataclass(frozen=True, slots=True)
class ClientOrder:
    """One client id's order: ``sending`` until the terminal answers; ``unknown`` when the answer was
    lost and the order could not be found yet (never sent again: looked up again). ``sent_at``: when it
    was handed to ``order_send`` (None: never — nothing can have reached the server). ``verdict``: what
    reconciliation found; ``not_sent`` means the id is free to be sent again."""

    client_id: str
    account: str
    action: str
    tag: str
    state: ClientOrderState
    request: OrderRequest
    result: OrderResult | None
    message: str
    code: int | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    verdict: Verdict | None = None


_ORDER_COLUMNS = (
    client_orders.c.client_id,
    client_orders.c.account,
    client_orders.c.action,
    client_orders.c.tag,
    client_orders.c.state,
    client_orders.c.request,
    client_orders.c.result,
    client_orders.c.message,
    client_orders.c.code,
    client_orders.c.created_ms,
    client_orders.c.updated_ms,
    client_orders.c.sent_ms,
    client_orders.c.verdict,
)


def _row(row: Sequence[Any]) -> ClientOrder:
    (
        client_id,
        account,
        action,
        tag,
        state,
        request,
        result,
        message,
        code,
        created,
        updated,
        sent,
        verdict,
    ) = row
    return ClientOrder(
        client_id,
        account,
        action,
        tag,
        state,
        request_from_json(request),
        result_from_json(result) if result else None,
        message,
        code,
        from_ms(created),
        from_ms(updated),
        from_ms(sent) if sent is not None else None,
        verdict,
    )


class ClientOrderRows:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, client_id: str) -> ClientOrder | None:
        row = self.conn.execute(select(*_ORDER_COLUMNS).where(client_orders.c.client_id == client_id)).first()
        return _row(row) if row else None

    def start(self, client_id: str, account: str, tag: str, request: OrderRequest, now: datetime) -> None:
        """Record that ``request`` is about to be sent (fails if the id exists: one order per id)."""
        self.conn.execute(
            insert(client_orders).values(
                client_id=client_id,
                account=account,
                action=request.action.value,
                tag=tag,
                state="sending",
                request=request_to_json(request),
                created_ms=to_ms(now),
                updated_ms=to_ms(now),
            )
        )

    def mark_sent(self, client_id: str, now: datetime) -> None:
        """The order is being handed to ``order_send`` (written before it is)."""
        self.conn.execute(
            update(client_orders)
            .where(client_orders.c.client_id == client_id)
            .values(sent_ms=to_ms(now), updated_ms=to_ms(now))
        )

    def finish(
        self,
        client_id: str,
        state: ClientOrderState,
        now: datetime,
        *,
        result: OrderResult | None = None,
        message: str = "",
        code: int | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        self.conn.execute(
            update(client_orders)
            .where(client_orders.c.client_id == client_id)
            .values(
                state=state,
                result=result_to_json(result) if result is not None else None,
                message=message,
                code=code,
                updated_ms=to_ms(now),
                verdict=verdict,
            )
        )

    def forget(self, client_id: str) -> None:
        """Drop an id whose order never left (verdict ``not_sent``): it is about to be sent anew."""
        self.conn.execute(
            delete(client_orders).where(
                client_orders.c.client_id == client_id, client_orders.c.verdict == "not_sent"
            )
        )

    def unsettled(self) -> list[ClientOrder]:
        """Orders whose outcome is not known (``sending`` after a crash, or ``unknown``)."""
        rows = self.conn.execute(
            select(*_ORDER_COLUMNS)
            .where(client_orders.c.state.in_(("sending", "unknown")))
            .order_by(client_orders.c.created_ms)
        )
        return [_row(r) for r in rows]

    def prune(self, before: datetime) -> int:
        """Forget settled ids older than ``before`` (the idempotency memory is bounded)."""
        return self.conn.execute(
            delete(client_orders).where(
                client_orders.c.created_ms < to_ms(before), client_orders.c.state.in_(("done", "rejected"))
            )
        ).rowcount


@dataclass(frozen=True, slots=True)
class KillSwitch:
    account: str
    tripped_at: datetime
    loss: float
    reason: str


class KillSwitchRows:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> list[KillSwitch]:
        rows = self.conn.execute(
            select(
                kill_switches.c.account,
                kill_switches.c.tripped_ms,
                kill_switches.c.loss,
                kill_switches.c.reason,
            )
        )
        return [KillSwitch(a, from_ms(t), loss, reason) for a, t, loss, reason in rows]

    def trip(self, switch: KillSwitch) -> None:
        """Record a tripped switch (replacing an earlier trip of the same account)."""
        statement = upsert(
            self.conn.dialect.name, kill_switches, ("account",), ("account", "tripped_ms", "loss", "reason")
        )
        self.conn.execute(
            statement,
            {
                "account": switch.account,
                "tripped_ms": to_ms(switch.tripped_at),
                "loss": switch.loss,
                "reason": switch.reason,
            },
        )

    def reset(self, account: str) -> bool:
        return self.conn.execute(delete(kill_switches).where(kill_switches.c.account == account)).rowcount > 0
