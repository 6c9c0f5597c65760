"""Benchmark of the web dashboard in Debian's headless Chromium against ``mt5-console --serve --sim``.

* **First paint after login**: from the click on "Log in" (the page's ``mt5c:login`` mark) to the frame
  after the live account and the first quotes are on the page (``mt5c:dashboard``), on loopback; with
  a cold browser cache and again with a warm one (a second login in the same browser). Also the page's
  own load (navigation timing) and the bytes it transfers.
* **Tick-to-DOM latency** while the trade server storms 8 symbols × 50 ticks/s (``SimAdmin.storm``):
  a MutationObserver on Market Watch sees each row's ``data-time`` (the tick's server time) change;
  latency = the browser's wall clock then − (tick time + the wall/server clock offset). Market Watch
  draws once per frame (the latest quote per symbol), so this is the age of what the trader sees.

    bash -c 'source scripts/lib.sh; with_test_keyring .venv/bin/python bench/bench_dashboard.py'
    ... bench_dashboard.py --rounds 5 --seconds 20

The server keeps its signing key in the OS keyring: run it inside ``with_test_keyring`` (a private one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.mt5.sim.claim import running_server  # noqa: E402
from tests.browser import chromium  # noqa: E402
from tests.browser.conftest import Page, start_served  # noqa: E402

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD"]

OBSERVE = """
window.__lat = []; window.__longtasks = 0;
const offset = arguments[0];
new PerformanceObserver((l) => { window.__longtasks += l.getEntries().length; })
  .observe({ type: 'longtask', buffered: false });
new MutationObserver((records) => {
  const now = Date.now();
  for (const r of records) {
    const t = Number(r.target.dataset.time);
    if (t) window.__lat.push([r.target.dataset.symbol, now - (t + offset)]);
  }
}).observe(document.querySelector('#quotes-table tbody'),
           { attributes: true, subtree: true, attributeFilter: ['data-time'] });
"""

MARKS = """
const m = Object.fromEntries(performance.getEntriesByType('mark').map(e => [e.name, e.startTime]));
const login = performance.getEntriesByType('resource').find(e => e.name.endsWith('/api/login'));
return m['mt5c:dashboard'] && m['mt5c:chart'] && login ? {...m, answer: login.responseEnd} : null;
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


def first_paint(page: Page) -> dict[str, float]:
    """Milliseconds from the click: to the login's answer, to the first paint, to the chart drawn."""
    page.driver.execute_script("performance.clearResourceTimings()")
    page.log_in()
    marks = page.wait(
        lambda: page.driver.execute_script(MARKS),
        "no first-paint mark",
    )
    start = marks["mt5c:login"]
    return {
        "login": marks["answer"] - start,
        "paint": marks["mt5c:dashboard"] - start,
        "chart": marks["mt5c:chart"] - start,
    }


def log_out(page: Page) -> None:
    page.find("#logout").click()
    page.wait(lambda: page.visible("#login-form"), "no login form after logging out")


def page_load(page: Page) -> dict[str, float]:
    timing = page.driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "const r = performance.getEntriesByType('resource');"
        "return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
        " bytes: n.transferSize + r.filter(e => e.name.includes('/assets/'))"
        "   .reduce((s, e) => s + e.transferSize, 0)};"
    )
    return {k: float(v) for k, v in timing.items()}


def bench_first_paint(url: str, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"dom_ms": [], "load_ms": [], "bytes": []}
    for _ in range(rounds):
        driver = chromium.start(chromium.DESKTOP)
        try:
            page = Page(driver, url)
            page.open()
            for key, value in page_load(page).items():
                results[f"{key}_ms" if key != "bytes" else key].append(value)
            for cache in ("cold", "warm"):
                if cache == "warm":
                    log_out(page)
                for key, value in first_paint(page).items():
                    results.setdefault(f"{cache}_{key}_ms", []).append(value)
        finally:
            driver.quit()
    return results


def bench_storm(url: str, admin: SimAdmin, rate: float, seconds: float) -> dict[str, Any]:
    driver = chromium.start(chromium.DESKTOP)
    try:
        page = Page(driver, url)
        page.open()
        page.log_in()
        page.find('#quotes-table tr[data-symbol="EURUSD"]').click()  # the chart follows a storming symbol
        admin.storm(rate, SYMBOLS)
        time.sleep(2.0)  # the storm under way
        driver.execute_script(OBSERVE, admin.clock_offset_ms())
        time.sleep(seconds)
        samples = driver.execute_script("return window.__lat")
        longtasks = int(driver.execute_script("return window.__longtasks"))
        admin.storm(0)
    finally:
        driver.quit()
    latencies = [float(ms) for _, ms in samples]
    per_symbol = {s: sum(1 for sym, _ in samples if sym == s) / seconds for s in SYMBOLS}
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "updates_per_s": len(latencies) / seconds,
        "min_symbol_updates_per_s": min(per_symbol.values()),
        "long_tasks": longtasks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--storm", type=float, default=50.0, help="ticks/s per symbol")
    args = parser.parse_args()
    reason = chromium.available()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory() as tmp:
        served = start_served(Path(tmp))
        try:
            info = running_server(served.data_dir / "sim")
            assert info is not None, "no sim trade server on the data dir"
            admin = SimAdmin(info.address)
            paint = bench_first_paint(served.url, args.rounds)
            storms = [bench_storm(served.url, admin, args.storm, args.seconds) for _ in range(args.rounds)]
        finally:
            served.stop()
    med = {k: statistics.median(v) for k, v in paint.items()}
    print(f"page load: DOMContentLoaded {med['dom_ms']:.0f} ms, load {med['load_ms']:.0f} ms, "
          f"{med['bytes'] / 1024:.0f} KiB transferred (median of {args.rounds})")  # fmt: skip
    for cache in ("cold", "warm"):
        what = "first login of a fresh browser" if cache == "cold" else "again"
        print(f"after the click on Log in, {cache} ({what}): "
              f"login answer {med[f'{cache}_login_ms']:.0f} ms, "
              f"first paint {med[f'{cache}_paint_ms']:.0f} ms, "
              f"chart drawn {med[f'{cache}_chart_ms']:.0f} ms")  # fmt: skip
    keys = storms[0].keys()
    smed = {k: statistics.median(s[k] for s in storms) for k in keys}
    print(f"tick-to-DOM at {len(SYMBOLS)} symbols x {args.storm:g} ticks/s (median of {args.rounds} x "
          f"{args.seconds:g} s): p50 {smed['p50_ms']:.1f} ms, p99 {smed['p99_ms']:.1f} ms, "
          f"{smed['updates_per_s']:.0f} row updates/s (slowest symbol "
          f"{smed['min_symbol_updates_per_s']:.0f}/s), {smed['long_tasks']:.0f} long tasks")  # fmt: skip
    for i, s in enumerate(storms, 1):
        print(f"  round {i}: " + ", ".join(f"{k}={v:.1f}" for k, v in s.items()))


if __name__ == "__main__":
    main()
