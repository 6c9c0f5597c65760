"""Which browser origins may open a Socket.IO connection (app/server/origins.py): the server's own,
under TLS too, and the allow-list; never another."""

from __future__ import annotations

from typing import Any

import pytest

from app.server.origins import origin_policy


def environ(scheme: str, host: str = "127.0.0.1:8765", **headers: str) -> dict[str, Any]:
    return {"asgi.scope": {"type": "http", "scheme": scheme}, "HTTP_HOST": host, **headers}


@pytest.mark.parametrize(
    ("scheme", "origin", "allowed"),
    [
        ("https", "https://127.0.0.1:8765", True),  # the dashboard over TLS (python-engineio refused it)
        ("wss", "https://127.0.0.1:8765", True),  # its WebSocket upgrade
        ("http", "http://127.0.0.1:8765", True),
        ("ws", "http://127.0.0.1:8765", True),
        ("https", "http://127.0.0.1:8765", False),  # the scheme counts
        ("http", "http://127.0.0.1:9999", False),  # and the port
        ("http", "http://evil.example", False),
        ("https", "https://dashboard.example", True),  # the allow-list
        ("http", None, True),  # no Origin: not a browser's cross-origin request
    ],
)
def test_same_origin_and_the_allow_list(scheme: str, origin: str | None, allowed: bool) -> None:
    check = origin_policy(["https://dashboard.example/"])
    assert check(origin, environ(scheme)) is allowed


def test_a_forwarded_proto_header_widens_nothing() -> None:
    check = origin_policy([])
    assert not check("https://127.0.0.1:8765", environ("http", HTTP_X_FORWARDED_PROTO="https"))
    assert not check("http://127.0.0.1:8765", {"asgi.scope": {"scheme": "http"}})  # no Host
