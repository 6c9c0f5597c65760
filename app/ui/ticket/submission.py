"""One ticket's sends (Qt-free): a client id per submission, one at a time, never after an unknown
outcome — and what to tell the trader about each outcome.

The ticket widget asks :meth:`Submissions.begin` before sending; it refuses while a send is in flight
or after an :class:`AmbiguousOutcomeError` (the order may exist: it is reconciled by the trading
service, and re-sending from the form could open it twice). The verdicts below are messages and
the field they concern, never trading rules.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.models import AmbiguousOutcomeError, OrderRequest, OrderResult, OrderValidationError, TerminalError
from app.ui.notifications import describe_error
from app.ui.ticket.form import field_for_retcode


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    ok: bool
    field: str | None = None  # the form field the message belongs next to
    handled: bool = True  # False: also worth a notification (an unexpected failure)


class Submissions:
    def __init__(self) -> None:
        self.client_ids: list[str] = []
        self.in_flight = False
        self.blocked = False  # an unknown outcome: this ticket sends nothing more

    @property
    def can_send(self) -> bool:
        return not (self.in_flight or self.blocked)

    def begin(self, request: OrderRequest) -> OrderRequest | None:
        """The request to send, stamped with a new client id; None if a send must not happen now."""
        if not self.can_send:
            return None
        client_id = uuid.uuid4().hex
        self.client_ids.append(client_id)
        self.in_flight = True
        return request.with_changes(client_id=client_id)

    def succeeded(self, result: OrderResult, digits: int) -> Outcome:
        self.in_flight = False
        ticket = result.order or result.deal
        price = f" at {result.price:.{digits}f}" if result.price else ""
        return Outcome(f"Done: order #{ticket}, {result.volume:g} lots{price} ({result.retcode_name})", True)

    def failed(self, error: BaseException) -> Outcome:
        self.in_flight = False
        if isinstance(error, AmbiguousOutcomeError):
            self.blocked = True
            return Outcome(
                "Outcome unknown: the order left for the terminal and no answer came back. It is being "
                f"checked (client id {error.client_id}); look at the Trade tab. Not resent.",
                False,
            )
        if isinstance(error, OrderValidationError):
            return Outcome(f"Not sent: {error.message}", False, error.field)
        if isinstance(error, TerminalError):
            field = field_for_retcode(error.message.split(":", 1)[0])
            return Outcome(f"Refused: {describe_error(error)}", False, field)
        return Outcome(f"Failed: {describe_error(error)}", False, handled=False)
