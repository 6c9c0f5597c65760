"""The window under a tick storm: event-loop lag, frame time, tick-to-screen latency, memory.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/bench_gui.py \
        [--rounds 3] [--seconds 60] [--soak-minutes 30] [--storm 50] [--out results.json]
        [--one-click] [--clicks 100] [--dom [SYMBOL]]

The app runs as in window mode (``Runtime`` + ``MainWindow`` on a qasync loop), on the simulator
with its clock on a weekday so that every symbol ticks, logged in to the default demo account (it
has open positions: the Trade tab is populated). Four charts of 5,000 bars are tiled so all four
paint (EURUSD M1 + SMA, GBPUSD M5 + Bollinger, XAUUSD M15 + RSI, USDJPY H1 + MACD), the Trade tab is
open, and the trade server storms ``--storm`` ticks/s on each of the 8 Market Watch symbols.

Measured, per round of ``--seconds`` (medians over ``--rounds`` are printed):

* event-loop lag: how late a 10 ms precise Qt timer fires (what a click would wait for);
* frame time: one bridge drain (hub → models → items) plus the chart paints until the next drain;
* paint time of one chart view;
* tick-to-screen latency: when a chart view finishes painting, wall time minus the server time of
  the newest tick it shows (the server-to-wall clock offset is measured over 20 round trips);
* RSS after warm-up, then sampled every minute of the soak (``--soak-minutes``) to its end.

``--one-click`` shows the one-click panel on every chart; ``--dom`` opens a Depth of Market window
(EURUSD unless a symbol is named) that reads the book at display rate throughout, so the figures are
those of a window "with the one-click panel and a DOM window open" (its book reads per second are
reported, to show it was live).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import qasync
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.core.indicators import IndicatorKind, IndicatorSpec  # noqa: E402
from app.logs import setup_logging  # noqa: E402
from app.models import Timeframe  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.runtime import build_runtime  # noqa: E402
from app.ui.main_window import MainWindow, WindowServices  # noqa: E402
from app.ui.theme import apply_theme  # noqa: E402

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD"]
WEEKDAY_START = "2026-11-18T09:00:00Z"
CHARTS = [
    ("EURUSD", Timeframe.M1, [IndicatorSpec(IndicatorKind.SMA, {"period": 20})]),
    ("GBPUSD", Timeframe.M5, [IndicatorSpec(IndicatorKind.BBANDS)]),
    ("XAUUSD", Timeframe.M15, [IndicatorSpec(IndicatorKind.RSI)]),
    ("USDJPY", Timeframe.H1, [IndicatorSpec(IndicatorKind.MACD)]),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Recorder:
    """Collects the figures of one round from Qt callbacks (all on the GUI thread)."""

    def __init__(self, offset_ms: float) -> None:
        self.offset_ms = offset_ms
        self.lags: list[float] = []
        self.frames: list[float] = []
        self.paints: list[float] = []
        self.latencies: list[float] = []
        self._last_beat = time.perf_counter()
        self._pending_drain: float | None = None
        self._paint_sum = 0.0
        self.gc_pauses: list[tuple[int, float]] = []
        self._gc_started = 0.0

    def gc_callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))

    def beat(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, now - self._last_beat - 0.010))
        self._last_beat = now

    def drained(self, seconds: float) -> None:
        if self._pending_drain is not None:
            self.frames.append(self._pending_drain + self._paint_sum)
        self._pending_drain, self._paint_sum = seconds, 0.0

    def painted(self, seconds: float, tick_msc: int) -> None:
        self.paints.append(seconds)
        self._paint_sum += seconds
        if tick_msc:
            self.latencies.append(time.time() * 1000 - self.offset_ms - tick_msc)

    def summary(self) -> dict[str, float]:
        def pct(values: list[float], q: float, scale: float = 1000.0) -> float:
            return float(np.percentile(values, q)) * scale if values else float("nan")

        return {
            "lag_p50_ms": pct(self.lags, 50),
            "lag_p99_ms": pct(self.lags, 99),
            "lag_max_ms": pct(self.lags, 100),
            "frame_p50_ms": pct(self.frames, 50),
            "frame_p95_ms": pct(self.frames, 95),
            "paint_p95_ms": pct(self.paints, 95),
            "frames_per_s": 0.0,
            "tick_to_screen_p50_ms": pct(self.latencies, 50, 1.0),
            "tick_to_screen_p99_ms": pct(self.latencies, 99, 1.0),
            "gc_pauses": float(len(self.gc_pauses)),
            "gc_max_ms": max((p for _g, p in self.gc_pauses), default=0.0) * 1000,
        }


async def one_click_latency(window: MainWindow, clicks: int) -> dict[str, float]:
    """Click → order done at the terminal: a real click on a chart's one-click BUY or SELL (0.01
    lots, in turn) until the trading service has the terminal's DONE (the position exists there)."""
    chart = window.charts.charts[0]
    panel = chart.one_click_panel
    if panel is None:
        raise RuntimeError("--clicks needs --one-click")
    panel.volume.setValue(0.01)
    loop = asyncio.get_running_loop()
    times: list[float] = []
    done = asyncio.Event()
    answered = chart._one_click_done  # noqa: SLF001 - the chart's own callback, observed

    def finished(result: Any, reason: str) -> None:
        answered(result, reason)
        done.set()

    chart._one_click_done = finished  # type: ignore[method-assign]  # noqa: SLF001
    for i in range(clicks):
        chart.last_one_click = None
        done.clear()
        button = panel.buy_button if i % 2 == 0 else panel.sell_button
        started: list[float] = []

        def press(target: Any = button, at: list[float] = started) -> None:
            at.append(time.perf_counter())
            QTest.mouseClick(target, Qt.MouseButton.LeftButton)

        loop.call_soon(press)
        await done.wait()
        assert chart.last_one_click is not None  # noqa: S101 - set by the callback
        result, reason = chart.last_one_click
        if result is None:
            raise RuntimeError(f"one-click refused: {reason}")
        times.append((time.perf_counter() - started[0]) * 1000)
        await asyncio.sleep(0.25)  # under the order-rate limit (5/s): a trader's pace
    return {
        "clicks": float(clicks),
        "p50_ms": float(np.percentile(times, 50)),
        "p99_ms": float(np.percentile(times, 99)),
        "max_ms": max(times),
    }


async def open_dom(window: MainWindow, symbol: str, within_s: float = 60.0) -> list[int]:
    """The symbol's Depth of Market window, open as a trader opens it (Alt+B's action), once it
    shows a book; the list returned grows by one each time it shows one (how live it is)."""
    depth = window.open_depth(symbol)
    if depth is None:
        raise RuntimeError(f"no Depth of Market window for {symbol}")
    reads: list[int] = []
    show_book = depth.show_book

    def counted(book: Any) -> None:
        reads.append(len(book.levels))
        show_book(book)

    depth.show_book = counted  # type: ignore[method-assign]  # observed, as the one-click callback is
    deadline = time.monotonic() + within_s
    while not reads:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {symbol} Depth of Market window showed no book")
        await asyncio.sleep(0.1)
    return reads


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    settings = load_settings(
        {
            "data_dir": data_dir,
            "terminals": {"sim": True},
            "sim": {"start": WEEKDAY_START},
            "logging": {"level": "WARNING"},
            "market": {"symbols": SYMBOLS},
        },
        env_file=None,
    )
    log_bus = setup_logging(settings.logging, data_dir)
    runtime = build_runtime(settings, log_bus)
    window = MainWindow(WindowServices.from_runtime(runtime))
    window.charts.bars_per_chart = args.bars
    window.resize(1600, 1000)
    window.show()
    window.start()
    await runtime.start()
    assert runtime.sim_server is not None
    for symbol, timeframe, indicators in CHARTS:
        window.charts.open_chart(symbol, timeframe, indicators)
    window.charts.tile()
    window.toolbox.show_tab("Trade")
    if args.one_click:  # the risk acknowledged as a trader would, the panel on every chart
        window.one_click.acknowledged = True
        for chart in window.charts.charts:
            chart.set_one_click(True)
    deadline = time.monotonic() + 120
    while not all(c.model.loaded for c in window.charts.charts):
        if time.monotonic() > deadline:
            raise RuntimeError("charts did not load")
        await asyncio.sleep(0.2)
    loaded = [len(c.model.buffer) for c in window.charts.charts]
    dom_reads = await open_dom(window, args.dom) if args.dom else None
    result: dict[str, Any] = {
        "bars_per_chart": loaded,
        "storm_per_symbol": args.storm,
        "symbols": len(SYMBOLS),
    }
    if args.clicks:
        result["one_click"] = await one_click_latency(window, args.clicks)
        print("one-click:", json.dumps(result["one_click"]), flush=True)
    admin = SimAdmin(runtime.sim_server.address)
    admin.storm(args.storm, SYMBOLS)
    await asyncio.sleep(args.warmup)
    result["load_before"] = os.getloadavg()
    result["positions_in_trade_tab"] = window.trade_model.rowCount()
    rounds = []
    for _ in range(args.rounds):
        recorder = Recorder(admin.clock_offset_ms())
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(recorder.beat)
        window.bridge.drained.connect(recorder.drained)
        for chart in window.charts.charts:
            chart.view.probe = recorder.painted
        gc.callbacks.append(recorder.gc_callback)
        ticks_before = runtime.market_data.ticks_received
        dom_before = len(dom_reads) if dom_reads is not None else 0
        started = time.perf_counter()
        timer.start(10)
        await asyncio.sleep(args.seconds)
        timer.stop()
        elapsed = time.perf_counter() - started
        window.bridge.drained.disconnect(recorder.drained)
        gc.callbacks.remove(recorder.gc_callback)
        for chart in window.charts.charts:
            chart.view.probe = None
        summary = recorder.summary()
        summary["frames_per_s"] = len(recorder.frames) / elapsed
        summary["ticks_per_s"] = (runtime.market_data.ticks_received - ticks_before) / elapsed
        summary["dom_books_per_s"] = (len(dom_reads) - dom_before) / elapsed if dom_reads is not None else 0.0
        rounds.append(summary)
        print("round:", json.dumps({k: round(v, 2) for k, v in summary.items()}), flush=True)
    result["rounds"] = rounds
    result["median"] = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    result["rss_after_warmup_mb"] = rss_mb()
    samples = [(0.0, result["rss_after_warmup_mb"])]
    soak_start = time.monotonic()
    while time.monotonic() - soak_start < args.soak_minutes * 60:
        await asyncio.sleep(min(60.0, args.soak_minutes * 60 - (time.monotonic() - soak_start)))
        samples.append(((time.monotonic() - soak_start) / 60, rss_mb()))
        print(f"soak {samples[-1][0]:.1f} min: RSS {samples[-1][1]:.1f} MB", flush=True)
    result["rss_samples_mb"] = samples
    result["rss_end_mb"] = samples[-1][1]
    result["rss_growth_mb"] = samples[-1][1] - samples[0][1]
    result["load_after"] = os.getloadavg()
    result["bars_per_chart_end"] = [len(c.model.buffer) for c in window.charts.charts]
    admin.storm(0)
    admin.close()
    await window.shutdown()
    window.close()
    await runtime.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--storm", type=float, default=50.0)
    parser.add_argument("--bars", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--one-click", action="store_true", help="the one-click panel on every chart")
    parser.add_argument("--clicks", type=int, default=0, help="measure click -> order done, this many times")
    parser.add_argument(
        "--dom",
        nargs="?",
        const="EURUSD",
        default=None,
        metavar="SYMBOL",
        help="a Depth of Market window open for SYMBOL (EURUSD) during the run",
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        result = runner.run(run(args))
    median = result["median"]
    print(
        f"median of {args.rounds} x {args.seconds:g}s, storm {args.storm:g}/s x {len(SYMBOLS)} symbols, "
        f"4 charts of {result['bars_per_chart']} bars, Trade tab {result['positions_in_trade_tab']} rows:\n"
        f"  event-loop lag p50 {median['lag_p50_ms']:.1f} ms, p99 {median['lag_p99_ms']:.1f} ms\n"
        f"  frame time p50 {median['frame_p50_ms']:.2f} ms, p95 {median['frame_p95_ms']:.2f} ms "
        f"({median['frames_per_s']:.0f} frames/s); one chart's paint p95 {median['paint_p95_ms']:.2f} ms\n"
        f"  tick-to-screen p50 {median['tick_to_screen_p50_ms']:.1f} ms, "
        f"p99 {median['tick_to_screen_p99_ms']:.1f} ms\n"
        f"  RSS after warm-up {result['rss_after_warmup_mb']:.1f} MB, "
        f"at the end {result['rss_end_mb']:.1f} MB "
        f"(growth {result['rss_growth_mb']:+.1f} MB over {args.soak_minutes:g} min)\n"
        f"  load average before {result['load_before']}, after {result['load_after']}"
        + (f"\n  Depth of Market {args.dom}: {median['dom_books_per_s']:.1f} books/s" if args.dom else "")
    )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
