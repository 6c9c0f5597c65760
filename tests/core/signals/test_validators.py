"""Each validator's approve and reject paths, the chain stopping at the first refusal, and user
validators bounded by a timeout: a slow one (async or blocking) rejects within it, never holds the
chain; a broken one rejects with its error."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from app.core.signals.symbols import UnknownSymbolError, resolve_symbol
from app.core.signals.validators import (
    AllowList,
    Answer,
    Bounded,
    Chain,
    Context,
    MaxSpread,
    MinConfidence,
    RatePerSource,
    RiskAndCheck,
    SymbolKnown,
    TradingWindow,
    load_user_validator,
)
from app.models import OrderCheck, RejectedError
from app.models.market import Quote
from app.models.signals import Signal, SignalAction, SignalMode, Webhook

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def signal(**changes: object) -> Signal:
    base = Signal(uuid="u1", source="test", action=SignalAction.BUY, symbol="EURUSD", volume=0.1)
    return base.with_changes(**changes)


def quote(spread: int) -> Quote:
    return Quote("EURUSD", 1.1, 1.1 + spread * 0.00001, 0, spread, 5)


async def test_confidence_below_the_minimum_is_refused_naming_both() -> None:
    check = MinConfidence(0.6)
    low = await check(Context(signal(confidence=0.4)))
    assert not low.approved and "0.4 is below the minimum 0.6" in low.reason and low.confidence == 0.4
    assert (await check(Context(signal(confidence=0.7)))).approved
    assert not (await check(Context(signal()))).approved  # a minimum and no confidence: refused
    assert (await MinConfidence(0.0)(Context(signal()))).approved


async def test_a_spread_above_the_maximum_is_refused() -> None:
    check = MaxSpread(20)
    wide = await check(Context(signal(), quote=quote(35)))
    assert not wide.approved and "35 points is above the maximum 20" in wide.reason
    assert (await check(Context(signal(), quote=quote(12)))).approved
    assert not (await check(Context(signal(), quote=None))).approved  # unknown spread: refused
    closing = signal(action=SignalAction.CLOSE)
    assert (await check(Context(closing, quote=quote(90)))).approved  # closing is never held back


async def test_outside_the_trading_window_is_refused() -> None:
    check = TradingWindow(["07:00-11:00", "13:00-17:00"])
    assert not (await check(Context(signal(), server_time=NOON))).approved
    assert (await check(Context(signal(), server_time=NOON.replace(hour=14)))).approved
    overnight = TradingWindow(["22:00-02:00"])
    assert (await overnight(Context(signal(), server_time=NOON.replace(hour=1)))).approved
    refused = await overnight(Context(signal(), server_time=NOON))
    assert not refused.approved and "12:00 (server time) is outside 22:00-02:00" in refused.reason


async def test_more_signals_per_minute_than_allowed_are_refused_per_source() -> None:
    now = [1000.0]
    check = RatePerSource(3, clock=lambda: now[0])
    verdicts = [await check(Context(signal())) for _ in range(4)]
    assert [v.approved for v in verdicts] == [True, True, True, False]
    assert "3 signals within a minute (max 3)" in verdicts[-1].reason
    assert (await check(Context(signal(source="other")))).approved  # per source
    now[0] += 61
    assert (await check(Context(signal()))).approved  # the minute has passed


async def test_symbol_and_allow_list() -> None:
    unknown = await SymbolKnown()(Context(signal(), problem="symbol 'XYZ' is not a symbol of this terminal"))
    assert not unknown.approved and "XYZ" in unknown.reason
    hook = Webhook("tv", "", SignalMode.AUTO, symbols=("EURUSD",))
    assert (await AllowList()(Context(signal(), webhook=hook))).approved
    refused = await AllowList()(Context(signal(symbol="GBPUSD"), webhook=hook))
    assert not refused.approved and "GBPUSD is not among webhook tv's symbols (EURUSD)" == refused.reason


async def test_risk_is_the_trading_services_dry_run() -> None:
    from app.models import OrderRequest, TradeAction

    request = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1)

    async def refused(_: OrderRequest) -> OrderCheck:
        raise RejectedError("volume 0.1 is above the limit of 0.05 per order")

    async def passes(_: OrderRequest) -> OrderCheck:
        return OrderCheck(0, 10_000.0, 10_000.0, 0.0, 110.0, 9890.0, 9090.9, "Done", True)

    verdict = await RiskAndCheck(refused)(Context(signal(), request=request))
    assert not verdict.approved and "above the limit" in verdict.reason
    assert (await RiskAndCheck(passes)(Context(signal(), request=request))).approved
    assert (await RiskAndCheck(refused)(Context(signal(action=SignalAction.CLOSE)))).approved  # no exposure


class SlowAsync:
    name = "slow-ai"

    async def validate(self, s: Signal) -> Answer:
        await asyncio.sleep(30)
        return Answer(True)


class Blocking:
    name = "blocking-ai"

    def __init__(self) -> None:
        self.release = threading.Event()

    def validate(self, s: Signal) -> Answer:
        self.release.wait(30)  # a plain function that blocks: it must not block the loop
        return Answer(True)


class Confident:
    name = "model"

    async def validate(self, s: Signal) -> Answer:
        return Answer(s.symbol == "EURUSD", 0.93, "the model likes EURUSD")


class Broken:
    name = "broken"

    def validate(self, s: Signal) -> Answer:
        raise RuntimeError("model file missing")


async def test_a_slow_user_validator_rejects_within_its_timeout() -> None:
    started = time.monotonic()
    verdict = await Bounded(SlowAsync(), 0.2)(Context(signal()))
    assert not verdict.approved and verdict.reason == "no answer within 0.2 s" and verdict.type == "ai"
    assert time.monotonic() - started < 20  # not the validator's 30 s (a generous bound: a shared machine)


async def test_a_blocking_user_validator_does_not_block_the_loop() -> None:
    blocking = Blocking()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        verdict = await Bounded(blocking, 0.3)(Context(signal()))
    finally:
        blocking.release.set()
        task.cancel()
    assert not verdict.approved and "no answer within" in verdict.reason
    assert ticks > 1  # the loop kept running while the validator blocked its thread


async def test_a_user_validators_answer_and_failure_are_verdicts() -> None:
    verdict = await Bounded(Confident(), 1)(Context(signal()))
    assert (verdict.name, verdict.approved, verdict.confidence, verdict.reason) == (
        "model", True, 0.93, "the model likes EURUSD"
    )  # fmt: skip
    failed = await Bounded(Broken(), 1)(Context(signal()))
    assert not failed.approved and "RuntimeError: model file missing" in failed.reason


async def test_the_chain_stops_at_the_first_refusal() -> None:
    after = Confident()
    chain = Chain([MinConfidence(0.5), Bounded(after, 1)])
    verdicts, approved = await chain.run(Context(signal(confidence=0.1)))
    assert not approved and [v.name for v in verdicts] == ["confidence"]
    verdicts, approved = await chain.run(Context(signal(confidence=0.9)))
    assert approved and [v.name for v in verdicts] == ["confidence", "model"]


def test_user_validators_load_from_module_attribute() -> None:
    loaded = load_user_validator("tests.core.signals.test_validators:Confident")
    assert isinstance(loaded, Confident)
    with pytest.raises(ValueError, match="package.module:attribute"):
        load_user_validator("no-colon")


@pytest.mark.parametrize(
    ("sent", "expected"),
    [("EURUSD", "EURUSD"), ("FX:EURUSD", "EURUSD"), ("eurusd", "EURUSD"), ("EURUSD.PRO", "EURUSD"),
     ("EUR/USD", "EURUSD"), ("OANDA:GBPUSD", "GBPUSD")],
)  # fmt: skip
def test_a_senders_spelling_becomes_the_terminals_symbol(sent: str, expected: str) -> None:
    assert resolve_symbol(sent, ["EURUSD", "GBPUSD", "USDJPY"]) == expected


def test_broker_suffixes_maps_and_ambiguity() -> None:
    assert resolve_symbol("FX:EURUSD", ["EURUSDm", "GBPUSDm"]) == "EURUSDm"
    assert resolve_symbol("XAUUSD", ["GOLD"], {"xauusd": "GOLD"}) == "GOLD"
    with pytest.raises(UnknownSymbolError, match="is any of EURUSD.a, EURUSD.b"):
        resolve_symbol("EURUSD", ["EURUSD.a", "EURUSD.b"])
    with pytest.raises(UnknownSymbolError, match="not a symbol of this terminal"):
        resolve_symbol("NOSUCH", ["EURUSD"])
