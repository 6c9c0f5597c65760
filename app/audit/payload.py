"""Turn what a caller hands over into plain JSON values before it is hashed.

Callers pass domain objects (frozen dataclasses, enums, datetimes, Decimals, numpy numbers); the trail
stores only dict/list/str/int/float/bool/None so the hash is reproducible. Anything else is refused
with ``TypeError`` rather than ``str()``-ed, because an object's ``str`` may carry a secret.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

from app.audit.canonical import MAX_SAFE_INTEGER
from app.audit.entry import format_time

MAX_DEPTH = 32


def _key(key: Any) -> str:
    if isinstance(key, Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, int | float | UUID):
        return str(key)
    raise TypeError(f"payload keys must be strings, not {type(key).__name__}")


def _number(value: numbers.Real) -> int | float | str:
    if isinstance(value, numbers.Integral):
        integer = int(value)
        # Beyond 2**53 a double loses digits; as a string the number stays exact.
        return integer if abs(integer) <= MAX_SAFE_INTEGER else str(integer)
    real = float(value)
    if math.isnan(real):
        return "NaN"
    if math.isinf(real):
        return "Infinity" if real > 0 else "-Infinity"
    return real


def to_json_value(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data (a fresh copy: later changes by the caller don't reach the trail)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"payload nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return to_json_value(value.value, depth + 1)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, numbers.Real):
        return _number(value)
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID | PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): to_json_value(v, depth + 1) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json_value(item, depth + 1) for item in value]
    raise TypeError(f"{type(value).__name__} cannot go into an audit payload; pass plain data")
