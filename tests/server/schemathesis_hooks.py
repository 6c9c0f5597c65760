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


def _pick(seed: str, choices: tuple[Any, ...]) -> tuple[bool, Any]:
    number = zlib.crc32(seed.encode("utf-8", "surrogatepass"))
    return number % 3 != 0, choices[number % len(choices)]


@schemathesis.hook("map_body").apply_to(path="/api/place", method="POST")
def real_symbols(ctx: Any, body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("symbol"), str):
        replace, symbol = _pick(body["symbol"], SYMBOLS)
        if replace:
            body["symbol"] = symbol
    return body


@schemathesis.hook("map_body").apply_to(path="/api/accounts", method="POST")
def real_terminals(ctx: Any, body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("terminal_id"), str):
        replace, terminal = _pick(body["terminal_id"], TERMINALS)
        if replace:
            body["terminal_id"] = terminal
    return body
