"""One error shape for every failure: ``{"error": message, "details": {...}?, "code": "..."?}``.

The app's exceptions map to statuses here, once, for REST and Socket.IO alike. :data:`EXPECTED` lists
the classes this table answers: they are answers, not crashes — no traceback, and the keep-alive
connection stays. Nothing else leaves the server: an unexpected exception is logged once with its
traceback and answered with a plain 500.
"""

from __future__ import annotations

import logging
from typing import Any

from app.core.accounts import AccountError, DuplicateAccountError, InvalidAccountError, UnknownAccountError
from app.core.carousel.errors import CarouselError, NoTerminalError, VisitFailed
from app.core.credentials import CredentialError
from app.models import (
    AmbiguousOutcomeError,
    AuthorizationError,
    CallTimeoutError,
    NotReadyError,
    OrderValidationError,
    RejectedError,
    RiskLimitError,
    TemporaryError,
    TerminalError,
    TradingDisabledError,
)
from app.server.auth import AuthError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success: status, message, machine-readable ``code``, optional details."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


EXPECTED: tuple[type[Exception], ...] = (
    ApiError,
    AuthError,
    TerminalError,
    AccountError,
    CredentialError,
    CarouselError,
)
"""Every exception class :func:`to_api_error` has an answer for (their subclasses included)."""


_ACCOUNT_FIELDS = {"terminal": "terminal_id"}  # the registry's field names -> the API's


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", "not_found")


def unavailable(message: str, code: str = "unavailable") -> ApiError:
    return ApiError(503, message, code)


NEW_ATTEMPT = "new_attempt"  # nothing was sent: the same uuid again is processed anew
SAME_ANSWER = "same_answer"  # refused for good: the same uuid again gets this answer, nothing is sent
LOOKED_UP = "looked_up"  # the order may have left: the same uuid again only looks it up, never resends


def resend_of(exc: TerminalError) -> str:
    """What sending the same uuid again does after ``exc`` — by its class, the same way every time."""
    if isinstance(exc, AmbiguousOutcomeError):
        return LOOKED_UP
    if isinstance(exc, OrderValidationError | RiskLimitError | TradingDisabledError):
        return NEW_ATTEMPT  # refused before anything was recorded: judged again
    if isinstance(exc, RejectedError):
        return SAME_ANSWER
    return NEW_ATTEMPT  # temporary, not ready, timeout: nothing reached the trade server


def order_error(exc: TerminalError) -> ApiError:
    """The answer to a failed order command: as any terminal error, plus ``details.resend`` — what
    sending the same uuid again will do."""
    error = _terminal_error(exc)
    error.details = {**(error.details or {}), "resend": resend_of(exc)}
    return error


def _terminal_error(exc: TerminalError) -> ApiError:  # noqa: C901 - one flat table, most specific first
    details: dict[str, Any] = {}
    if exc.code is not None:
        details["retcode"] = exc.code
    if isinstance(exc, OrderValidationError):
        return ApiError(422, exc.message, "invalid_order", {**details, "field": exc.field})
    if isinstance(exc, RiskLimitError):
        return ApiError(403, exc.message, "risk_limit", {**details, "limit": exc.limit})
    if isinstance(exc, TradingDisabledError):
        return ApiError(403, exc.message, "trading_disabled", details)
    if isinstance(exc, AuthorizationError):
        return ApiError(422, exc.message, "authorization_failed", details)
    if isinstance(exc, RejectedError):
        return ApiError(422, exc.message, "rejected", details)
    if isinstance(exc, AmbiguousOutcomeError):
        message = (
            f"the outcome of order {exc.client_id} is unknown (the terminal did not answer in time): "
            f"look it up by its uuid before sending it again"
        )
        return ApiError(504, message, "outcome_unknown", {**details, "uuid": exc.client_id})
    if isinstance(exc, NotReadyError):
        return ApiError(503, exc.message, "terminal_not_ready", details)
    if isinstance(exc, CallTimeoutError):
        return ApiError(504, exc.message, "terminal_timeout", details)
    if isinstance(exc, TemporaryError):
        return ApiError(409, exc.message, "temporary", details)
    return ApiError(502, exc.message, "terminal_error", details)


def to_api_error(exc: BaseException) -> ApiError:
    """The answer for ``exc`` (an :class:`ApiError` as it is; the app's errors by their class)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AuthError):
        return ApiError(401, exc.message, exc.code, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, TerminalError):
        return _terminal_error(exc)
    if isinstance(exc, InvalidAccountError):
        field = _ACCOUNT_FIELDS.get(exc.field, exc.field)
        return ApiError(422, str(exc), "invalid_account", {"field": field})
    if isinstance(exc, UnknownAccountError):
        return ApiError(404, str(exc), "not_found")
    if isinstance(exc, DuplicateAccountError):
        return ApiError(409, str(exc), "duplicate_account")
    if isinstance(exc, CredentialError):
        return ApiError(503, str(exc), "keyring_unavailable")
    if isinstance(exc, VisitFailed):
        # the request was fine; the broker refused the visit (a wrong password, ...): not a server error
        return ApiError(409, str(exc), "visit_failed", {"account": exc.account_key, "reason": exc.reason})
    if isinstance(exc, NoTerminalError):
        return ApiError(409, str(exc), "no_terminal")
    if isinstance(exc, CarouselError):  # the terminal could not make the visit now
        return ApiError(503, str(exc), "carousel_unavailable")
    log.error("unexpected error answering a request", exc_info=exc)
    return ApiError(500, "internal error (see the server's log)", "internal_error")
