"""schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.server.schemathesis_hooks``): realistic data for part
of the generated requests, so the stateful phase gets past "unknown symbol" and "unknown terminal" to
what it exists for — following a placed order to its close and an added account to its reads, sync and
removal. Two thirds of the bodies get a real symbol or terminal (chosen by a checksum of what was
generated: the same seed makes the same run); the rest keep their random ones, which must be refused."""

from __future__ import annotations

import zlib
from typing import Any

import schemathesis

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")  # the test server's (tests/server/conftest.py)
TERMINALS = (None, "sim-1")


def _realistic(body: Any, field: str, choices: tuple[Any, ...]) -> Any:
    """``body`` with its ``field`` replaced by one of ``choices`` two times in three."""
    if isinstance(body, dict) and isinstance(body.get(field), str):
        number = zlib.crc32(body[field].encode("utf-8", "surrogatepass"))
        if number % 3:
            body[field] = choices[number % len(choices)]
    return body


@schemathesis.hook("map_body").apply_to(path="/api/place", method="POST")
def real_symbols(ctx: Any, body: Any) -> Any:
    return _realistic(body, "symbol", SYMBOLS)


@schemathesis.hook("map_body").apply_to(path="/api/accounts", method="POST")
def real_terminals(ctx: Any, body: Any) -> Any:
    return _realistic(body, "terminal_id", TERMINALS)
