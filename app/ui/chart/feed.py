"""Fills a chart model from market data: history on open and on a timeframe change, older bars when
the trader pans left, and the live bar's subscription (watch/unwatch) for as long as the chart is open.

Loads run through the window's task runner, never on the GUI thread's time. A load that finishes
after the trader has switched timeframe again is dropped (a generation counter), and a terminal
that is still starting is waited for, with backoff.
"""

from __future__ import annotations

import asyncio
import logging

from app.core.market_data import MarketData
from app.models import BarSeries, NotConnectedError, SymbolSpec, Timeframe
from app.ui.chart.model import ChartModel
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

INITIAL_BARS = 5_000
OLDER_BARS = 2_000
READY_ATTEMPTS = 12


class ChartFeed:
    def __init__(
        self, model: ChartModel, market_data: MarketData, tasks: TaskRunner, bars: int = INITIAL_BARS
    ) -> None:
        self.model = model
        self._market = market_data
        self._tasks = tasks
        self._bars = bars
        self._generation = 0
        self._watching: tuple[str, Timeframe] | None = None
        model.timeframe_changed.connect(self.load)
        model.older_wanted.connect(self.load_older)

    def load(self) -> None:
        self._generation += 1
        generation = self._generation
        self.model.status_changed.emit(f"loading {self.model.title} ...")
        self._tasks.run(
            self._load(generation),
            what=f"chart {self.model.title}",
            owner=self.model,
            on_error=self._failed,
        )

    def _failed(self, error: BaseException) -> bool:
        self.model.status_changed.emit(f"{self.model.title}: {error}")
        return False

    async def _load(self, generation: int) -> None:
        model = self.model
        symbol, timeframe = model.symbol, model.timeframe
        spec: SymbolSpec = await self._when_ready(lambda: self._market.spec(symbol))
        if not await self._watch(symbol, timeframe, generation):
            return
        series: BarSeries = await self._when_ready(lambda: self._market.bars(symbol, timeframe, self._bars))
        if generation != self._generation:
            return
        model.set_history(series, spec.digits)
        model.status_changed.emit("")

    async def _when_ready(self, call):  # type: ignore[no-untyped-def]
        """Run ``call()``; while the terminal is not connected yet, wait and try again."""
        delay = 0.5
        for attempt in range(READY_ATTEMPTS):
            try:
                return await call()
            except NotConnectedError:
                if attempt == READY_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    async def _watch(self, symbol: str, timeframe: Timeframe, generation: int) -> bool:
        """Watch the live bar of (symbol, timeframe); False if the chart moved on meanwhile."""
        if self._watching == (symbol, timeframe):
            return True
        await self._when_ready(lambda: self._market.watch_bars(symbol, timeframe))
        if generation != self._generation:
            self._market.unwatch_bars(symbol, timeframe)
            return False
        self.unwatch()
        self._watching = (symbol, timeframe)
        return True

    def unwatch(self) -> None:
        if self._watching is not None:
            self._market.unwatch_bars(*self._watching)
            self._watching = None

    def load_older(self) -> None:
        model = self.model
        if not len(model.buffer):
            model.loading_older = False
            return
        generation = self._generation
        first = int(model.buffer.time[0])

        async def load() -> None:
            series = await self._market.bars_before(model.symbol, model.timeframe, first, OLDER_BARS)
            if generation == self._generation:
                model.prepend_history(series)

        def failed(error: BaseException) -> bool:
            model.loading_older = False
            return False

        self._tasks.run(load(), what=f"older bars of {model.title}", owner=model, on_error=failed)

    def close(self) -> None:
        """The chart closed: stop its live bar and forget loads still on their way."""
        self._generation += 1
        self.unwatch()
