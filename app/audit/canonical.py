"""The canonical serialisation every audit hash is computed over: RFC 8785 (JSON Canonicalization Scheme).

Why JCS and not just ``json.dumps(sort_keys=True)``: a verifier written in another language must get the
same bytes, and Python writes some numbers differently from everyone else (``1e-05`` where JavaScript and
JCS write ``0.00001`` — a real price step). JCS fixes every degree of freedom:

* objects: members sorted by their keys' UTF-16 code units, no whitespace (``,`` and ``:``);
* strings: UTF-8, only ``"``, ``\\`` and control characters escaped (``\\n`` style where one exists,
  else ``\\u00xx`` lower-case);
* numbers: IEEE-754 doubles written as ECMAScript's ``Number.prototype.toString`` does (``1`` not
  ``1.0``, ``0.00001``, ``1e+21``); NaN and infinities do not exist;
* ``true``, ``false``, ``null``.

Any JCS library (Python ``jcs``, JavaScript ``canonicalize``, Go ``jsoncanonicalizer``, ...) yields the
same bytes, so ``sha256(jcs(entry without "hash"))`` can be recomputed anywhere.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from typing import Any

# Integers beyond this are not all exactly representable as IEEE doubles (JCS numbers are doubles).
MAX_SAFE_INTEGER = 2**53 - 1

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def format_number(value: float) -> str:
    """``value`` as ECMAScript's ``Number.prototype.toString`` writes it (the JCS number form)."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} has no JSON form")
    if value == 0:
        return "0"
    if value < 0:
        return "-" + format_number(-value)
    # repr() gives the shortest digits that round-trip, as ECMAScript requires; only the layout differs.
    _, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - only for NaN/infinity, excluded above
        raise ValueError(f"{value!r} has no JSON form")
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    k = len(digits)
    n = k + exponent  # value = 0.digits × 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def canonical_scalar(value: Any) -> str:
    """A string, number, boolean or null in canonical form."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # JCS numbers are doubles: a bigger integer is the double it reads as (the payload layer turns
        # such integers into strings before they are stored, so this only meets numbers read back).
        return str(value) if abs(value) <= MAX_SAFE_INTEGER else format_number(float(value))
    if isinstance(value, float):
        return format_number(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def _parts(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
            if index:
                out.append(",")
            out.append(_encode_string(key))
            out.append(":")
            _parts(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _parts(item, out)
        out.append("]")
    else:
        out.append(canonical_scalar(value))


def canonical_json(value: Any) -> str:
    """``value`` (made of dict, list, str, int, float, bool, None) in its one canonical JSON text."""
    out: list[str] = []
    _parts(value, out)
    return "".join(out)


def canonical_bytes(value: Any) -> bytes:
    """The canonical text as UTF-8; a lone surrogate in a string is refused here (it has no UTF-8)."""
    return canonical_json(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
