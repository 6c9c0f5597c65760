"""Strategies on the live bars: the built-ins' calls, one signal per closed bar on the simulator's bars
as a manual clock is advanced (the same signals every run, and those an independent TA-Lib reading
of the same closes expects), plugins from a folder, and a checked, audited strategy book."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import app.mt5.sim as sim_module
from app.audit import AuditQuery, AuditReader, AuditTrail, audit_dir
from app.config import AuditSettings
from app.core.bars import LiveBar
from app.core.hub import EventHub
from app.core.signals.strategies import Bars, BollingerBreakout, RsiThreshold, SmaCross, discover
from app.core.signals.strategy_runner import StrategyBook, StrategyError, StrategyRunner
from app.core.storage import Database, database_path
from app.models import Bar, BarSeries, Timeframe
from app.models.signals import Signal, SignalMode, StrategyConfig
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.server import serve_in_thread
from app.mt5.terminal_ops import TerminalOps

WEDNESDAY_10 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def bars_of(closes: list[float]) -> Bars:
    return Bars.of([Bar(60 * i, c, c, c, c) for i, c in enumerate(closes)])


def calls(strategy: Any, closes: list[float]) -> list[tuple[int, str]]:
    """(bar index, call) as each bar closes."""
    out = []
    for i in range(1, len(closes) + 1):
        call = strategy.on_bar(bars_of(closes[:i]))
        if call:
            out.append((i - 1, call))
    return out


def test_sma_cross_buys_on_the_cross_up_and_sells_on_the_cross_down() -> None:
    closes = (
        [10.0 - 0.1 * i for i in range(20)]
        + [8.0 + 0.3 * i for i in range(15)]
        + [12.5 - 0.4 * i for i in range(15)]
    )
    found = calls(SmaCross(fast=3, slow=8), closes)
    assert [c for _, c in found] == ["buy", "sell"]
    assert 20 < found[0][0] < 35 < found[1][0]


def test_rsi_threshold_buys_out_of_oversold_and_sells_out_of_overbought() -> None:
    closes = (
        [100.0 - i for i in range(20)]
        + [80.0 + 2 * i for i in range(20)]
        + [120.0 - 3 * i for i in range(10)]
    )
    found = calls(RsiThreshold(period=5, lower=30, upper=70), closes)
    assert [c for _, c in found] == ["buy", "sell"]


def test_bollinger_breakout_calls_the_bar_that_closes_outside_the_band() -> None:
    closes = [1.0 + 0.001 * (i % 2) for i in range(30)] + [1.02]
    assert calls(BollingerBreakout(period=20, deviations=2), closes) == [(30, "buy")]


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        SmaCross(fast=30, slow=10)


# ----------------------------------------------------------------------------- on the simulator's bars


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[TerminalOps, ManualClock]]:
    clock = ManualClock(WEDNESDAY_10)
    with serve_in_thread(clock=clock, demo_history=False) as server:
        module: ModuleType = sim_module
        assert module.initialize(f"sim://{server.address}/strategies", login=5001006, password="Demo-1006",
                                 server="SimBroker-Demo")  # fmt: skip
        try:
            yield TerminalOps(module), clock
        finally:
            module.shutdown()


class SimBars:
    """The market data a runner needs, read from the simulator in this process."""

    def __init__(self, ops: TerminalOps) -> None:
        self.ops = ops
        self.watched: list[tuple[str, Timeframe]] = []

    async def watch_bars(self, symbol: str, timeframe: Timeframe) -> None:
        self.watched.append((symbol, timeframe))

    def unwatch_bars(self, symbol: str, timeframe: Timeframe) -> None:
        self.watched.remove((symbol, timeframe))

    async def bars(self, symbol: str, timeframe: Timeframe, count: int) -> BarSeries:
        return self.ops.rates_from_pos(symbol, timeframe, 0, count)

    def live_bar(self, symbol: str, timeframe: Timeframe) -> LiveBar:
        live = LiveBar(symbol, timeframe, 0.00001)
        series = self.ops.rates_from_pos(symbol, timeframe, 0, 1)
        live.current = series.bar(len(series) - 1)
        return live


@pytest.fixture
async def book(tmp_path: Path) -> AsyncIterator[StrategyBook]:
    db = Database(database_path(tmp_path))
    audit = AuditTrail.for_data_dir(tmp_path, AuditSettings())
    await audit.start()
    await db.start()
    try:
        yield StrategyBook(db, audit, kinds=discover(None))
    finally:
        await db.stop()
        await audit.stop()


async def _run_minutes(
    book: StrategyBook, ops: TerminalOps, clock: ManualClock, minutes: int
) -> tuple[list[Signal], list[float]]:
    """Advance the sim a minute at a time; each closed M1 bar goes to the runner as the hub would."""
    taken: list[tuple[Signal, dict[str, Any]]] = []

    async def submit(signal: Signal, **options: Any) -> None:
        taken.append((signal, options))

    runner = StrategyRunner(book, EventHub(), SimBars(ops), submit)
    await runner.sync()
    closes: list[float] = []
    last = 0
    for _ in range(minutes):
        clock.advance(60)
        # A bar is closed once a newer one exists (as the live bar sees it): those since the last.
        recent = ops.rates_from_pos("EURUSD", Timeframe.M1, 0, 5)
        for i in range(len(recent) - 1):
            closed = recent.bar(i)
            if closed.time > last:
                last = closed.time
                closes.append(closed.close)
                await runner.on_closed_bar("EURUSD", Timeframe.M1, closed)
                await runner.on_closed_bar("EURUSD", Timeframe.M1, closed)  # delivered twice: seen once
    assert all(options == {"mode": SignalMode.AUTO, "actor": "strategy:sma-eu"} for _, options in taken)
    for sid in list(runner._running):  # noqa: SLF001 - stop watching, as stop() would
        runner._deactivate(sid)  # noqa: SLF001
    return [s for s, _ in taken], closes


async def test_a_strategy_on_the_sims_bars_emits_the_expected_signals_deterministically(
    sim: tuple[TerminalOps, ManualClock], book: StrategyBook
) -> None:
    ops, clock = sim
    config = StrategyConfig(
        "sma-eu", "sma_cross", "EURUSD", "M1", {"fast": 3, "slow": 7}, True, SignalMode.AUTO, 0.02
    )
    await book.put(config, actor="test")
    start = clock.now_ms()
    signals, closes = await _run_minutes(book, ops, clock, 240)
    assert signals, "four hours of EURUSD minutes without one SMA(3)/SMA(7) cross"
    # What an independent reading of the same bars says: the crosses of SMA(3) over SMA(7).
    history = ops.rates_from_pos("EURUSD", Timeframe.M1, 1, len(closes) + 500)
    all_closes = np.asarray(history.close, dtype=np.float64)
    n = len(closes)

    def sma(n: int, i: int) -> float:
        return float(np.mean(all_closes[i - n + 1 : i + 1]))

    expected = []
    for i in range(len(all_closes) - n, len(all_closes)):
        before, now = round(sma(3, i - 1) - sma(7, i - 1), 10), round(sma(3, i) - sma(7, i), 10)
        if before <= 0 < now:
            expected.append((int(history.time[i]), "buy"))
        elif before >= 0 > now:
            expected.append((int(history.time[i]), "sell"))
    assert [(int(s.uuid.rsplit("-", 1)[1]), s.action.value) for s in signals] == expected
    assert list(all_closes[-n:]) == closes and n >= 230
    first = signals[0]
    assert (first.source, first.symbol, first.volume, first.uuid) == (
        "strategy:sma-eu",
        "EURUSD",
        0.02,
        f"sma-eu-{expected[0][0]}",
    )
    # The same minutes again, from the same start on a fresh clock: the same signals.
    clock2 = ManualClock(start)
    with serve_in_thread(clock=clock2, demo_history=False) as server:
        module: ModuleType = sim_module
        module.shutdown()
        assert module.initialize(f"sim://{server.address}/again", login=5001006, password="Demo-1006",
                                 server="SimBroker-Demo")  # fmt: skip
        try:
            again, _ = await _run_minutes(book, TerminalOps(module), clock2, 240)
        finally:
            module.shutdown()
    assert [s.uuid for s in again] == [s.uuid for s in signals]


async def test_the_book_checks_kind_timeframe_and_parameters_and_audits_changes(
    book: StrategyBook, tmp_path: Path
) -> None:
    good = StrategyConfig("rsi-gu", "rsi_threshold", "GBPUSD", "H1", {"period": 10})
    with pytest.raises(StrategyError, match="no strategy kind 'nope'"):
        await book.put(good.with_changes(kind="nope"), actor="test")
    with pytest.raises(StrategyError, match="timeframe"):
        await book.put(good.with_changes(timeframe="H7"), actor="test")
    with pytest.raises(StrategyError, match="unknown parameter"):
        await book.put(good.with_changes(params={"speed": 3}), actor="test")
    await book.put(good, actor="api:admin")
    enabled = await book.enable("rsi-gu", actor="cli")
    assert enabled.enabled and [c.id for c in await book.all()] == ["rsi-gu"]
    with pytest.raises(StrategyError, match="no strategy ghost"):
        await book.enable("ghost", actor="cli")
    entries = AuditReader(audit_dir(tmp_path)).query(AuditQuery(action="strategy.change"))
    assert [(e.actor, e.payload["new"]["enabled"]) for e in entries] == [("api:admin", False), ("cli", True)]


def test_a_plugin_in_the_strategy_folder_plugs_in(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        textwrap.dedent(
            """
            class EveryTenth:
                \"\"\"Buys on every tenth bar.\"\"\"
                kind = "every_tenth"
                defaults = {"every": 10}

                def __init__(self, every=10):
                    self.every = int(every)

                def on_bar(self, bars):
                    return "buy" if len(bars) % self.every == 0 else None
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n", encoding="utf-8")
    kinds = discover(tmp_path)
    assert {"sma_cross", "rsi_threshold", "bollinger_breakout", "every_tenth"} <= set(kinds)
    plugin = kinds["every_tenth"](every=5)
    assert calls(plugin, [1.0] * 12) == [(4, "buy"), (9, "buy")]
