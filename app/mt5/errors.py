"""MT5 error codes (``last_error()``) → the app's exception taxonomy."""

from __future__ import annotations

from app.models import (
    AuthorizationError,
    NotConnectedError,
    RejectedError,
    TemporaryError,
    TerminalError,
)
from app.mt5.protocol import Failure

# last_error() codes, as the MetaTrader5 package defines them (RES_*)
RES_S_OK = 1
RES_E_FAIL = -1
RES_E_INVALID_PARAMS = -2
RES_E_NO_MEMORY = -3
RES_E_NOT_FOUND = -4
RES_E_INVALID_VERSION = -5
RES_E_AUTH_FAILED = -6
RES_E_UNSUPPORTED = -7
RES_E_AUTO_TRADING_DISABLED = -8
RES_E_INTERNAL_FAIL = -10000
RES_E_INTERNAL_FAIL_SEND = -10001
RES_E_INTERNAL_FAIL_RECEIVE = -10002
RES_E_INTERNAL_FAIL_INIT = -10003
RES_E_INTERNAL_FAIL_CONNECT = -10004
RES_E_INTERNAL_FAIL_TIMEOUT = -10005

CONNECTION_LOST_CODES = frozenset(
    {
        RES_E_INTERNAL_FAIL,
        RES_E_INTERNAL_FAIL_SEND,
        RES_E_INTERNAL_FAIL_RECEIVE,
        RES_E_INTERNAL_FAIL_INIT,
        RES_E_INTERNAL_FAIL_CONNECT,
        RES_E_INTERNAL_FAIL_TIMEOUT,
    }
)
_REJECTED_CODES = frozenset(
    {
        RES_E_INVALID_PARAMS,
        RES_E_NOT_FOUND,
        RES_E_INVALID_VERSION,
        RES_E_UNSUPPORTED,
        RES_E_AUTO_TRADING_DISABLED,
    }
)


def error_from_failure(failure: Failure, terminal_id: str) -> TerminalError:
    """The exception a caller sees for a failed terminal call."""
    text = f"{failure.function}: {failure.message}" if failure.message else failure.function
    code = failure.code
    if failure.kind != "mt5":
        return TerminalError(text, code, terminal_id)
    if code in CONNECTION_LOST_CODES:
        return NotConnectedError(text, code, terminal_id)
    if code == RES_E_AUTH_FAILED:
        return AuthorizationError(text, code, terminal_id)
    if code in _REJECTED_CODES:
        return RejectedError(text, code, terminal_id)
    return TemporaryError(text, code, terminal_id)
