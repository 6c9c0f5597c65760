"""The ``client_orders`` table: what became of each client order id (the idempotency memory), and
``kill_switches``: the accounts whose daily-loss kill switch has tripped and not been reset."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.core.order_codec import request_from_json, request_to_json, result_from_json, result_to_json
from app.core.times import from_ms, to_ms
from app.models import OrderRequest, OrderResult

ClientOrderState = Literal["sending", "done", "rejected", "unknown"]
Verdict = Literal["not_sent", "filled", "pending", "done", "rejected", "unknown"]
"""What reconciliation found for an order cut off from its answer; ``not_sent`` frees its id."""
_COLUMNS = (
    "client_id, account, action, tag, state, request, result, message, code, created_ms, updated_ms, "
    "sent_ms, verdict"
)


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


def _row(row: tuple[Any, ...]) -> ClientOrder:
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
        request_from_json(json.loads(request)),
        result_from_json(json.loads(result)) if result else None,
        message,
        code,
        from_ms(created),
        from_ms(updated),
        from_ms(sent) if sent is not None else None,
        verdict,
    )


class ClientOrderRows:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, client_id: str) -> ClientOrder | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM client_orders WHERE client_id = ?",  # noqa: S608 - our own columns
            (client_id,),
        ).fetchone()
        return _row(row) if row else None

    def start(self, client_id: str, account: str, tag: str, request: OrderRequest, now: datetime) -> None:
        """Record that ``request`` is about to be sent (fails if the id exists: one order per id)."""
        self.conn.execute(
            "INSERT INTO client_orders (client_id, account, action, tag, state, request, created_ms, "
            "updated_ms) VALUES (?, ?, ?, ?, 'sending', ?, ?, ?)",
            (
                client_id,
                account,
                request.action.value,
                tag,
                json.dumps(request_to_json(request)),
                to_ms(now),
                to_ms(now),
            ),
        )

    def mark_sent(self, client_id: str, now: datetime) -> None:
        """The order is being handed to ``order_send`` (written before it is)."""
        self.conn.execute(
            "UPDATE client_orders SET sent_ms = ?, updated_ms = ? WHERE client_id = ?",
            (to_ms(now), to_ms(now), client_id),
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
            "UPDATE client_orders SET state = ?, result = ?, message = ?, code = ?, updated_ms = ?, "
            "verdict = ? WHERE client_id = ?",
            (
                state,
                json.dumps(result_to_json(result)) if result is not None else None,
                message,
                code,
                to_ms(now),
                verdict,
                client_id,
            ),
        )

    def forget(self, client_id: str) -> None:
        """Drop an id whose order never left (verdict ``not_sent``): it is about to be sent anew."""
        self.conn.execute(
            "DELETE FROM client_orders WHERE client_id = ? AND verdict = 'not_sent'", (client_id,)
        )

    def unsettled(self) -> list[ClientOrder]:
        """Orders whose outcome is not known (``sending`` after a crash, or ``unknown``)."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM client_orders "  # noqa: S608 - our own columns
            "WHERE state IN ('sending', 'unknown') ORDER BY created_ms"
        ).fetchall()
        return [_row(r) for r in rows]

    def prune(self, before: datetime) -> int:
        """Forget settled ids older than ``before`` (the idempotency memory is bounded)."""
        cursor = self.conn.execute(
            "DELETE FROM client_orders WHERE created_ms < ? AND state IN ('done', 'rejected')",
            (to_ms(before),),
        )
        return cursor.rowcount


@dataclass(frozen=True, slots=True)
class KillSwitch:
    account: str
    tripped_at: datetime
    loss: float
    reason: str


class KillSwitchRows:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def all(self) -> list[KillSwitch]:
        rows = self.conn.execute("SELECT account, tripped_ms, loss, reason FROM kill_switches").fetchall()
        return [KillSwitch(a, from_ms(t), loss, reason) for a, t, loss, reason in rows]

    def trip(self, switch: KillSwitch) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO kill_switches (account, tripped_ms, loss, reason) VALUES (?, ?, ?, ?)",
            (switch.account, to_ms(switch.tripped_at), switch.loss, switch.reason),
        )

    def reset(self, account: str) -> bool:
        return self.conn.execute("DELETE FROM kill_switches WHERE account = ?", (account,)).rowcount > 0
