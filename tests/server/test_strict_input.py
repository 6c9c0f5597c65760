"""Every route takes its input strictly: a boolean, a numeric string or a float where an int is due is a
422 naming the field, in bodies and in query and path parameters alike; dates are ISO 8601 within a
sane range (never epoch seconds, never a 500).

This walks the served OpenAPI document: every typed field and parameter refuses the wrong spellings,
with the field named (``test_strict_routes.py`` walks the code).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

ID = 1
WRONG_BODY_VALUES: dict[str, list[Any]] = {
    "integer": [True, "1", 1.5, 1.0],
    "number": [True, "1.5", "nan"],
    "boolean": [1, "true", 0],
    "string": [1, True, 1.5],
}
WRONG_QUERY_VALUES: dict[str, list[str]] = {
    "integer": ["true", "1.0", "1.5", " 1", "1e3", "0x10"],
    "number": ["true", "nan", "inf", "1,5", " 2"],
    "boolean": ["1", "yes", "on"],
    "date-time": [
        "0.5",
        "1700000000",
        "0001-01-02T00:00:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59Z",
        "tomorrow",
    ],
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return _resolve(spec, spec["components"]["schemas"][name])
    return schema


def _kind(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    schema = _resolve(spec, schema)
    for option in schema.get("anyOf", []):
        kind = _kind(spec, option)
        if kind is not None:
            return kind
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date-time":
        return "date-time"
    return kind if kind in WRONG_BODY_VALUES else None


def _named(answer: Any, field: str) -> bool:
    body = answer.json()
    problems = body.get("details", {}).get("problems", [])
    return answer.status_code == 422 and any(p["field"] == field for p in problems)


async def _openapi(running: Running) -> dict[str, Any]:
    async with running.client() as http:
        spec: dict[str, Any] = (await http.get("/openapi.json")).json()
    return spec


async def test_every_body_field_refuses_a_value_of_another_type(running: Running, token: str) -> None:
    spec = await _openapi(running)
    checked = 0
    async with running.client(token) as http:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody")
                if body is None:
                    continue
                schema = _resolve(spec, body["content"]["application/json"]["schema"])
                for name, prop in schema["properties"].items():
                    kind = _kind(spec, prop)
                    for wrong in WRONG_BODY_VALUES.get(kind or "", []):
                        url = path.replace("{account_id}", str(ID))
                        answer = await http.request(method.upper(), url, json={name: wrong})
                        assert _named(answer, name), (method, path, name, wrong, answer.text[:300])
                        checked += 1
    assert checked >= 60


async def test_every_typed_parameter_refuses_a_loose_spelling(running: Running, token: str) -> None:
    spec = await _openapi(running)
    checked = 0
    async with running.client(token) as http:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for param in operation.get("parameters", []):
                    kind = _kind(spec, param["schema"])
                    for wrong in WRONG_QUERY_VALUES.get(kind or "", []):
                        url = path.replace("{account_id}", str(ID))
                        params = {}
                        if param["in"] == "path":
                            url = path.replace("{" + param["name"] + "}", wrong)
                        else:
                            params[param["name"]] = wrong
                        answer = await http.request(method.upper(), url, params=params)
                        assert _named(answer, param["name"]), (
                            method,
                            path,
                            param["name"],
                            wrong,
                            answer.text[:300],
                        )
                        checked += 1
    assert checked >= 50


async def test_a_boolean_volume_opens_nothing(running: Running, token: str) -> None:
    async with running.client(token) as http:
        before = {p["ticket"] for p in (await http.get("/api/positions")).json()}
        answer = await http.post("/api/place", json={"symbol": "EURUSD", "side": "buy", "volume": True})
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["details"]["field"] == "volume"
        await running.runtime.account_state.refresh()
        assert {p["ticket"] for p in (await http.get("/api/positions")).json()} == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/history?to=0001-01-02T00:00:00",
        "/api/history?from=0001-01-01T00:00:00%2B01:00",
        "/api/history?to=9999-12-31T23:59:59-01:00",
        "/api/history?from=0.5",
        "/api/audit?since=0001-01-01T00:00:00%2B01:00",
        "/api/audit?until=9999-12-31T23:59:59-01:00",
        "/api/accounts/1/snapshots?since=0001-01-01T00:00:00%2B01:00",
    ],
)
async def test_extreme_dates_are_a_422_and_the_connection_stays(
    running: Running, token: str, url: str
) -> None:
    async with running.client(token) as http:
        answer = await http.get(url)
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["code"] == "validation_error"
        assert (await http.get("/api/health")).status_code == 200  # the same keep-alive connection


async def test_dates_in_range_are_taken_with_their_offset(running: Running, token: str) -> None:
    async with running.client(token) as http:
        answer = await http.get(
            "/api/history", params={"from": "2020-01-01T00:00:00+02:00", "to": "2099-12-31"}
        )
        assert answer.status_code == 200, answer.text
        naive = await http.get("/api/audit", params={"since": "2020-01-01T00:00:00", "limit": 1})
        assert naive.status_code == 200, naive.text
