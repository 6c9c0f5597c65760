"""The validator chain: an ordered list, each giving a :class:`Verdict` (seed 001's
``{name, type, approved, confidence, reason, timestamp}``). The chain stops at the first rejection
(so a signal refused for its symbol never costs an ``order_check``).

The built-ins, in order: ``symbol`` (known and trading), ``allow_list`` (a webhook's symbols),
``duplicate`` (a uuid is decided once: a delivery seen before never reaches the chain, it gets the
first outcome), ``confidence`` (a minimum), ``spread`` (a maximum in points), ``window`` (trading
hours on the server clock), ``rate`` (signals per minute per source), ``risk`` (the risk guard and
``order_check``, through the trading service's dry run), then the user's validators
(:class:`UserValidator`, seed 000's "ai" type) each bounded by a timeout: a slow one rejects, it
never holds up the chain.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as day_time
from typing import Any, Protocol, runtime_checkable

from app.core.times import utc_now
from app.models import OrderRequest, SymbolSpec, SymbolTradeMode, TerminalError
from app.models.market import Quote
from app.models.signals import Signal, Verdict, Webhook

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What the validators judge a signal against (gathered once per signal)."""

    signal: Signal
    spec: SymbolSpec | None = None
    quote: Quote | None = None
    server_time: datetime | None = None
    webhook: Webhook | None = None
    request: OrderRequest | None = None  # the order an opening signal becomes (None: it opens nothing)
    problem: str = ""  # why the symbol could not be resolved or sized (the symbol validator says it)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a user validator returns."""

    approved: bool
    confidence: float | None = None
    reason: str = ""


@runtime_checkable
class UserValidator(Protocol):
    """A validator of the user's own (an AI model, a news filter...): ``validate`` may be async or
    plain (a plain one runs on a worker thread); it must answer within ``signals.validator_timeout_s``
    or the signal is rejected. Loaded from ``signals.validators = ["package.module:attribute"]``,
    where the attribute is an instance, or a class / factory called without arguments."""

    name: str

    def validate(self, signal: Signal) -> Answer | Awaitable[Answer]: ...


class Validator(Protocol):
    name: str
    type: str

    async def __call__(self, ctx: Context) -> Verdict: ...


def _verdict(v: Validator, approved: bool, reason: str, confidence: float | None = None) -> Verdict:
    return Verdict(v.name, v.type, approved, confidence, reason, utc_now())


class SymbolKnown:
    name, type = "symbol", "rule"

    async def __call__(self, ctx: Context) -> Verdict:
        s = ctx.signal
        if ctx.problem:
            return _verdict(self, False, ctx.problem)
        if ctx.spec is None:
            return _verdict(self, True, "no symbol: acts on every position")
        mode = ctx.spec.trade_mode
        if mode is SymbolTradeMode.DISABLED:
            return _verdict(self, False, f"{s.symbol}: trading is disabled on this symbol")
        if s.action.opens and mode is SymbolTradeMode.CLOSE_ONLY:
            return _verdict(self, False, f"{s.symbol} is close-only: no new positions")
        side = ctx.request.type.side.value if ctx.request is not None else ""
        if side == "sell" and mode is SymbolTradeMode.LONG_ONLY:
            return _verdict(self, False, f"{s.symbol} is long-only: no sells")
        if side == "buy" and mode is SymbolTradeMode.SHORT_ONLY:
            return _verdict(self, False, f"{s.symbol} is short-only: no buys")
        sent = f" (sent as {s.sent_symbol})" if s.sent_symbol else ""
        return _verdict(self, True, f"{s.symbol}{sent} is known and trading")


class AllowList:
    name, type = "allow_list", "rule"

    async def __call__(self, ctx: Context) -> Verdict:
        hook = ctx.webhook
        if hook is None or not hook.symbols:
            return _verdict(self, True, "no allow-list")
        if ctx.signal.symbol and ctx.signal.symbol not in hook.symbols:
            return _verdict(
                self,
                False,
                f"{ctx.signal.symbol} is not among webhook {hook.name}'s symbols ({', '.join(hook.symbols)})",
            )
        if not ctx.signal.symbol:
            return _verdict(
                self, False, f"webhook {hook.name} trades only {', '.join(hook.symbols)}: name one"
            )
        return _verdict(self, True, f"{ctx.signal.symbol} is allowed")


class FirstDelivery:
    name, type = "duplicate", "rule"

    async def __call__(self, ctx: Context) -> Verdict:
        # The service answers a uuid seen before with its first outcome before the chain runs.
        return _verdict(self, True, f"first delivery of {ctx.signal.uuid}")


class MinConfidence:
    name, type = "confidence", "rule"

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum

    async def __call__(self, ctx: Context) -> Verdict:
        c = ctx.signal.confidence
        if c is None:
            if self.minimum > 0:
                return _verdict(self, False, f"no confidence given; the minimum is {self.minimum:g}")
            return _verdict(self, True, "no minimum")
        if c < self.minimum:
            return _verdict(self, False, f"confidence {c:g} is below the minimum {self.minimum:g}", c)
        return _verdict(self, True, f"confidence {c:g} ≥ {self.minimum:g}", c)


class MaxSpread:
    name, type = "spread", "market"

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points

    async def __call__(self, ctx: Context) -> Verdict:
        if not self.max_points or not ctx.signal.action.opens:
            return _verdict(self, True, "no limit" if not self.max_points else "opens nothing")
        if ctx.quote is None:
            return _verdict(self, False, f"no quote for {ctx.signal.symbol} yet: the spread is unknown")
        spread = ctx.quote.spread_points
        if spread > self.max_points:
            return _verdict(self, False, f"spread {spread} points is above the maximum {self.max_points}")
        return _verdict(self, True, f"spread {spread} ≤ {self.max_points} points")


def parse_window(window: str) -> tuple[day_time, day_time]:
    start, end = window.split("-")
    h1, m1 = (int(x) for x in start.split(":"))
    h2, m2 = (int(x) for x in end.split(":"))
    return day_time(h1, m1), day_time(23, 59, 59, 999_999) if h2 == 24 else day_time(h2, m2)


class TradingWindow:
    name, type = "window", "rule"

    def __init__(self, windows: Sequence[str]) -> None:
        self.windows = list(windows)
        self._parsed = [parse_window(w) for w in windows]

    async def __call__(self, ctx: Context) -> Verdict:
        if not self._parsed:
            return _verdict(self, True, "no trading window set")
        moment = ctx.server_time or utc_now()
        now = moment.time().replace(tzinfo=None)
        for (start, end), text in zip(self._parsed, self.windows, strict=True):
            inside = start <= now < end if start <= end else (now >= start or now < end)
            if inside:
                return _verdict(self, True, f"{now:%H:%M} is inside {text}")
        return _verdict(self, False, f"{now:%H:%M} (server time) is outside {', '.join(self.windows)}")


class RatePerSource:
    """At most ``limit`` signals per source within a minute (a runaway sender is cut off)."""

    name, type = "rate", "rule"

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    async def __call__(self, ctx: Context) -> Verdict:
        now = self._clock()
        seen = self._seen.setdefault(ctx.signal.source, deque())
        while seen and seen[0] <= now - 60.0:
            seen.popleft()
        if len(seen) >= self.limit:
            return _verdict(
                self,
                False,
                f"{ctx.signal.source} sent {len(seen)} signals within a minute (max {self.limit})",
            )
        seen.append(now)
        if len(self._seen) > 10_000:  # bounded: the oldest idle sources go
            for key in [k for k, v in self._seen.items() if not v][:1000]:
                del self._seen[key]
        return _verdict(self, True, f"{len(seen)} of {self.limit} this minute")


Check = Callable[[OrderRequest], Awaitable[Any]]


class RiskAndCheck:
    """The risk guard's limits and the terminal's ``order_check``, as the trading service's dry run
    (``TradingService.check``) gives them — the same judgement ``send`` will make."""

    name, type = "risk", "risk"

    def __init__(self, check: Check) -> None:
        self._check = check

    async def __call__(self, ctx: Context) -> Verdict:
        if ctx.request is None:
            return _verdict(self, True, "opens no new exposure")
        try:
            result = await self._check(ctx.request)
        except TerminalError as exc:
            return _verdict(self, False, str(exc))
        if not result.ok:
            return _verdict(self, False, f"order_check: {result.retcode_name}: {result.comment}")
        return _verdict(
            self, True, f"order_check passed: margin {result.margin:g}, free after {result.margin_free:g}"
        )


class Bounded:
    """A user validator with a timeout (type "ai", as seed 000 names them)."""

    type = "ai"

    def __init__(self, inner: UserValidator, timeout_s: float) -> None:
        self.inner = inner
        self.name = str(getattr(inner, "name", type(inner).__name__))
        self.timeout_s = timeout_s

    async def __call__(self, ctx: Context) -> Verdict:
        try:
            answer = await asyncio.wait_for(self._ask(ctx.signal), self.timeout_s)
        except TimeoutError:
            return _verdict(self, False, f"no answer within {self.timeout_s:g} s")
        except Exception as exc:  # noqa: BLE001 - a user's validator failing is a rejection, not a crash
            log.warning("validator %s failed: %s", self.name, exc)
            return _verdict(self, False, f"failed: {type(exc).__name__}: {exc}")
        if not isinstance(answer, Answer):
            return _verdict(self, False, f"answered {type(answer).__name__}, not an Answer")
        reason = answer.reason or ("approved" if answer.approved else "rejected")
        return _verdict(self, answer.approved, reason, answer.confidence)

    async def _ask(self, signal: Signal) -> Any:
        if inspect.iscoroutinefunction(self.inner.validate):
            return await self.inner.validate(signal)
        # A plain function may block: on a thread, so that the timeout holds and the loop never waits.
        result = await asyncio.to_thread(self.inner.validate, signal)
        return await result if inspect.isawaitable(result) else result


def load_user_validator(ref: str) -> UserValidator:
    """``package.module:attribute`` — an instance, or a class / factory called without arguments."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"validator {ref!r}: write it as package.module:attribute")
    target: Any = getattr(importlib.import_module(module_name), attribute)
    if inspect.isclass(target) or (callable(target) and not hasattr(target, "validate")):
        target = target()
    if not hasattr(target, "validate"):
        raise ValueError(f"validator {ref!r} has no validate(signal) method")
    return target


@dataclass
class Chain:
    validators: list[Validator] = field(default_factory=list)

    async def run(self, ctx: Context) -> tuple[tuple[Verdict, ...], bool]:
        """The verdicts up to the first rejection, and whether every one approved."""
        verdicts: list[Verdict] = []
        for validator in self.validators:
            verdict = await validator(ctx)
            verdicts.append(verdict)
            if not verdict.approved:
                return tuple(verdicts), False
        return tuple(verdicts), True
