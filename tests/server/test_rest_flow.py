"""The whole REST flow a dashboard goes through, against the real server on the simulator: set the
password, log in, health, account, positions, place (dry run, then for real), close, history, managed
accounts, audit — with the exact payload shapes of SPEC §7."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from app.server.auth import password_path
from tests.server.conftest import ADMIN, PASSWORD, Running
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

ACCOUNT_KEYS = {
    "number", "name", "server", "currency", "leverage", "balance", "equity", "margin", "free_margin",
    "margin_level", "profit", "trade_mode",
}  # fmt: skip
POSITION_KEYS = {
    "ticket", "symbol", "type", "volume", "price_open", "price_current", "sl", "tp", "profit", "swap",
    "commission", "time", "comment",
}  # fmt: skip
ORDER_KEYS = {
    "ticket",
    "symbol",
    "type",
    "volume",
    "price_open",
    "sl",
    "tp",
    "time_setup",
    "state",
    "comment",
}
DEAL_KEYS = {
    "deal_id", "order_id", "position_id", "symbol", "type", "entry", "volume", "price", "profit", "swap",
    "commission", "time",
}  # fmt: skip
MANAGED_KEYS = {
    "id", "alias", "broker", "login", "server", "status", "connected", "last_error", "balance", "equity",
    "margin", "free_margin", "margin_level", "open_trades", "open_pl", "day_pl", "week_pl", "month_pl",
    "total_pl", "last_snapshot_at", "created_at",
}  # fmt: skip


def is_utc_iso(text: str) -> bool:
    return isinstance(text, str) and text.endswith("Z") and "T" in text


async def test_the_whole_flow(running: Running) -> None:  # noqa: PLR0915 - one story, told in order
    # No password yet: logins are refused with a message saying how to set one.
    password_path(running.data_dir).unlink()
    context = running.runtime.server.context
    assert context is not None
    context.tokens.passwords.forget()  # it looks at the file at most once a second otherwise
    async with running.client() as http:
        refused = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
        assert refused.status_code == 403
        assert refused.json()["code"] == "no_password_set"
        assert "mt5-console server set-password" in refused.json()["error"]

        # Set it (the window's way; the CLI's is tested as a process) and log in.
        await running.runtime.server.set_admin_password(PASSWORD)
        wrong = await http.post("/api/login", json={"username": ADMIN, "password": "not it at all"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"
        assert PASSWORD not in wrong.text
        login = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
        assert login.status_code == 200, login.text
        body = login.json()
        assert set(body) == {"token", "expires_in", "user"}
        assert body["user"] == {"username": "admin", "role": "admin"} and body["expires_in"] == 3600
        token = body["token"]

        health = (await http.get("/api/health")).json()  # no token needed
        assert set(health) == {"status", "mt5_connected", "terminal_state", "version", "timestamp"}
        assert health["status"] == "ok" and health["mt5_connected"] is True
        assert health["terminal_state"] == "logged_in" and is_utc_iso(health["timestamp"])

    async with running.client(token) as http:
        account = (await http.get("/api/account")).json()
        assert set(account) == ACCOUNT_KEYS
        assert account["trade_mode"] == "demo" and account["number"] > 0

        before = (await http.get("/api/positions")).json()
        assert all(set(p) == POSITION_KEYS and p["type"] in ("buy", "sell") for p in before)
        orders = (await http.get("/api/orders")).json()
        assert all(set(o) == ORDER_KEYS and is_utc_iso(o["time_setup"]) for o in orders)

        # A dry run checks and sends nothing.
        dry = await http.post(
            "/api/place",
            json={"symbol": "EURUSD", "side": "buy", "volume": 0.05, "sl": 200, "tp": 300, "dry_run": True},
        )
        assert dry.status_code == 200, dry.text
        assert (
            dry.json()["success"] is True and dry.json()["dry_run"] is True and dry.json()["ticket"] is None
        )
        assert set(dry.json()) == {"success", "ticket", "message", "dry_run"}

        # A real order, with SL/TP in points.
        order_id = str(uuid.uuid4())
        placed = await http.post(
            "/api/place",
            json={
                "symbol": "EURUSD", "side": "buy", "volume": 0.05, "sl": 200, "tp": 300, "uuid": order_id,
                "source": "test-dashboard", "confidence": 0.9, "audit_note": "flow test",
            },
        )  # fmt: skip
        assert placed.status_code == 200, placed.text
        result = placed.json()
        assert result["success"] is True and result["dry_run"] is False and result["ticket"] > 0
        ticket = result["ticket"]
        positions = {p["ticket"]: p for p in (await http.get("/api/positions")).json()}
        assert ticket in positions
        mine = positions[ticket]
        assert mine["symbol"] == "EURUSD" and mine["type"] == "buy" and mine["volume"] == 0.05
        # The distances hold from the price the order was sent at (its intent in the trail): the fill
        # may differ from that by the market's move in between, within the deviation allowed.
        sent = running.sent(order_id)
        assert round((sent["price"] - mine["sl"]) / 0.00001) == 200
        assert round((mine["tp"] - sent["price"]) / 0.00001) == 300
        assert (sent["sl"], sent["tp"]) == (mine["sl"], mine["tp"])
        assert abs(mine["price_open"] - sent["price"]) <= sent["deviation"] * 0.00001 + 1e-9

        # Modify its SL/TP (prices), then close it.
        modified = await http.post(
            "/api/modify", json={"order_id": ticket, "sl": round(mine["sl"] - 0.001, 5)}
        )
        assert modified.status_code == 200, modified.text
        closed = await http.post("/api/close", json={"order_id": ticket, "audit_note": "flow test done"})
        assert closed.status_code == 200, closed.text
        assert closed.json()["success"] is True
        assert ticket not in {p["ticket"] for p in (await http.get("/api/positions")).json()}

        history = (await http.get("/api/history", params={"days": 30})).json()
        assert all(set(d) == DEAL_KEYS for d in history)
        mine_deals = [d for d in history if d["position_id"] == ticket]
        assert {d["entry"] for d in mine_deals} == {"in", "out"}

        # Managed accounts: add (the password goes to the keyring only), read, remove.
        added = await http.post(
            "/api/accounts",
            json={"login": 5001006, "server": "SimBroker-Demo", "password": "Demo-1006", "alias": "six"},
        )
        assert added.status_code == 201, added.text
        assert set(added.json()) == MANAGED_KEYS and "Demo-1006" not in added.text
        account_id = added.json()["id"]
        assert running.keyring.entries[("mt5-console", "5001006@SimBroker-Demo")] == "Demo-1006"
        listed = (await http.get("/api/accounts")).json()
        assert [a["id"] for a in listed] == [account_id] and listed[0]["status"] in ("pending", "ok")
        assert (await http.get(f"/api/accounts/{account_id}")).json()["alias"] == "six"
        # The password is verified by a login at once (a visit): ok, with its first snapshot.
        for _ in range(300):
            verified = (await http.get(f"/api/accounts/{account_id}")).json()
            if verified["status"] != "pending":
                break
            await asyncio.sleep(0.1)
        assert verified["status"] == "ok" and verified["balance"] is not None, verified
        assert (await http.get(f"/api/accounts/{account_id}/deals", params={"days": 7})).json() == []
        assert len((await http.get(f"/api/accounts/{account_id}/snapshots")).json()) == 1
        duplicate = await http.post(
            "/api/accounts", json={"login": 5001006, "server": "SimBroker-Demo", "password": "x"}
        )
        assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_account"
        removed = await http.delete(f"/api/accounts/{account_id}")
        assert removed.status_code == 200 and removed.json()["id"] == account_id
        gone = await http.get(f"/api/accounts/{account_id}")
        assert gone.status_code == 404 and gone.json()["code"] == "not_found"

        # The trail has it all, under api:admin.
        verify = (await http.get("/api/audit/verify")).json()
        assert verify["ok"] is True and verify["status"] == "ok"
        entries = (await http.get("/api/audit", params={"actor": "api"})).json()
        actions = {(e["actor"], e["action"]) for e in entries}
        assert ("api:admin", "api.login") in actions
        assert ("api:admin", "api.login_failed") in actions
        assert ("api:admin", "account.add") in actions and ("api:admin", "account.remove") in actions
        assert ("gui", "setting.change") in {
            (e["actor"], e["action"]) for e in (await http.get("/api/audit")).json()
        }
        assert PASSWORD not in str(entries) and "Demo-1006" not in str(entries)


async def test_the_same_uuid_twice_places_one_order(running: Running) -> None:
    token = await running.login()
    order = {"symbol": "GBPUSD", "side": "sell", "volume": 0.03, "uuid": str(uuid.uuid4())}
    async with running.client(token) as http:
        before = {p["ticket"] for p in (await http.get("/api/positions")).json()}
        first = await http.post("/api/place", json=order)
        second = await http.post("/api/place", json=order)
        assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
        assert first.json()["ticket"] == second.json()["ticket"]
        await running.runtime.account_state.refresh()
        after = {p["ticket"] for p in (await http.get("/api/positions")).json()}
        assert len(after - before) == 1
        await http.post("/api/close", json={"order_id": first.json()["ticket"]})


async def test_carousel_status_start_and_stop(running: Running) -> None:
    token = await running.login()
    async with running.client(token) as http:
        status = await http.get("/api/carousel")
        assert status.status_code == 200, status.text
        assert {"running", "paused", "cycle", "visited_in_cycle", "accounts_in_cycle", "current"} <= set(
            status.json()
        )
        assert isinstance(status.json()["current"], list)
        assert status.json()["stale_after_s"] == running.runtime.settings.carousel.stale_after_s
        started = await http.post("/api/carousel/start")
        assert started.status_code == 200 and started.json()["running"] is True
        stopped = await http.post("/api/carousel/stop")
        assert stopped.status_code == 200 and stopped.json()["running"] is False


async def test_trading_through_the_api_is_audited_as_the_api_user(running: Running) -> None:
    """Order intent/result entries come from the trading service given ``actor=api:<user>``."""
    reader = AuditReader(audit_dir(running.data_dir))
    await wait_until(lambda: bool(reader.query(AuditQuery(actor="api:admin", action="api"))))
    order_entries = reader.query(AuditQuery(actor="api:admin", action="order"))
    assert {e.action for e in order_entries} >= {"order.intent", "order.result"}
