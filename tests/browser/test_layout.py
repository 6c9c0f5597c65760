"""The dashboard at a laptop's 1440×900 and a phone's 390×844: everything on screen, nothing wider than
the screen, no script error. The screenshots are kept (``SCREENSHOT_DIR=dir`` to keep them elsewhere)
so that a person can look at them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.browser.conftest import Page, Served

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.keyring]
KEEP = os.environ.get("SCREENSHOT_DIR")


def shoot(page: Page, path: Path) -> None:
    assert page.driver.save_screenshot(str(path))
    if KEEP:
        Path(KEEP).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(KEEP) / path.name)


def overflow(page: Page) -> int:
    """How far the page is wider than the screen, in CSS pixels."""
    return int(page.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth"))


def test_a_laptop_screen_shows_the_whole_dashboard(served: Served, tmp_path: Path) -> None:
    driver = chromium.start(chromium.DESKTOP)
    try:
        page = Page(driver, served.url)
        page.open()
        shoot(page, tmp_path / "dashboard-login-1440x900.png")
        page.log_in()
        page.find('#quotes-table tr[data-symbol="EURUSD"]').click()
        page.wait(lambda: page.find("#chart").get_attribute("data-symbol") == "EURUSD", "no EURUSD chart")
        page.find(".menu summary").click()
        for kind in ("sma", "bbands", "rsi"):
            page.find(f'input[data-indicator="{kind}"]').click()
        page.find(".menu summary").click()
        page.wait(lambda: page.positions(), "no positions")
        assert overflow(page) <= 0
        for css in ("#totals", "#market-watch", "#chart", "#order-form", "#positions-table"):
            box = page.find(css).rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1440 and box["y"] < 900, (css, box)
        shoot(page, tmp_path / "dashboard-1440x900.png")
        assert page.problems() == []
    finally:
        driver.quit()


def test_a_phone_screen_stacks_the_dashboard(served: Served, tmp_path: Path) -> None:
    driver = chromium.start(chromium.PHONE, mobile=True)
    try:
        page = Page(driver, served.url)
        page.open()
        assert driver.execute_script("return window.innerWidth") == 390
        page.log_in()
        assert overflow(page) <= 0
        for css in ("#account-header", "#totals", "#market-watch", "#chart", "#order-form"):
            box = page.find(css).rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (css, box)
        shoot(page, tmp_path / "dashboard-390x844.png")
        driver.execute_script("document.querySelector('#chart-panel').scrollIntoView()")
        shoot(page, tmp_path / "dashboard-390x844-chart.png")
        assert page.problems() == []
    finally:
        driver.quit()
