"""Which browser origins may open a Socket.IO connection: the server's own origin (the dashboard it
serves at ``/``) always, and the ``server.cors_origins`` allow-list.

python-engineio's built-in same-origin check takes the scheme from ``X-Forwarded-Proto`` or else
assumes ``http`` (its ASGI driver never looks at the connection's TLS), so behind the server's own TLS
it refused the dashboard's ``https://`` origin, and with an allow-list set it refused the server's own
origin. This checks an ``Origin`` against the real scheme of the ASGI connection and its ``Host``.
Requests without an ``Origin`` (non-browser clients) are not a browser's cross-origin request and
pass, as they do in python-engineio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

OriginCheck = Callable[[str | None, dict[str, Any]], bool]
_PAGE_SCHEME = {"ws": "http", "wss": "https"}


def own_origin(environ: dict[str, Any]) -> str | None:
    """``scheme://host[:port]`` of the request as the browser addressed it (None without a Host)."""
    host = environ.get("HTTP_HOST")
    if not host:
        return None
    scope = environ.get("asgi.scope") or {}
    scheme = str(scope.get("scheme") or "http")
    return f"{_PAGE_SCHEME.get(scheme, scheme)}://{host}"


def origin_policy(allowed: Iterable[str]) -> OriginCheck:
    """The check for python-socketio's ``cors_allowed_origins``: same origin, or one of ``allowed``."""
    extra = frozenset(origin.rstrip("/") for origin in allowed)

    def allows(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None:
            return True
        return origin == own_origin(environ) or origin in extra

    return allows
