"""The dashboard as a trader meets it: ``mt5-console --serve --sim`` as a real process (its signing key in
the private Secret Service that scripts/test starts) on a fixed free loopback port, so that it can be
restarted where the page expects it, and Debian's headless Chromium driven by Selenium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.server.auth import set_admin_password
from app.server.dashboard import STATIC_DIR
from tests.browser import chromium
from tests.conftest import app_command, subprocess_env
from tests.support.keyrings import PRIVATE_SECRET_SERVICE_VAR
from tests.support.process import RunningProcess

PASSWORD = "dashboard password 1"  # noqa: S105 - the tests' own
WEDNESDAY = "2026-11-18T09:00:00Z"  # FX markets open
WAIT_S = 60.0  # generous: the machine is shared; every wait ends as soon as its condition holds


def _why_not() -> str | None:
    if os.environ.get(PRIVATE_SECRET_SERVICE_VAR) != "private":
        return (
            "--serve keeps its signing key in the OS keyring: runs only on the private Secret Service "
            "that scripts/test starts (never your own keyring)"
        )
    if not (STATIC_DIR / "index.html").is_file():
        return f"the dashboard is not built ({STATIC_DIR}): run scripts/build-web"
    return chromium.available()


def require_browser() -> None:
    """Under scripts/test (and so CI) a browser test that cannot run fails; a bare pytest skips it."""
    reason = _why_not()
    if reason is None:
        return
    if os.environ.get(PRIVATE_SECRET_SERVICE_VAR) == "private":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """One ``--serve --sim`` process; :meth:`restart` stops it and starts it again on the same port."""

    data_dir: Path
    port: int
    env: dict[str, str]
    scheme: str = "http"
    process: RunningProcess | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = app_command(
            "--serve", "--sim", "--port", str(self.port), "--data-dir", str(self.data_dir), *self.extra
        )
        self.process = RunningProcess(command, self.env)
        line = self.process.wait_for("serving on ", timeout=120)
        assert re.search(rf"serving on {self.scheme}://127\.0\.0\.1:{self.port}", line), line

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            try:
                code = process.stop(signal.SIGTERM, timeout=60)
            finally:
                process.__exit__(None, None, None)  # kills it if it is still there, closes its pipe
            assert code == 0, process.output

    def restart(self) -> None:
        self.stop()
        self.start()

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, verify=False)  # noqa: S501 - the test's own cert

    def token(self, password: str = PASSWORD) -> str:
        with self.http() as http:
            answer = http.post("/api/login", json={"username": "admin", "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])


def start_served(tmp: Path, *, scheme: str = "http", env: dict[str, str] | None = None) -> Served:
    data_dir = tmp / "data"
    data_dir.mkdir()
    set_admin_password(data_dir, PASSWORD)
    served = Served(
        data_dir,
        free_port(),
        subprocess_env(
            MT5C_SIM__START=WEDNESDAY,
            MT5C_MARKET__ACCOUNT_REFRESH_S="0.25",
            MT5C_SERVER__LOGIN_ATTEMPTS="1000",  # every test logs in; the limit has tests of its own
            **(env or {}),
        ),
        scheme,
    )
    served.start()
    return served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser()
    running = start_served(tmp_path_factory.mktemp("dashboard"))
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[Chrome]:
    driver = chromium.start(chromium.DESKTOP)
    yield driver
    driver.quit()


class Page:
    """The dashboard in a browser, read as a person reads it: text on the screen."""

    def __init__(self, driver: Chrome, url: str) -> None:
        self.driver = driver
        self.url = url

    def wait(self, condition: Callable[[], Any], message: str, within_s: float = WAIT_S) -> Any:
        def attempt(_: Chrome) -> Any:
            try:
                return condition()
            except (StaleElementReferenceException, WebDriverException):
                return False

        return WebDriverWait(self.driver, within_s, poll_frequency=0.1).until(attempt, message)

    def find(self, css: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str) -> str:
        return str(self.find(css).text)

    def visible(self, css: str) -> bool:
        found = self.all(css)
        return bool(found) and bool(found[0].is_displayed())

    def open(self) -> None:
        self.driver.get(self.url + "/")
        self.wait(lambda: self.visible("#login-form") or self.visible("#app-view"), "the page did not load")

    def log_in(self, password: str = PASSWORD, *, wait: bool = True) -> None:
        self.wait(lambda: self.visible("#login-password"), "no login form")
        field = self.find("#login-password")
        field.clear()
        field.send_keys(password)
        self.find("#login-submit").click()
        if wait:
            self.wait_dashboard()

    def wait_dashboard(self) -> None:
        self.wait(lambda: self.visible("#app-view"), "the dashboard did not open")
        self.wait(lambda: self.text("#account-number") == "5001001", "no live account number")
        self.wait(lambda: len(self.quote_rows()) >= 3, "no quotes in Market Watch")
        self.wait(lambda: self.connection() == "live", "the socket is not live")

    def connection(self) -> str:
        """The connection indicator's state: connecting, live or reconnecting."""
        return str(self.find("#connection").get_attribute("data-state"))

    def quote_rows(self) -> dict[str, str]:
        """Market Watch: symbol -> the bid on the screen."""
        rows = {}
        for tr in self.all("#quotes-table tbody tr"):
            cells = tr.find_elements(By.CSS_SELECTOR, "td")
            if len(cells) >= 2 and cells[1].text:
                rows[cells[0].text] = cells[1].text
        return rows

    def positions(self) -> dict[str, list[str]]:
        """The Trade tab's positions: ticket -> the row's cells as shown."""
        table: dict[str, list[str]] = {}
        for tr in self.all("#positions-table tbody tr"):
            cells = [td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")]
            if cells:
                table[cells[0]] = cells
        return table

    def problems(self) -> list[str]:
        """Console errors and CSP violations (a refused API call the test caused on purpose aside)."""
        return chromium.console_problems(self.driver)


@pytest.fixture
def page(browser: Chrome, served: Served) -> Page:
    return Page(browser, served.url)


def set_password_cli(data_dir: Path, password: str) -> None:
    """``mt5-console server set-password`` as a user runs it (which revokes every token)."""
    result = subprocess.run(
        app_command("server", "set-password", "--data-dir", str(data_dir)),
        input=password + "\n",
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
