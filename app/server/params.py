"""Strict query and path parameters: what a URL carries is text, and only text that means exactly one
value is taken.

FastAPI parses query parameters with pydantic's lax rules, under which ``count=5.0`` is 5,
``flag=yes`` is true and ``since=0.5`` is half a second after 1970. The types here accept one
spelling each — a whole number in decimal digits, a decimal number, ``true``/``false``, an ISO 8601
date-time between :data:`EARLIEST` and :data:`LATEST` — and answer anything else with a 422 naming the
parameter. They keep their OpenAPI types (``integer``, ``number``, ``boolean``, ``date-time``), so
clients and schemathesis see the same contract. ``tests/server/test_strict_input.py`` walks every route
and fails on a parameter that does not use them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
    r"(?:Z|z|[+-][0-9]{2}:?[0-9]{2})?"
)


class StrictText:
    """Marks a parameter type as parsed by this module (the route walker looks for it)."""

    def __init__(self, parse: Any) -> None:
        self.parse = parse

    def __call__(self, value: Any) -> Any:
        return self.parse(value)


def _integer(value: Any) -> Any:
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise ValueError("must be a whole number written in digits (like 42)")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise ValueError("must be a decimal number (like 1.5)")
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("must be true or false")
        return value == "true"
    return value


def parse_datetime(value: Any) -> Any:
    """An ISO 8601 date or date-time (UTC when it names no offset), within [EARLIEST, LATEST)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        if not _DATETIME.fullmatch(value):
            raise ValueError("must be an ISO 8601 date-time, like 2025-03-01T12:00:00Z")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time, like 2025-03-01T12:00:00Z") from None
    else:
        return value
    out_of_range = f"must lie between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()} (UTC)"
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant Python has
        raise ValueError(out_of_range) from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(out_of_range)
    return moment


INTEGER = StrictText(_integer)
NUMBER = StrictText(_number)
BOOLEAN = StrictText(_boolean)
DATETIME = StrictText(parse_datetime)

QueryInt = Annotated[int, BeforeValidator(INTEGER)]
QueryFloat = Annotated[float, BeforeValidator(NUMBER)]
QueryBool = Annotated[bool, BeforeValidator(BOOLEAN)]
QueryDatetime = Annotated[datetime, BeforeValidator(DATETIME)]
