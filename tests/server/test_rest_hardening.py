"""The REST findings of the security review, against the real server on the simulator: a handled error
ends the request cleanly (no traceback, the keep-alive connection stays); a failed login never keeps
the typed user name; the login limit counts failures only; an unknown terminal is refused; a wrong
password is never shown as ok; amounts carry no float noise."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest

from app.server.ratelimit import RateLimiter
from tests.server.conftest import ADMIN, PASSWORD, Captured, Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

LIVE_LOGIN, LIVE_PASSWORD, DEMO_SERVER = 5001001, "Demo-1001", "SimBroker-Demo"


async def place(http: httpx.AsyncClient, order: dict[str, Any]) -> httpx.Response:
    """POST /api/place, waiting out the order rate limit (the tests before may have used it up)."""
    for _ in range(50):
        answer = await http.post("/api/place", json=order)
        if answer.json().get("details", {}).get("limit") != "max_orders_per_second":
            return answer
        await asyncio.sleep(0.2)
    raise AssertionError(answer.text)


def one_connection(running: Running, token: str) -> httpx.AsyncClient:
    return running.client(token, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))


async def add_account(http: httpx.AsyncClient, login: int, password: str, **more: Any) -> dict[str, Any]:
    answer = await http.post(
        "/api/accounts", json={"login": login, "server": DEMO_SERVER, "password": password, **more}
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def remove_all_accounts(http: httpx.AsyncClient) -> None:
    for account in (await http.get("/api/accounts")).json():
        await http.delete(f"/api/accounts/{account['id']}")


async def test_a_failed_visit_is_a_clean_409_and_the_connection_stays(
    running: Running, token: str, server_log: Captured
) -> None:
    async with one_connection(running, token) as http:
        account = await add_account(http, 5001002, "Demo-1002")
        del running.keyring.entries[("mt5-console", f"5001002@{DEMO_SERVER}")]  # the keyring lost it
        for _ in range(3):
            failed = await http.post(f"/api/accounts/{account['id']}/sync")
            assert failed.status_code == 409, failed.text
            assert failed.json()["code"] == "visit_failed"
            assert (await http.get("/api/health")).status_code == 200  # the same connection, still up
        await remove_all_accounts(http)
    text = server_log.text()
    assert "Exception in ASGI application" not in text and "Traceback" not in text, text[-3000:]


async def test_a_failed_login_of_an_unknown_user_keeps_no_user_name(running: Running, token: str) -> None:
    typed = "Adm1n-pass-xyz"  # a password typed into the user name field
    async with running.client() as http:
        refused = await http.post("/api/login", json={"username": typed, "password": "something"})
        assert refused.status_code == 401 and refused.json()["code"] == "bad_credentials"
        wrong_password = await http.post("/api/login", json={"username": ADMIN, "password": "not it"})
        assert wrong_password.status_code == 401
    async with running.client(token) as http:
        entries = (await http.get("/api/audit", params={"action": "api.login_failed"})).json()
    assert entries and typed not in str(entries)
    actors = [e["actor"] for e in entries]
    assert "api" in actors  # the unknown user: recorded, without the name
    assert "api:admin" in actors  # the known user's failure names the user
    assert all(not a.startswith("api:") or a == "api:admin" for a in actors)


async def test_the_login_limit_counts_failures_only(running: Running) -> None:
    context = running.runtime.server.context
    assert context is not None
    saved = context.login_limiter
    context.login_limiter = RateLimiter(3, 60)
    try:
        async with running.client() as http:
            for _ in range(6):  # a dashboard that reconnects often is never locked out
                ok = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
                assert ok.status_code == 200, ok.text
            for _ in range(3):
                bad = await http.post("/api/login", json={"username": ADMIN, "password": "wrong password"})
                assert bad.status_code == 401
            limited = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
            assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    finally:
        context.login_limiter = saved


async def test_an_unknown_terminal_is_refused_at_add(running: Running, token: str) -> None:
    async with running.client(token) as http:
        refused = await http.post(
            "/api/accounts",
            json={"login": 5001003, "server": DEMO_SERVER, "password": "Demo-1003", "terminal_id": "no-such"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["details"]["field"] == "terminal_id"
        assert "sim-1" in refused.json()["error"]  # it says which terminals there are
        assert (await http.get("/api/accounts")).json() == []
        assert ("mt5-console", f"5001003@{DEMO_SERVER}") not in running.keyring.entries
        known = await add_account(http, 5001003, "Demo-1003", terminal_id="sim-1")
        assert known["id"] > 0
        await remove_all_accounts(http)


async def _status_once_settled(http: httpx.AsyncClient, account_id: int) -> dict[str, Any]:
    seen: list[str] = []
    settled: dict[str, Any] = {}

    async def poll() -> None:
        while True:
            body = (await http.get(f"/api/accounts/{account_id}")).json()
            seen.append(body["status"])
            if body["status"] != "pending":
                settled.update(body)
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), 60)
    settled["seen"] = seen
    return settled


async def test_a_wrong_password_of_the_live_account_is_never_shown_as_ok(
    running: Running, token: str
) -> None:
    """The live terminal is on this account already: its visit must still prove the password."""
    async with running.client(token) as http:
        added = await add_account(http, LIVE_LOGIN, "not-the-password")
        settled = await _status_once_settled(http, added["id"])  # verified when added, unasked
        assert settled["status"] == "error" and "ok" not in settled["seen"], settled
        assert "refused" in settled["last_error"]
        again = await http.post(f"/api/accounts/{added['id']}/sync")
        assert again.status_code == 409 and again.json()["code"] == "visit_failed", again.text
        assert (await http.get(f"/api/accounts/{added['id']}")).json()["status"] == "error"
        assert (await http.get("/api/account")).json()["number"] == LIVE_LOGIN  # trading stays home
        await remove_all_accounts(http)

        right = await add_account(http, LIVE_LOGIN, LIVE_PASSWORD)
        settled = await _status_once_settled(http, right["id"])
        assert settled["status"] == "ok", settled
        await remove_all_accounts(http)


def _decimals(value: float) -> int:
    """How many decimals the shortest text of ``value`` has (21.810000000000002: 15)."""
    if value == int(value):
        return 0
    return len(repr(value).split(".")[1])


async def test_amounts_and_prices_carry_no_float_noise(running: Running, token: str) -> None:
    async with running.client(token) as http:
        added = await add_account(http, LIVE_LOGIN, LIVE_PASSWORD)
        synced = await http.post(f"/api/accounts/{added['id']}/sync")
        assert synced.status_code == 200, synced.text
        managed = (await http.get(f"/api/accounts/{added['id']}")).json()
        snapshots = (await http.get(f"/api/accounts/{added['id']}/snapshots")).json()
        account = (await http.get("/api/account")).json()
        positions = (await http.get("/api/positions")).json()
        history = (await http.get("/api/history", params={"days": 365})).json()
        symbols = {s["name"]: s["digits"] for s in (await http.get("/api/symbols")).json()}
        for volume in (0.07, 0.13):  # orders whose margin and fill price the trail records
            placed = await http.post(
                "/api/place", json={"symbol": "GBPUSD", "side": "sell", "volume": volume}
            )
            assert placed.status_code == 200, placed.text
            await http.post("/api/close", json={"order_id": placed.json()["ticket"]})
        checks = (await http.get("/api/audit", params={"action": "order.check"})).json()
        results = (await http.get("/api/audit", params={"action": "order.result"})).json()
        await remove_all_accounts(http)
    assert checks and results
    for entry in checks:
        assert _decimals(entry["payload"]["margin"]) <= 2 and _decimals(entry["payload"]["margin_free"]) <= 2
    for entry in results:
        assert _decimals(entry["payload"].get("price") or 0.0) <= 5, entry["payload"]
    money = ("balance", "equity", "margin", "free_margin", "profit", "open_pl", "swap", "commission")
    money += ("day_pl", "week_pl", "month_pl", "total_pl")
    amounts = [(k, v) for row in [managed, account, *snapshots, *positions, *history] for k, v in row.items()]
    noisy = [(k, v) for k, v in amounts if k in money and isinstance(v, float) and _decimals(v) > 2]
    assert not noisy, noisy[:10]
    assert positions and history
    for row in positions + history:
        digits = symbols.get(row["symbol"], 0) if row["symbol"] else 0
        prices = [row[k] for k in ("price_open", "price_current", "sl", "tp", "price") if k in row]
        assert all(_decimals(p) <= digits for p in prices if math.isfinite(p)), (row, digits)


async def test_the_error_code_says_whether_a_uuid_may_be_sent_again(running: Running, token: str) -> None:
    from app.mt5.sim.admin import SimAdmin

    sim = running.runtime.sim_server
    assert sim is not None
    async with running.client(token) as http:
        with SimAdmin(sim.address) as admin:
            admin.set_faults("sim-1", requote_probability=1.0)
            order = {"symbol": "EURUSD", "side": "buy", "volume": 0.01, "uuid": "requoted-then-placed"}
            requoted = await place(http, order)
            admin.clear_faults()
        assert requoted.status_code == 409, requoted.text
        assert (
            requoted.json()["code"] == "temporary" and requoted.json()["details"]["resend"] == "new_attempt"
        )
        placed = await place(http, order)  # the same uuid: a new attempt, placed
        assert placed.status_code == 200 and placed.json()["success"] is True, placed.text
        again = await http.post("/api/place", json=order)
        assert (
            again.json()["ticket"] == placed.json()["ticket"] and "placed before" in again.json()["message"]
        )
        await http.post("/api/close", json={"order_id": placed.json()["ticket"]})

        too_big = {"symbol": "EURUSD", "side": "buy", "volume": 90.0, "uuid": "refused-for-good"}
        for _ in range(2):  # order_check refuses it (no money): the same answer both times, nothing sent
            refused = await place(http, too_big)
            assert refused.status_code == 422 and refused.json()["code"] == "rejected", refused.text
            assert refused.json()["details"]["resend"] == "same_answer"
