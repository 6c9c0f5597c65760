"""The dashboard's Signals feed in a real headless Chromium against a real ``--serve --sim``: a signal
arrives (posted to the API as a bot would), shows up live as pending with its validator chain, and a
click on Approve turns it into a position in the Trade tab; a rejected one places nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import Page, Served
from tests.browser.test_layout import shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.keyring]


def _post_signal(served: Served, **fields: object) -> dict[str, object]:
    with served.http() as http:
        answer = http.post("/api/signals", json=fields, headers={"Authorization": f"Bearer {served.token()}"})
    assert answer.status_code == 200, answer.text
    record: dict[str, object] = answer.json()
    return record


def _tickets(served: Served) -> set[str]:
    with served.http() as http:
        answer = http.get("/api/positions", headers={"Authorization": f"Bearer {served.token()}"})
    return {str(p["ticket"]) for p in answer.json()}


def _open_signals(page: Page) -> None:
    page.open()
    page.log_in()
    page.find('[data-tab="signals"]').click()
    page.wait(lambda: page.visible("#signals-table"), "no Signals tab")


def _row(page: Page, sid: str) -> str:
    return f'#signals-table tr[data-uuid="{sid}"]'


def test_a_signal_arrives_live_and_approved_becomes_a_position(
    page: Page, served: Served, tmp_path: Path
) -> None:
    _open_signals(page)
    sid = f"browser-{uuid.uuid4().hex[:8]}"
    before = _tickets(served)
    posted = _post_signal(
        served, uuid=sid, symbol="EURUSD", side="buy", volume=0.04, source="desk", confidence=0.75
    )
    assert posted["status"] == "pending"
    row = _row(page, sid)
    page.wait(lambda: page.visible(row), "the signal did not arrive on the page")  # over the socket
    page.wait(lambda: page.find(row).get_attribute("data-status") == "pending", "not shown as pending")
    cells = [c.text for c in page.all(f"{row} td")]
    assert cells[1:7] == ["EURUSD", "buy", "0.04", "desk", "0.75", "pending"]
    page.find(row).click()  # its validator chain
    page.wait(lambda: "Validators of EURUSD buy" in page.text("#signal-chain"), "no chain shown")
    assert "✓ risk (risk)" in page.text("#signal-chain")
    page.find(f'{row} button[data-action="approve"]').click()
    page.wait(
        lambda: page.find(row).get_attribute("data-status") == "executed", "the approval was not carried out"
    )
    ticket = page.all(f"{row} td")[7].text
    assert ticket and not page.all(f"{row} button")  # decided: no buttons any more
    assert "✓ person (manual)" in page.text("#signal-chain")
    shoot(page, tmp_path / "dashboard-signals-1440x900.png")  # SCREENSHOT_DIR=dir keeps it
    page.find('[data-tab="trade"]').click()
    page.wait(lambda: ticket in page.positions(), "the position is not in the Trade tab")
    assert _tickets(served) - before == {ticket}
    assert page.positions()[ticket][1:4] == ["EURUSD", "buy", "0.04"]
    assert page.problems() == []


def test_a_rejected_signal_places_nothing(page: Page, served: Served) -> None:
    _open_signals(page)
    sid = f"browser-no-{uuid.uuid4().hex[:8]}"
    _post_signal(served, uuid=sid, symbol="GBPUSD", side="sell", volume=0.02)
    row = _row(page, sid)
    page.wait(lambda: page.visible(f'{row} button[data-action="reject"]'), "no Reject button")
    before = _tickets(served)
    page.find(f'{row} button[data-action="reject"]').click()
    page.wait(lambda: page.find(row).get_attribute("data-status") == "rejected", "not shown as rejected")
    select = page.find("#signals-filter")
    select.send_keys("rejected")
    page.wait(lambda: page.visible(row), "the filter hides the rejected signal")
    assert _tickets(served) == before
    assert page.problems() == []
