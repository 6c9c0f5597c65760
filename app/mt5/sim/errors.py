"""last_error() codes and texts, and the exception that carries them inside the simulator.

The texts are the ones the real extension sets (checked against ``tests/data/mt5_api.json``): for
example ``(-6, 'Terminal: Authorization failed')``, ``(-10005, 'IPC timeout')``. Server code raises
:class:`SimError`; the terminal turns it into ``None`` plus ``last_error()``, as MT5 does.
"""

from __future__ import annotations

from app.mt5.sim import constants as c

SUCCESS = (c.RES_S_OK, "Success")

MESSAGES: dict[int, str] = {
    c.RES_E_FAIL: "Terminal: Call failed",
    c.RES_E_INVALID_PARAMS: "Terminal: Invalid params",
    c.RES_E_NO_MEMORY: "Terminal: Out of memory",
    c.RES_E_NOT_FOUND: "Terminal: Not found",
    c.RES_E_INVALID_VERSION: (
        "Terminal: Incompatible versions, please install the latest version of Terminal and Python module"
    ),
    c.RES_E_AUTH_FAILED: "Terminal: Authorization failed",
    c.RES_E_UNSUPPORTED: "Terminal: Unsupported function",
    c.RES_E_INTERNAL_FAIL: "IPC call failed",
    c.RES_E_INTERNAL_FAIL_SEND: "IPC send failed",
    c.RES_E_INTERNAL_FAIL_RECEIVE: "IPC recv failed",
    c.RES_E_INTERNAL_FAIL_INIT: "IPC initialize failed, %S",
    c.RES_E_INTERNAL_FAIL_CONNECT: "No IPC connection",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "IPC timeout",
}


class SimError(Exception):
    """A failure reported as MT5 reports it: the call returns None and last_error() is (code, message)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else MESSAGES.get(code, "Terminal: Call failed")
        super().__init__(self.code, self.message)

    @property
    def pair(self) -> tuple[int, str]:
        return (self.code, self.message)


def invalid_argument(name: str) -> SimError:
    """The extension's wording for a bad argument, e.g. (-2, 'Invalid "comment" argument')."""
    return SimError(c.RES_E_INVALID_PARAMS, f'Invalid "{name}" argument')


def not_found() -> SimError:
    return SimError(c.RES_E_NOT_FOUND)


def auth_failed() -> SimError:
    return SimError(c.RES_E_AUTH_FAILED)


def no_ipc() -> SimError:
    return SimError(c.RES_E_INTERNAL_FAIL_CONNECT)


def ipc_timeout() -> SimError:
    return SimError(c.RES_E_INTERNAL_FAIL_TIMEOUT)


def ipc_init_failed(reason: str) -> SimError:
    return SimError(c.RES_E_INTERNAL_FAIL_INIT, f"IPC initialize failed, {reason}")
