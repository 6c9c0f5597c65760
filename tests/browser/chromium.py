"""Debian's Chromium, driven by Selenium through Debian's chromedriver: headless, never a downloaded
browser (both paths are given, so Selenium Manager has nothing to fetch)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path(os.environ.get("MT5C_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("MT5C_CHROMEDRIVER", "/usr/bin/chromedriver"))
DESKTOP = (1440, 900)
PHONE = (390, 844)


def available() -> str | None:
    """Why the browser cannot run here (None: it can)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file() and shutil.which(path.name) is None:
            return f"{path} is missing (Debian: chromium, chromium-driver; scripts/test installs them)"
    return None


def start(
    size: tuple[int, int] = DESKTOP, *, mobile: bool = False, insecure_certs: bool = False
) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-renderer-backgrounding",
        "--disable-background-timer-throttling",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(arg)
    if mobile:
        options.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 1.0, "touch": True}},
        )
    options.accept_insecure_certs = insecure_certs
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    if not mobile:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False},
        )
    return driver


# Chromium logs every 4xx answer of a fetch; the page shows those refusals itself (an order ticket's
# verdict while the trader types, say), so they are not problems of the page.
REFUSED_API_CALL = re.compile(r"/api/\S* - Failed to load resource: the server responded with a status of 4")


def console_problems(driver: webdriver.Chrome) -> list[str]:
    """The page's console errors and CSP violations since the last call."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if (entry.get("level") == "SEVERE" or "Content Security Policy" in entry.get("message", ""))
        and not REFUSED_API_CALL.search(entry.get("message", ""))
    ]
