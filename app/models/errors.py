"""The exception taxonomy of terminal and trading calls.

Callers decide by class, not by code: a :class:`TemporaryError` may be retried (reads only — the retry
helper never retries a send); a :class:`RejectedError` will fail the same way again; an
:class:`AmbiguousOutcomeError` means an order may or may not have reached the server and must be
reconciled before anything is sent again.
"""

from __future__ import annotations


class TerminalError(Exception):
    """Base of every error raised by terminal access. ``code`` is MT5's code where there is one."""

    def __init__(self, message: str, code: int | None = None, terminal_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.terminal_id = terminal_id


class TemporaryError(TerminalError):
    """Might succeed later: IPC timeout, disconnection, requote, server busy."""


class NotConnectedError(TemporaryError):
    """The terminal is not connected or not logged in right now."""


class NotReadyError(NotConnectedError):
    """The terminal was not ready, so the call was never sent (safe to try again, even for an order)."""


class CallTimeoutError(TemporaryError):
    """A call took longer than its timeout; the worker was restarted."""


class WorkerCrashedError(TemporaryError):
    """The worker process died during the call."""


class RejectedError(TerminalError):
    """The request was refused, for a reason that retrying will not change."""


class OrderValidationError(RejectedError):
    """A request the app refuses before it reaches the terminal; ``field`` names what is wrong
    (volume, price, sl, tp, ...) so a form can show the message next to it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RiskLimitError(RejectedError):
    """An order the account's risk limits refuse (max volume, max positions, order rate, the daily
    loss kill switch). ``limit`` names the limit."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class TradingDisabledError(RejectedError):
    """Trading is not possible right now: a real account without trading enabled, or the live
    terminal lent to the carousel / logged in to another account."""


class AuthorizationError(RejectedError):
    """Login refused (wrong login, password or server)."""


class AmbiguousOutcomeError(TerminalError):
    """An order was sent but its outcome is unknown (timeout, disconnect or crash during the send)."""

    def __init__(
        self, message: str, client_id: str = "", code: int | None = None, terminal_id: str = ""
    ) -> None:
        super().__init__(message, code, terminal_id)
        self.client_id = client_id
