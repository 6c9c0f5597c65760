"""Recording one order command: its intent before it is sent, then what came of it, under one id.

The trading service is the one choke point every order passes, so it is the one place that records
them::

    audit = OrderAudit(trail, actor="gui", account=account_ref(5001, "Sim-Demo"), client_id=request_uuid)
    await audit.intent(Action.ORDER_INTENT, symbol="EURUSD", side="buy", volume=0.1, type="market",
                       sl=1.05, tp=1.2, deviation=10, comment="...", source="ticket")
    started = time.perf_counter()                    # the intent is on disk (fsynced) from here on
    result = await terminal.order_send(request)      # only now does the order reach the terminal
    await audit.result(retcode=result.retcode, ticket=result.order, deal=result.deal,
                       latency_ms=(time.perf_counter() - started) * 1000, message=result.comment)
    # only now is the order reported done to the user / the API caller

If the intent cannot be recorded (any exception), the order is not sent. Modify, close and cancel go the
same way with ``Action.ORDER_MODIFY`` / ``ORDER_CLOSE`` / ``ORDER_CANCEL`` as the intent; an
``order_check`` answer in between is :meth:`OrderAudit.check`. An ambiguous send (timeout, disconnect)
records ``result(outcome="ambiguous", ...)`` and, once reconciled from the terminal's orders and deals,
:meth:`OrderAudit.reconciled`. ``audit show --client-id ID`` lists one order's story.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.audit.actions import CLIENT_ID, Action
from app.audit.entry import AuditEntry

INTENTS = frozenset({Action.ORDER_INTENT, Action.ORDER_MODIFY, Action.ORDER_CLOSE, Action.ORDER_CANCEL})


class AuditAppender(Protocol):
    """The part of :class:`~app.audit.trail.AuditTrail` a recorder needs (a fake in tests)."""

    async def append(
        self, actor: str, action: str, *, account: str | None = None, payload: dict[str, Any] | None = None
    ) -> AuditEntry: ...


@dataclass(frozen=True, slots=True)
class OrderAudit:
    """The entries of one order command, all carrying ``client_id`` and ``subject`` (what the command
    is about: side, type, volume, the ticket of the order or position acted on); each call returns
    once on disk."""

    trail: AuditAppender
    actor: str
    account: str | None
    client_id: str
    subject: Mapping[str, Any] = field(default_factory=dict)

    async def _record(self, action: Action, fields: dict[str, Any]) -> AuditEntry:
        payload = {CLIENT_ID: self.client_id, **self.subject, **fields}
        return await self.trail.append(self.actor, action, account=self.account, payload=payload)

    async def intent(self, command: Action = Action.ORDER_INTENT, **request: Any) -> AuditEntry:
        """Before sending: what is about to be asked of the terminal (never a password)."""
        if command not in INTENTS:
            raise ValueError(f"{command} is not an order intent")
        return await self._record(command, request)

    async def check(self, *, retcode: int, **details: Any) -> AuditEntry:
        """``order_check``'s answer (margin, comment, ...)."""
        return await self._record(Action.ORDER_CHECK, {"retcode": retcode, **details})

    async def result(
        self, *, retcode: int | None, ticket: int | None, latency_ms: float, **details: Any
    ) -> AuditEntry:
        """After the terminal answered (or did not: ``retcode=None, outcome="ambiguous"``). The volume
        the terminal executed is recorded as ``filled_volume``: ``volume`` stays the order's own."""
        if "volume" in details:
            details["filled_volume"] = details.pop("volume")
        return await self._record(
            Action.ORDER_RESULT,
            {"retcode": retcode, "ticket": ticket, "latency_ms": round(latency_ms, 3), **details},
        )

    async def reconciled(self, **details: Any) -> AuditEntry:
        """What the terminal's orders/deals showed about an ambiguous send."""
        return await self._record(Action.ORDER_RECONCILE, details)
