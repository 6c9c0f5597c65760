"""Users, roles, scopes and API keys against the real server (sim terminals, a real database, a real
Socket.IO client): a role × route matrix over the served OpenAPI document, a scoped viewer who never
sees another account during a carousel cycle, immediate revocation of tokens, keys and sockets, and a
clear error for every bad input with nothing changed."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.server.realtime import EVENT_PERMISSIONS
from tests.conftest import app_command, subprocess_env
from tests.server.conftest import ADMIN, PASSWORD, Running, start_runtime, stop_runtime
from tests.server.test_socketio import Recorder
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

USER_PASSWORD = "a user's password 1"  # noqa: S105 - the tests' own
LIVE_LOGIN, OTHER_LOGIN, THIRD_LOGIN = 5001001, 5001002, 5001003


@dataclass
class World:
    running: Running
    admin: str
    ids: dict[int, int]  # login -> managed account id
    tokens: dict[str, str] = field(default_factory=dict)  # user -> token

    async def as_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.running.client(self.admin) as http:
            return await http.request(method, path, **kwargs)

    async def login(self, name: str, password: str = USER_PASSWORD) -> dict[str, Any]:
        async with self.running.client() as http:
            answer = await http.post("/api/login", json={"username": name, "password": password})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        self.tokens[name] = body["token"]
        return body

    async def add_user(self, name: str, role: str, accounts: list[int] | None) -> str:
        answer = await self.as_admin(
            "POST",
            "/api/users",
            json={"username": name, "password": USER_PASSWORD, "role": role, "accounts": accounts},
        )
        assert answer.status_code == 201, answer.text
        return str((await self.login(name))["token"])

    async def state(self) -> Any:
        """What a refused call must leave as it was (the fields that only a call could change)."""

        async def read(path: str, *fields: str) -> list[tuple[Any, ...]]:
            return [tuple(row[f] for f in fields) for row in (await self.as_admin("GET", path)).json()]

        return (
            await read("/api/accounts", "id", "login", "alias", "server"),
            await read("/api/users", "username", "role", "accounts", "updated_at"),
            await read("/api/keys", "id", "role", "accounts", "status"),
            await read("/api/positions", "ticket", "volume", "sl", "tp"),
            await read("/api/orders", "ticket", "volume", "price_open", "sl", "tp"),
            await read("/api/alerts", "id", "symbol", "price"),
            (await self.as_admin("GET", "/api/carousel")).json()["running"],
        )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    running = await start_runtime(
        tmp_path_factory.mktemp("users"),
        sections={"carousel": {"cycle_interval_s": 1, "shared_pause_s": 0.5}},
        login_attempts=1000,
    )
    admin = await running.login()
    ids: dict[int, int] = {}
    async with running.client(admin) as http:
        for login in (LIVE_LOGIN, OTHER_LOGIN, THIRD_LOGIN):
            body = {"login": login, "server": "SimBroker-Demo", "password": f"Demo-{login - 5000000}"}
            answer = await http.post("/api/accounts", json=body)
            assert answer.status_code == 201, answer.text
            ids[login] = answer.json()["id"]
    world = World(running, admin, ids)
    yield world
    await stop_runtime(running)


# ----------------------------------------------------------------------------- who am I


async def test_login_answers_the_real_role_and_me_says_the_scope(world: World) -> None:
    other = world.ids[OTHER_LOGIN]
    await world.add_user("vera", "viewer", [other])
    body = await world.login("VERA")  # names ignore case; the answer names the user as stored
    assert body["user"] == {"username": "vera", "role": "viewer"}
    async with world.running.client(body["token"]) as http:
        me = (await http.get("/api/me")).json()
    assert me["username"] == "vera" and me["role"] == "viewer" and me["kind"] == "user"
    assert me["accounts"] == [other] and me["permissions"] == ["read"]
    async with world.running.client(world.admin) as http:
        admin = (await http.get("/api/me")).json()
    assert admin["kind"] == "admin" and admin["accounts"] is None and "admin" in admin["permissions"]
    entries = (await world.as_admin("GET", "/api/audit", params={"action": "user.add"})).json()
    assert [(e["actor"], e["payload"]["user"]) for e in entries][-1] == ("api:admin", "vera")


# ----------------------------------------------------------------------------- the role × route matrix

# What each operation needs. A route missing here fails the matrix (no route is forgotten).
PUBLIC, READ, WHOLE, LIVE, TRADE, MANAGE, CAROUSEL, ADMIN_ONLY = (
    "public", "read", "whole view", "live account", "trade", "manage", "carousel", "admin",
)  # fmt: skip
NEEDS: dict[tuple[str, str], str] = {
    ("post", "/api/login"): PUBLIC,
    ("get", "/api/health"): PUBLIC,
    ("get", "/api/account"): LIVE,
    ("get", "/api/positions"): LIVE,
    ("get", "/api/orders"): LIVE,
    ("get", "/api/history"): LIVE,
    ("post", "/api/place"): TRADE,
    ("post", "/api/close"): TRADE,
    ("post", "/api/modify"): TRADE,
    ("post", "/api/cancel"): TRADE,
    ("get", "/api/alerts"): READ,
    ("post", "/api/alerts"): TRADE,
    ("delete", "/api/alerts/{alert_id}"): TRADE,
    ("get", "/api/symbols"): READ,
    ("get", "/api/quotes"): READ,
    ("get", "/api/candles"): READ,
    ("get", "/api/book"): READ,
    ("get", "/api/indicators"): READ,
    ("get", "/api/terminals"): WHOLE,
    ("get", "/api/logs"): WHOLE,
    ("get", "/api/audit"): WHOLE,
    ("get", "/api/audit/verify"): WHOLE,
    ("get", "/api/accounts"): READ,
    ("get", "/api/accounts/exposure"): READ,
    ("post", "/api/accounts"): MANAGE,
    ("get", "/api/accounts/{account_id}"): READ,
    ("delete", "/api/accounts/{account_id}"): MANAGE,
    ("get", "/api/accounts/{account_id}/deals"): READ,
    ("get", "/api/accounts/{account_id}/snapshots"): READ,
    ("post", "/api/accounts/{account_id}/sync"): MANAGE,
    ("get", "/api/carousel"): READ,
    ("post", "/api/carousel/start"): CAROUSEL,
    ("post", "/api/carousel/stop"): CAROUSEL,
    ("get", "/api/me"): READ,
    ("post", "/api/webhooks/{name}"): PUBLIC,  # the webhook's secret, not a token
    ("post", "/api/signals"): TRADE,
    ("get", "/api/signals"): READ,
    ("get", "/api/signals/{uuid}"): READ,
    ("post", "/api/signals/{uuid}/approve"): TRADE,
    ("post", "/api/signals/{uuid}/reject"): TRADE,
    ("post", "/api/webhooks"): ADMIN_ONLY,
    ("get", "/api/webhooks"): ADMIN_ONLY,
    ("delete", "/api/webhooks/{name}"): ADMIN_ONLY,
    ("post", "/api/webhooks/{name}/rotate"): ADMIN_ONLY,
    ("get", "/api/strategies"): READ,
    ("get", "/api/strategies/kinds"): READ,
    ("put", "/api/strategies/{strategy_id}"): ADMIN_ONLY,
    ("post", "/api/strategies/{strategy_id}/enable"): ADMIN_ONLY,
    ("post", "/api/strategies/{strategy_id}/disable"): ADMIN_ONLY,
    ("get", "/api/users"): ADMIN_ONLY,
    ("post", "/api/users"): ADMIN_ONLY,
    ("get", "/api/users/{username}"): ADMIN_ONLY,
    ("delete", "/api/users/{username}"): ADMIN_ONLY,
    ("post", "/api/users/{username}/role"): ADMIN_ONLY,
    ("post", "/api/users/{username}/accounts"): ADMIN_ONLY,
    ("post", "/api/users/{username}/password"): ADMIN_ONLY,
    ("get", "/api/keys"): ADMIN_ONLY,
    ("post", "/api/keys"): ADMIN_ONLY,
    ("delete", "/api/keys/{key_id}"): ADMIN_ONLY,
}
# Who may do what: role, and whether the caller's scope is every account / holds the live account.
MAY: dict[str, set[str]] = {
    "admin": {READ, WHOLE, LIVE, TRADE, MANAGE, CAROUSEL, ADMIN_ONLY},
    "trader": {READ, WHOLE, LIVE, TRADE, MANAGE, CAROUSEL},
    "viewer (all)": {READ, WHOLE, LIVE},
    "viewer (one account)": {READ},
}
# Bodies that would really act if they were let through (a refused caller sends these).
REAL_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/place"): {"symbol": "EURUSD", "side": "buy", "volume": 0.01},
    ("post", "/api/close"): {"order_id": 1},
    ("post", "/api/modify"): {"order_id": 1, "sl": 1.0},
    ("post", "/api/cancel"): {"order_id": 1},
    ("post", "/api/alerts"): {"symbol": "EURUSD", "condition": "bid_above", "price": 2.0},
    ("post", "/api/accounts"): {"login": 5001004, "server": "SimBroker-Demo", "password": "Demo-1004"},
    ("post", "/api/users"): {"username": "eve", "password": USER_PASSWORD, "role": "admin"},
    ("post", "/api/users/{username}/role"): {"role": "admin"},
    ("post", "/api/users/{username}/accounts"): {"accounts": None},
    ("post", "/api/users/{username}/password"): {"password": "taken over 123"},
    ("post", "/api/keys"): {"name": "mine", "role": "admin"},
}


def _path(template: str, account: int) -> str:
    return (
        template.replace("{account_id}", str(account))
        .replace("{username}", "vera")
        .replace("{key_id}", "1")
        .replace("{alert_id}", "1")
        .replace("{uuid}", "nope")
        .replace("{name}", "nope")
        .replace("{strategy_id}", "nope")
    )


def _gone(template: str) -> str:
    return (
        template.replace("{account_id}", str(2**62))
        .replace("{username}", "nobody")
        .replace("{key_id}", str(2**62))
        .replace("{alert_id}", str(2**62))
        .replace("{uuid}", "nope")
        .replace("{name}", "nope")
        .replace("{strategy_id}", "nope")
    )


async def test_every_route_for_every_role_and_no_token(world: World) -> None:
    one = world.ids[OTHER_LOGIN]
    callers = {
        "admin": world.admin,
        "trader": await world.add_user("tom", "trader", None),
        "viewer (all)": await world.add_user("val", "viewer", None),
        "viewer (one account)": world.tokens.get("vera") or await world.add_user("vera", "viewer", [one]),
    }
    async with world.running.client() as http:
        spec = (await http.get("/openapi.json")).json()
    operations = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert operations == set(NEEDS), "a route without an expected role, or one that is gone"
    before = await world.state()
    seen: dict[tuple[str, str, str], int] = {}
    for method, template in sorted(operations):
        need = NEEDS[(method, template)]
        if need == PUBLIC:
            continue
        async with world.running.client() as http:
            anonymous = await http.request(
                method, _path(template, one), json=REAL_BODIES.get((method, template))
            )
        assert anonymous.status_code == 401, (method, template)
        for caller, token in callers.items():
            allowed = need in MAY[caller]
            if not allowed:  # the real body: refused all the same, before anything is done
                body, path = REAL_BODIES.get((method, template)), _path(template, one)
            elif template.startswith("/api/carousel/"):
                continue  # starting the carousel is in the scope test below
            elif method == "delete" or template.endswith(("/sync", "/rotate", "/enable", "/disable")):
                body, path = None, _gone(template)
            else:  # invalid on purpose: an allowed caller gets 422 and nothing is done
                body, path = (None if method == "get" else {}), _path(template, one)
            async with world.running.client(token) as http:
                answer = await http.request(method, path, json=body)
            seen[(caller, method, template)] = answer.status_code
            if allowed:
                assert answer.status_code not in (401, 403), (caller, method, template, answer.text)
            else:
                assert answer.status_code == 403, (caller, method, template, answer.text)
                assert answer.json()["code"] == "forbidden", answer.text
    assert await world.state() == before  # nothing a refused call sent changed anything
    assert len(seen) >= 4 * 30


async def test_every_socket_request_declares_what_it_needs(world: World) -> None:
    gateway = world.running.runtime.server.gateway
    assert gateway is not None
    handled = {name for name in gateway.sio.handlers["/"] if name not in ("connect", "disconnect", "*")}
    assert handled <= set(EVENT_PERMISSIONS), f"socket requests without a declared permission: {handled}"


# ----------------------------------------------------------------------------- scope over a carousel cycle


def _logins_in(text: str) -> set[int]:
    return {login for login in (LIVE_LOGIN, OTHER_LOGIN, THIRD_LOGIN) if str(login) in text}


async def test_a_scoped_viewer_sees_only_its_account_during_a_carousel_cycle(world: World) -> None:
    other = world.ids[OTHER_LOGIN]
    token = world.tokens.get("vera") or await world.add_user("vera", "viewer", [other])
    token = (await world.login("vera"))["token"]
    client = Recorder()
    for name in ("carousel_update", "signals_update"):  # beyond what Recorder listens to
        client.sio.on(name, client._recorder(name))
    await client.connect(world.running, token)
    try:
        await wait_until(lambda: client.got("connected"))
        await client.sio.emit(
            "subscribe",
            {
                "channels": [
                    "quotes",
                    "positions",
                    "orders",
                    "account",
                    "accounts",
                    "logs",
                    "carousel",
                    "signals",
                ]
            },
        )
        await wait_until(lambda: client.got("subscribed"))
        assert client.got("subscribed")[0]["refused"] == ["logs"]
        cycle = (await world.as_admin("GET", "/api/carousel")).json()["cycle"]
        started = await world.as_admin("POST", "/api/carousel/start")
        assert started.status_code == 200, started.text

        async def cycle_done() -> bool:
            status = (await world.as_admin("GET", "/api/carousel")).json()
            ended = status["progress"] >= 1 and not status["current"]
            return bool(status["cycle"] > cycle + 1 or (status["cycle"] > cycle and ended))

        for _ in range(600):
            if await cycle_done():
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("no carousel cycle ended")
        await wait_until(lambda: client.got("accounts_update") and client.got("carousel_update"), within_s=30)
        # REST: every read the viewer may make
        async with world.running.client(token) as http:
            reads = ["/api/accounts", f"/api/accounts/{other}", f"/api/accounts/{other}/deals",
                     f"/api/accounts/{other}/snapshots", "/api/accounts/exposure", "/api/carousel",
                     "/api/me", "/api/quotes", "/api/symbols"]  # fmt: skip
            answers = {path: await http.get(path) for path in reads}
            hidden = [
                await http.get(f"/api/accounts/{world.ids[login]}") for login in (LIVE_LOGIN, THIRD_LOGIN)
            ]
            live = [await http.get(path) for path in ("/api/account", "/api/positions", "/api/history")]
            ack = await client.sio.call("get_account_info", {}, timeout=10)
        assert all(a.status_code == 200 for a in answers.values()), {p: a.text for p, a in answers.items()}
        assert [a["id"] for a in answers["/api/accounts"].json()] == [other]
        assert [h.status_code for h in hidden] == [404, 404]  # not even confirmed to exist
        assert [r.status_code for r in live] == [403, 403, 403]  # the live account is not its own
        assert ack["code"] == "forbidden"
        events = {name: client.got(name) for name in list(client.events)}
        assert not events.get("account_update") and not events.get("positions_update")
        assert not events.get("orders_update") and not events.get("logs_update")
        assert {u["id"] for u in events["accounts_update"]} == {other}
        assert all(v["account_id"] == other for c in events["carousel_update"] for v in c["current"])
        text = (
            json.dumps(events) + "".join(a.text for a in answers.values()) + "".join(h.text for h in hidden)
        )
        assert _logins_in(text) == {OTHER_LOGIN}  # never another account's login
        exposure = answers["/api/accounts/exposure"].json()
        assert exposure and all(row["accounts"] == 1 for row in exposure)  # its account's positions only
        snapshot = answers[f"/api/accounts/{other}"].json()
        assert snapshot["login"] == OTHER_LOGIN and snapshot["balance"] is not None
    finally:
        await client.sio.disconnect()
        await world.as_admin("POST", "/api/carousel/stop")


# ----------------------------------------------------------------------------- revocation


async def _socket_of(world: World, token: str) -> Recorder:
    client = Recorder()
    await client.connect(world.running, token)
    await wait_until(lambda: client.got("connected"))
    await client.sio.emit("subscribe", {"channels": ["quotes"]})
    await wait_until(lambda: client.got("quotes"), within_s=30)
    return client


async def _closed_after(world: World, client: Recorder, token: str, change: Any) -> float:
    """Make ``change``; the socket gets disconnected {reconnect: false} and the token answers 401.
    Answers how long the close took after ``change()`` began, or after the moment it answers (a
    subprocess's exit) — measured, not asserted: the machine is shared."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = await change()
    await wait_until(lambda: client.got("disconnected"), within_s=10, interval=0.01)
    took = max(0.0, client.events["disconnected"][-1][0] - (started if done is None else done))
    goodbye = client.got("disconnected")[-1]
    assert goodbye["reconnect"] is False and goodbye["code"] == "token_revoked", goodbye
    await wait_until(lambda: not client.sio.connected, within_s=10)
    async with world.running.client(token) as http:
        answer = await http.get("/api/me")
    assert answer.status_code == 401 and answer.json()["code"] == "token_revoked", answer.text
    return took


CLOSES: dict[str, float] = {}


@pytest.mark.parametrize("change", ["remove", "role", "accounts", "password"])
async def test_a_change_of_the_user_closes_its_sockets_at_once(world: World, change: str) -> None:
    name = f"rev-{change}"
    token = await world.add_user(name, "trader", None)
    client = await _socket_of(world, token)
    requests = {
        "remove": ("DELETE", f"/api/users/{name}", None),
        "role": ("POST", f"/api/users/{name}/role", {"role": "viewer"}),
        "accounts": ("POST", f"/api/users/{name}/accounts", {"accounts": [world.ids[OTHER_LOGIN]]}),
        "password": ("POST", f"/api/users/{name}/password", {"password": "another one 123"}),
    }
    method, path, body = requests[change]

    async def act() -> None:
        answer = await world.as_admin(method, path, json=body)
        assert answer.status_code == 200, answer.text

    try:
        CLOSES[change] = await _closed_after(world, client, token, act)
        print(f"socket closed {CLOSES[change] * 1000:.0f} ms after the change ({change})")
    finally:
        await client.sio.disconnect()
    if change != "remove":  # the changed user logs in again and gets the new role
        password = "another one 123" if change == "password" else USER_PASSWORD
        body_ = await world.login(name, password)
        assert body_["user"]["role"] == ("viewer" if change == "role" else "trader")


async def test_a_user_removed_by_another_process_is_cut_off(world: World) -> None:
    token = await world.add_user("rev-cli", "viewer", None)
    client = await _socket_of(world, token)

    async def remove() -> float:
        result = await asyncio.to_thread(
            subprocess.run,
            app_command(
                "server", "users", "remove", "rev-cli", "--yes", "--data-dir", str(world.running.data_dir)
            ),
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return asyncio.get_running_loop().time()  # the change is committed when the process ends

    try:
        took = await _closed_after(world, client, token, remove)
        print(f"socket closed {took * 1000:.0f} ms after `server users remove` ended")
    finally:
        await client.sio.disconnect()
    entries = (await world.as_admin("GET", "/api/audit", params={"action": "user.remove"})).json()
    assert ("cli", "rev-cli") in [(e["actor"], e["payload"]["user"]) for e in entries]


# ----------------------------------------------------------------------------- API keys


def _keyed(world: World, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=world.running.url, headers={"X-API-Key": key}, timeout=30)


async def _new_key(world: World, **body: Any) -> dict[str, Any]:
    answer = await world.as_admin("POST", "/api/keys", json={"name": "bot", "role": "viewer", **body})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def test_an_api_key_works_as_bearer_and_x_api_key_and_is_listed_without_its_secret(
    world: World,
) -> None:
    made = await _new_key(world, name="grafana", accounts=[world.ids[OTHER_LOGIN]])
    key = made["key"]
    assert key.startswith(made["prefix"] + "_") and made["prefix"].startswith("mt5c_")
    assert made["status"] == "active" and made["last_used_at"] is None and made["created_by"] == "api:admin"
    async with world.running.client(key) as http:
        me = (await http.get("/api/me")).json()
    async with _keyed(world, key) as http:
        also = await http.get("/api/accounts")
        refused = await http.post("/api/place", json={"symbol": "EURUSD", "side": "buy", "volume": 0.01})
    assert me["kind"] == "key" and me["role"] == "viewer" and me["username"] == "grafana"
    assert also.status_code == 200 and [a["id"] for a in also.json()] == [world.ids[OTHER_LOGIN]]
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"

    async def listed() -> dict[str, Any]:
        keys = (await world.as_admin("GET", "/api/keys")).json()
        assert all("key" not in k for k in keys)
        return next(k for k in keys if k["id"] == made["id"])

    for _ in range(100):  # its last use is written within a second or so
        if (await listed())["last_used_at"] is not None:
            break
        await asyncio.sleep(0.1)
    assert (await listed())["last_used_at"] is not None
    db_bytes = (world.running.data_dir / "mt5-console.db").read_bytes()
    assert key.encode() not in db_bytes  # only its hash


async def test_a_trader_key_trades_and_the_trail_names_the_key(world: World) -> None:
    made = await _new_key(world, name="algo", role="trader")
    async with world.running.client(made["key"]) as http:
        answer = await http.post(
            "/api/place", json={"symbol": "EURUSD", "side": "buy", "volume": 0.01, "dry_run": True}
        )
    assert answer.status_code == 200, answer.text
    actor = f"key:{made['prefix']}(algo)"
    entries = (await world.as_admin("GET", "/api/audit", params={"actor": actor})).json()
    assert entries and {e["action"] for e in entries} >= {"order.check"}
    created = (await world.as_admin("GET", "/api/audit", params={"action": "key.create"})).json()
    assert made["prefix"] in [e["payload"]["key"] for e in created]
    assert all(made["key"] not in json.dumps(e) for e in created)


async def test_a_revoked_key_answers_401_and_its_sockets_close(world: World) -> None:
    made = await _new_key(world, name="dash")
    client = await _socket_of(world, made["key"])

    async def revoke() -> None:
        answer = await world.as_admin("DELETE", f"/api/keys/{made['id']}")
        assert answer.status_code == 200 and answer.json()["status"] == "revoked", answer.text

    try:
        took = await _closed_after(world, client, made["key"], revoke)
        print(f"socket closed {took * 1000:.0f} ms after the key was revoked")
    finally:
        await client.sio.disconnect()
    again = await world.as_admin("DELETE", f"/api/keys/{made['id']}")
    assert again.status_code == 404


async def test_an_expired_key_answers_401(world: World) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    made = await _new_key(world, name="brief", expires_at=soon.isoformat())
    async with world.running.client(made["key"]) as http:
        assert (await http.get("/api/me")).status_code == 200
        for _ in range(100):
            answer = await http.get("/api/me")
            if answer.status_code == 401:
                break
            await asyncio.sleep(0.1)
    assert answer.status_code == 401 and answer.json()["code"] == "token_expired"
    listed = (await world.as_admin("GET", "/api/keys")).json()
    assert next(k for k in listed if k["id"] == made["id"])["status"] == "expired"


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("mt5c_", "invalid_key"),
        ("mt5c_abcdefgh_short", "invalid_key"),
        ("mt5c_abcdefgh_" + "A" * 43, "invalid_key"),  # well formed, unknown
        ("mt5c_ABCDEFGH_" + "A" * 43, "invalid_key"),  # upper case prefix: not one of ours
    ],
)
async def test_a_malformed_or_unknown_key_is_401(world: World, key: str, code: str) -> None:
    async with world.running.client(key) as http:
        answer = await http.get("/api/me")
    async with _keyed(world, key) as http:
        other = await http.get("/api/me")
    assert answer.status_code == other.status_code == 401
    assert answer.json()["code"] == other.json()["code"] == code


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "says"),
    [
        ("POST", "/api/users", {"username": "bob", "password": USER_PASSWORD, "role": "boss"}, 422,
         "validation_error", "role"),
        ("POST", "/api/users", {"username": "b b", "password": USER_PASSWORD, "role": "viewer"}, 422,
         "invalid_user", "a user name is 1-64 letters"),
        ("POST", "/api/users", {"username": "admin", "password": USER_PASSWORD, "role": "viewer"}, 422,
         "invalid_user", "built-in administrator"),
        ("POST", "/api/users", {"username": "bob", "password": "short", "role": "viewer"}, 422,
         "invalid_user", "at least 8 characters"),
        ("POST", "/api/users", {"username": "bob", "password": USER_PASSWORD, "role": "viewer",
                                "accounts": [987654]}, 422, "invalid_user", "no managed account with id"),
        ("POST", "/api/users", {"username": "bob", "password": USER_PASSWORD, "role": "viewer",
                                "accounts": ["1"]}, 422, "validation_error", "accounts"),
        ("POST", "/api/users", {"username": "val", "password": USER_PASSWORD, "role": "viewer"}, 409,
         "duplicate_user", "exists already"),
        ("POST", "/api/users/nobody/role", {"role": "viewer"}, 404, "not_found", "no user 'nobody'"),
        ("POST", "/api/users/admin/role", {"role": "viewer"}, 422, "invalid_user", "built-in administrator"),
        ("POST", "/api/users/val/role", {"role": "root"}, 422, "validation_error", "role"),
        ("POST", "/api/users/val/accounts", {"accounts": [0]}, 422, "invalid_user", "account ids"),
        ("DELETE", "/api/users/nobody", None, 404, "not_found", "no user 'nobody'"),
        ("POST", "/api/keys", {"name": "k", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, 422,
         "invalid_user", "in the past"),
        ("POST", "/api/keys", {"name": "k", "role": "wizard"}, 422, "validation_error", "role"),
        ("DELETE", "/api/keys/987654", None, 404, "not_found", "no active API key"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_clear_error_and_changes_nothing(
    world: World, method: str, path: str, body: Any, status: int, code: str, says: str
) -> None:
    if "val" in path or (body and body.get("username") == "val"):
        await world.as_admin(
            "POST", "/api/users", json={"username": "val", "password": USER_PASSWORD, "role": "viewer"}
        )  # there (201) or there already (409)
    before = await world.state()
    trail = len((await world.as_admin("GET", "/api/audit", params={"action": "user"})).json())
    answer = await world.as_admin(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code and says in json.dumps(answer.json()), answer.text
    assert await world.state() == before
    assert len((await world.as_admin("GET", "/api/audit", params={"action": "user"})).json()) == trail


async def test_a_wrong_password_or_unknown_user_is_refused_and_audited(world: World) -> None:
    if "val" not in world.tokens:
        await world.add_user("val", "viewer", None)
    async with world.running.client() as http:
        wrong = await http.post("/api/login", json={"username": "val", "password": "not the password"})
        unknown = await http.post("/api/login", json={"username": "nobody-at-all", "password": USER_PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "bad_credentials"
    assert wrong.json()["error"] == unknown.json()["error"] == "wrong username or password"
    failed = (await world.as_admin("GET", "/api/audit", params={"action": "api.login_failed"})).json()
    actors = [(e["actor"], e["payload"].get("user")) for e in failed[-2:]]
    assert actors == [("api:val", None), ("api", "unknown")]  # an unknown name is never recorded
    assert "nobody-at-all" not in json.dumps(failed)


async def test_the_admin_password_still_works_as_before(world: World) -> None:
    async with world.running.client() as http:
        answer = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
    assert answer.status_code == 200 and answer.json()["user"] == {"username": "admin", "role": "admin"}
