"""The web dashboard in a real headless Chromium against a real ``--serve --sim``: a trader logs in, watches
quotes and the chart's live bar, trades from the page, and is sent back to the login when the
password changes; the page reconnects by itself after a server restart."""

from __future__ import annotations

import subprocess

import pytest

from tests.browser.conftest import PASSWORD, Page, Served, set_password_cli
from tests.conftest import app_command, subprocess_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.keyring]


def test_log_in_then_the_live_account_and_moving_quotes(page: Page) -> None:
    page.open()
    page.log_in()
    header = page.text("#account-header")
    assert "DEMO" in header and "5001001" in header and "SimBroker-Demo" in header
    assert page.text('[data-total="balance"]') and page.text('[data-total="equity"]')
    first = page.quote_rows()
    assert {"EURUSD", "GBPUSD", "USDJPY"} <= set(first)
    page.wait(lambda: any(page.quote_rows().get(s) != bid for s, bid in first.items()), "no quote moved")
    # the day's change, against the open the server's market_summary gives (its high/low in the tooltip)
    change = '#quotes-table tr[data-symbol="EURUSD"] td.change'
    page.wait(lambda: page.find(change).get_attribute("data-open"), "no market_summary in Market Watch")
    assert page.text(change).endswith("%") and "high" in (page.find(change).get_attribute("title") or "")
    assert page.driver.execute_script("return sessionStorage.getItem('mt5c.session') !== null")
    assert page.driver.execute_script("return localStorage.length") == 0  # the token is never there
    assert page.problems() == []  # no script error, no CSP violation


def test_a_wrong_password_shows_the_error_and_stays_at_the_login(page: Page) -> None:
    page.open()
    page.log_in("not the password", wait=False)
    page.wait(lambda: page.visible("#login-error"), "no error shown")
    assert "wrong username or password" in page.text("#login-error")
    assert not page.visible("#app-view")
    assert page.driver.execute_script("return sessionStorage.getItem('mt5c.session')") is None
    page.log_in()  # and the right one still works


def test_the_chart_follows_the_live_bar_and_switches_timeframe(page: Page) -> None:
    page.open()
    page.log_in()
    page.find('#quotes-table tr[data-symbol="EURUSD"]').click()
    chart = "#chart"
    page.wait(lambda: page.find(chart).get_attribute("data-symbol") == "EURUSD", "the chart is not on EURUSD")
    page.wait(lambda: int(page.find(chart).get_attribute("data-bars") or 0) >= 100, "no history drawn")
    legend = page.find("#chart-legend")
    before = (legend.get_attribute("data-time"), legend.get_attribute("data-close"))
    assert before[1] and "EURUSD M1" in legend.text
    page.wait(
        lambda: (legend.get_attribute("data-time"), legend.get_attribute("data-close")) != before,
        "the live bar never changed",
    )
    # it moves with the socket's live candles (issue 19), not with bars rebuilt from quotes
    assert page.find(chart).get_attribute("data-live") == "candles"
    moved = (legend.get_attribute("data-time"), legend.get_attribute("data-close"))
    page.wait(
        lambda: (legend.get_attribute("data-time"), legend.get_attribute("data-close")) != moved,
        "the live bar changed once, then stopped",
    )
    page.find('button.tf[data-tf="H1"]').click()
    page.wait(lambda: page.find(chart).get_attribute("data-timeframe") == "H1", "no H1 chart")
    page.wait(lambda: "EURUSD H1" in page.text("#chart-legend"), "the legend does not say H1")
    opened = int(page.find("#chart-legend").get_attribute("data-time") or 0)
    assert opened % 3600 == 0  # an H1 bar opens on the hour
    canvases = len(page.all("#chart canvas"))
    page.find(".menu summary").click()
    page.find('input[data-indicator="rsi"]').click()
    page.wait(lambda: len(page.all("#chart canvas")) > canvases, "no RSI pane under the candles")
    assert page.problems() == []


def test_place_an_order_see_it_in_the_positions_and_close_it(page: Page, served: Served) -> None:
    page.open()
    page.log_in()
    page.find('#quotes-table tr[data-symbol="EURUSD"]').click()
    ticket_symbol = page.find("#order-symbol")
    page.wait(lambda: ticket_symbol.get_attribute("value") == "EURUSD", "the ticket is not on EURUSD")
    volume = page.find("#order-volume")
    volume.clear()
    volume.send_keys("0.03")
    page.wait(lambda: "check passed" in page.text("#order-verdict"), "no verdict from the server")
    before = set(page.positions())
    page.find("#order-send").click()
    page.wait(lambda: page.text("#order-verdict").startswith("sent:"), "the order was not sent")
    new = page.wait(lambda: set(page.positions()) - before, "the position is not in the table")
    (ticket,) = new
    row = page.positions()[ticket]
    assert row[1:4] == ["EURUSD", "buy", "0.03"]
    page.find(f'#positions-table tr[data-ticket="{ticket}"] button[data-action="close"]').click()
    page.wait(lambda: ticket not in page.positions(), "the closed position is still shown")
    with served.http() as http:
        open_tickets = {p["ticket"] for p in http.get("/api/positions", headers=_auth(served)).json()}
    assert int(ticket) not in open_tickets
    assert page.problems() == []


def test_a_refused_order_names_the_field_and_places_nothing(page: Page, served: Served) -> None:
    page.open()
    page.log_in()
    page.find('#quotes-table tr[data-symbol="EURUSD"]').click()
    before = set(page.positions())
    volume = page.find("#order-volume")
    volume.clear()
    volume.send_keys("0.015")  # off the 0.01 step
    page.wait(lambda: "volume" in page.text("#order-verdict").lower(), "no verdict naming the volume")
    assert "bad" in (page.find("#order-verdict").get_attribute("class") or "")
    page.find("#order-send").click()
    page.wait(lambda: not page.find("#order-send").get_attribute("disabled"), "the send did not finish")
    page.wait(lambda: "volume" in page.text("#order-verdict").lower(), "the refusal is not shown")
    assert set(page.positions()) == before


def test_modify_a_position_from_its_dialog(page: Page) -> None:
    page.open()
    page.log_in()
    page.wait(lambda: page.positions(), "the demo account shows no positions")
    ticket, row = next(iter(page.positions().items()))
    page.find(f'#positions-table tr[data-ticket="{ticket}"] button[data-action="modify"]').click()
    page.wait(lambda: page.visible("dialog[open]"), "no modify dialog")
    tp = page.find('dialog[open] input[name="tp"]')
    tp.clear()
    tp.send_keys("0")  # remove the take profit (if any): always valid
    page.find('dialog[open] button[type="submit"]').click()
    page.wait(lambda: not page.all("dialog[open]"), "the dialog stayed open")
    page.wait(lambda: any("Modify #" + ticket in t.text for t in page.all(".toast")), "no answer shown")
    page.wait(lambda: page.positions()[ticket][7] == "", "the TP column still shows a price")


def test_delete_a_pending_order_after_confirming(page: Page, served: Served) -> None:
    with served.http() as http:
        bid = http.get("/api/quotes", params={"symbols": "EURUSD"}, headers=_auth(served)).json()[0]["bid"]
        placed = http.post(
            "/api/place",
            json={
                "symbol": "EURUSD",
                "side": "buy",
                "volume": 0.02,
                "type": "limit",
                "price": round(bid - 0.02, 5),
            },
            headers=_auth(served),
        ).json()
    ticket = str(placed["ticket"])
    page.open()
    page.log_in()
    row = f'#orders-table tr[data-ticket="{ticket}"]'
    page.wait(lambda: page.all(row), "the pending order is not in the table")
    page.find(f'{row} button[data-action="cancel"]').click()
    page.wait(lambda: page.visible("dialog[open]"), "no confirmation")
    assert ticket in page.text("dialog[open]") and "EURUSD" in page.text("dialog[open]")
    page.find('dialog[open] button[value="cancel"]').click()  # thought better of it: nothing is sent
    page.wait(lambda: not page.all("dialog[open]"), "the dialog stayed open")
    assert page.all(row)
    page.find(f'{row} button[data-action="cancel"]').click()
    page.find('dialog[open] button[type="submit"]').click()
    page.wait(lambda: not page.all(row), "the deleted order is still shown")
    with served.http() as http:
        pending = {o["ticket"] for o in http.get("/api/orders", headers=_auth(served)).json()}
    assert int(ticket) not in pending
    assert page.problems() == []


VIEWER_PASSWORD = "viewer password 1"  # noqa: S105 - the tests' own

_TRY_TO_PLACE = """
const done = arguments[arguments.length - 1];
const token = JSON.parse(sessionStorage.getItem("mt5c.session")).token;
fetch("/api/place", {
  method: "POST",
  headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
  body: JSON.stringify({symbol: "EURUSD", side: "buy", volume: 0.01}),
}).then((r) => r.json().then((b) => done([r.status, b.code])), (e) => done(["failed", String(e)]));
"""


def _users_cli(served: Served, *args: str, stdin: str = "") -> None:
    result = subprocess.run(
        app_command("server", "users", *args, "--data-dir", str(served.data_dir)),
        input=stdin,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _log_in_as(page: Page, user: str, password: str) -> None:
    page.wait(lambda: page.visible("#login-user"), "no login form")
    field = page.find("#login-user")
    field.clear()
    field.send_keys(user)
    page.log_in(password)


def test_a_real_viewer_sees_no_trade_buttons_is_refused_and_is_sent_back_when_removed(
    page: Page, served: Served
) -> None:
    _users_cli(served, "add", "vera", "--role", "viewer", stdin=VIEWER_PASSWORD + "\n")
    page.open()
    _log_in_as(page, "vera", VIEWER_PASSWORD)
    badge = "#user-badge"
    page.wait(lambda: page.find(badge).get_attribute("data-checked") == "true", "GET /api/me not asked")
    assert page.text(badge).split() == ["vera", "viewer"]
    assert "all accounts" in (page.find(badge).get_attribute("title") or "")
    page.wait(lambda: page.positions(), "no positions shown to the viewer")
    assert page.all("#positions-table button") == [] and page.all("#orders-table button") == []
    assert page.all("#order-form") == [] and "does not trade" in page.text("#no-trading")
    page.find('[data-tab="accounts"]').click()
    assert not [b for b in page.all("#tab-accounts button") if b.text in ("Start", "Stop", "Sync now")]

    # It tries anyway, from the page: the server refuses, nothing is placed.
    with served.http() as http:
        before = {p["ticket"] for p in http.get("/api/positions", headers=_auth(served)).json()}
    assert page.driver.execute_async_script(_TRY_TO_PLACE) == [403, "forbidden"]
    with served.http() as http:
        assert {p["ticket"] for p in http.get("/api/positions", headers=_auth(served)).json()} == before

    # A session in this tab that claims a bigger role is put right by the server's word.
    page.driver.execute_script(
        "const s = JSON.parse(sessionStorage.getItem('mt5c.session')); s.user.role = 'admin';"
        "sessionStorage.setItem('mt5c.session', JSON.stringify(s));"
    )
    page.driver.refresh()
    page.wait(lambda: page.find(badge).get_attribute("data-checked") == "true", "GET /api/me not asked")
    page.wait(lambda: page.positions(), "no positions after the reload")
    assert page.text(badge).split() == ["vera", "viewer"] and page.all("#positions-table button") == []

    # Removed by an admin: the page is back at the login, saying why.
    _users_cli(served, "remove", "vera", "--yes")
    page.wait(lambda: page.visible("#login-form"), "the removed user's page stayed on the dashboard")
    assert "access was revoked" in page.text("#login-error")
    assert page.driver.execute_script("return sessionStorage.getItem('mt5c.session')") is None


def test_a_user_scoped_to_some_accounts_is_not_offered_the_audit_trail_or_the_journal(
    page: Page, served: Served
) -> None:
    """The audit trail and the log name every account: the server refuses them to a scope of some
    accounts (403), so the page hides those tabs instead of showing an error."""
    scope = str(_managed_euro(served))
    _users_cli(served, "add", "sam", "--role", "trader", "--accounts", scope, stdin=VIEWER_PASSWORD + "\n")
    page.open()
    page.wait(lambda: page.visible("#login-user"), "no login form")
    page.find("#login-user").clear()
    page.find("#login-user").send_keys("sam")
    page.log_in(VIEWER_PASSWORD, wait=False)  # the live account is not in its scope: no account header
    badge = "#user-badge"
    page.wait(lambda: page.find(badge).get_attribute("data-checked") == "true", "GET /api/me not asked")
    assert page.find(badge).get_attribute("data-scope") == scope
    shown = [b.text for b in page.all("#toolbox-tabs button") if b.is_displayed()]
    assert "Audit" not in shown and "Journal" not in shown and "Trade" in shown and "Accounts" in shown
    page.wait(lambda: "not one of your accounts" in page.text("#banner"), "the page does not say why")
    assert [t.text for t in page.all("#toasts .toast.error")] == [] and page.text("#audit-result") == ""
    with served.http() as http:  # the server's word, which the page follows
        token = http.post("/api/login", json={"username": "sam", "password": VIEWER_PASSWORD}).json()["token"]
        assert http.get("/api/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    _users_cli(served, "remove", "sam", "--yes")


def test_a_password_change_sends_the_page_back_to_the_login(page: Page, served: Served) -> None:
    page.open()
    page.log_in()
    set_password_cli(served.data_dir, "a new password 2")
    try:
        page.wait(lambda: page.visible("#login-form"), "the page stayed on the dashboard")
        assert "password was changed" in page.text("#login-error")
        assert page.driver.execute_script("return sessionStorage.getItem('mt5c.session')") is None
        page.log_in("a new password 2")
    finally:
        set_password_cli(served.data_dir, PASSWORD)


def test_the_page_reconnects_by_itself_after_a_server_restart(page: Page, served: Served) -> None:
    page.open()
    page.log_in()
    served.stop()
    page.wait(lambda: page.visible("#banner"), "no word of the lost connection")
    assert "reconnecting" in page.text("#banner")
    assert page.connection() == "reconnecting"
    served.start()
    page.wait(lambda: page.connection() == "live", "never reconnected", within_s=120)
    page.wait(lambda: not page.visible("#banner"), "the banner stayed")
    assert any("Reconnected" in t.text for t in page.all(".toast"))
    moving = page.quote_rows()
    page.wait(lambda: any(page.quote_rows().get(s) != b for s, b in moving.items()), "no quotes after it")
    assert page.visible("#app-view")  # the same session: no new login was needed


def test_no_request_leaves_the_origin(page: Page, served: Served) -> None:
    page.open()
    page.log_in()
    page.find('[data-tab="journal"]').click()
    page.find('[data-tab="audit"]').click()
    page.wait(lambda: page.all("#audit-table tbody tr"), "no audit entries")
    urls = page.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(served.url + "/") for u in urls), urls
    transport = page.text("#connection")
    assert transport in ("live (websocket)", "live (polling)")


def test_the_audit_trail_lists_the_login_and_verifies(page: Page) -> None:
    page.open()
    page.log_in()
    page.find('[data-tab="audit"]').click()
    page.wait(lambda: any("api.login" in t.text for t in page.all("#audit-table tbody tr")), "no login entry")
    page.find("#audit-verify").click()
    page.wait(lambda: page.text("#audit-result").startswith("OK"), "the chain was not verified")
    assert "ok" in (page.find("#audit-result").get_attribute("class") or "")


def test_a_managed_account_shows_its_figures_after_a_visit(page: Page, served: Served) -> None:
    _managed_euro(served)
    page.open()
    page.log_in()
    page.find('[data-tab="accounts"]').click()
    row = "#accounts-table tr[data-id] td"
    page.wait(lambda: any("euro (5001002)" == c.text for c in page.all(row)), "the account is not listed")
    sync = next(b for b in page.all("#tab-accounts button") if b.text == "Sync now")
    sync.click()
    page.wait(lambda: "s ago" in page.all(row)[9].text or "min ago" in page.all(row)[9].text, "never visited")
    cells = [c.text for c in page.all(row)]
    assert cells[3] and cells[4] and cells[3] != "—"  # balance and equity from the snapshot
    assert all(cells[i] for i in (5, 6, 7))  # day, week and month P/L
    assert "cycle" in page.text("#carousel-text")


def _managed_euro(served: Served) -> int:
    """The sim's second demo account as a managed account (added once per server): its id."""
    with served.http() as http:
        answer = http.post(
            "/api/accounts",
            headers=_auth(served),
            json={"login": 5001002, "server": "SimBroker-Demo", "password": "Demo-1002", "alias": "euro"},
        )
        assert answer.status_code in (201, 409), answer.text
        listed = http.get("/api/accounts", headers=_auth(served)).json()
    return int(next(a["id"] for a in listed if a["login"] == 5001002))


def _auth(served: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token()}"}
