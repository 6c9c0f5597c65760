"""Requests and results as JSON objects (the client-order table), and back, losslessly."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Any

from app.core.times import from_ms, to_ms
from app.models import FillPolicy, OrderRequest, OrderResult, OrderType, TimeInForce, TradeAction


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return to_ms(value)
    return value


def request_to_json(request: OrderRequest) -> dict[str, Any]:
    return {key: _plain(value) for key, value in asdict(request).items()}


def request_from_json(data: dict[str, Any]) -> OrderRequest:
    fields = dict(data)
    fields["action"] = TradeAction(fields["action"])
    fields["type"] = OrderType(fields["type"])
    fields["time_in_force"] = TimeInForce(fields["time_in_force"])
    fields["filling"] = FillPolicy(fields["filling"]) if fields.get("filling") else None
    fields["expiration"] = from_ms(fields["expiration"]) if fields.get("expiration") else None
    return OrderRequest(**fields)


def result_to_json(result: OrderResult) -> dict[str, Any]:
    data = asdict(result)
    data["extra"] = {k: v for k, v in result.extra.items() if isinstance(v, str | int | float | bool | None)}
    return data


def result_from_json(data: dict[str, Any]) -> OrderResult:
    return OrderResult(**data)
