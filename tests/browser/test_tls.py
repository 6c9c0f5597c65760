"""The dashboard over TLS (``server.tls_cert``/``tls_key``, here a self-signed certificate made for the
test): the page, its REST calls and its socket (WSS) all work on the https origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import chromium
from tests.browser.conftest import Page, Served, require_browser, start_served
from tests.support.tls import self_signed

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.keyring]


@pytest.fixture(scope="module")
def served_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser()
    tmp = tmp_path_factory.mktemp("dashboard-tls")
    cert, key = self_signed(tmp)
    running = start_served(
        tmp, scheme="https", env={"MT5C_SERVER__TLS_CERT": str(cert), "MT5C_SERVER__TLS_KEY": str(key)}
    )
    yield running
    running.stop()


def test_the_dashboard_works_under_tls(served_tls: Served) -> None:
    driver = chromium.start(chromium.DESKTOP, insecure_certs=True)  # the test's own certificate
    try:
        page = Page(driver, served_tls.url)
        page.open()
        assert driver.execute_script("return window.isSecureContext && location.protocol") == "https:"
        page.log_in()
        page.wait(lambda: page.text("#connection") == "live (websocket)", "no WSS connection")
        first = page.quote_rows()
        page.wait(lambda: any(page.quote_rows().get(s) != b for s, b in first.items()), "no quote moved")
        urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(served_tls.url + "/") for u in urls), urls
        assert page.problems() == []
    finally:
        driver.quit()
