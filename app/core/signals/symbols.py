"""The sender's spelling of a symbol turned into the terminal's: "FX:EURUSD", "EURUSD.PRO", "eurusd",
"EUR/USD" all name EURUSD — and on a broker whose symbols carry a suffix ("EURUSDm"), that one.

Order: the webhook's own map (exact, then without case), then the terminal's symbol of that exact
name, then the same name without exchange prefix, separators, suffix or case. Ambiguity (two
terminal symbols match) is a refusal, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SEPARATORS = re.compile(r"[/_\-\s]")


def _core(name: str) -> str:
    """``FX:EUR/USD.pro`` -> ``EURUSD``: no exchange prefix, separators, ``.suffix`` or case."""
    name = name.rsplit(":", 1)[-1]
    name = name.split(".", 1)[0]
    return _SEPARATORS.sub("", name).upper()


class UnknownSymbolError(ValueError):
    """No terminal symbol matches (or more than one does); ``str()`` says which."""


def resolve_symbol(sent: str, known: Iterable[str], symbol_map: Mapping[str, str] | None = None) -> str:
    """The terminal's symbol for ``sent`` (see the module docstring)."""
    symbols = list(known)
    mapping = symbol_map or {}
    if sent in mapping:
        return mapping[sent]
    folded = {k.casefold(): v for k, v in mapping.items()}
    if sent.casefold() in folded:
        return folded[sent.casefold()]
    if sent in symbols:
        return sent
    wanted = _core(sent)
    if not wanted:
        raise UnknownSymbolError(f"symbol {sent!r} names no symbol")
    exact = [s for s in symbols if _core(s) == wanted]
    if len(exact) == 1:
        return exact[0]
    # A broker suffix without a dot ("EURUSDm", "EURUSD_i"): the terminal's name starts with it.
    suffixed = (
        [s for s in symbols if _SEPARATORS.sub("", s).upper().startswith(wanted)] if not exact else exact
    )
    if len(suffixed) == 1:
        return suffixed[0]
    if len(suffixed) > 1:
        some = ", ".join(sorted(suffixed)[:5])
        raise UnknownSymbolError(f"symbol {sent!r} is any of {some}: map it in the webhook's symbol_map")
    raise UnknownSymbolError(f"symbol {sent!r} is not a symbol of this terminal")
