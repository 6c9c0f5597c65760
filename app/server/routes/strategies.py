"""Strategies over REST: list them (and the kinds there are), add or change one (``PUT``), enable and
disable — every change audited under the caller's name, picked up by the running strategies at once."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Path

from app.core.signals.strategy_runner import StrategyBook, StrategyError
from app.models.signals import SignalMode, StrategyConfig
from app.models.users import Permission
from app.server.deps import Ctx, CurrentUser, needs
from app.server.errors import ApiError, unavailable
from app.server.signal_schemas import StrategyIn, StrategyKindOut, StrategyOut

router = APIRouter(prefix="/api/strategies", tags=["signals"])

StrategyId = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.-]+$")]


def book(ctx: Ctx) -> StrategyBook:
    runner = getattr(ctx.services, "strategies", None)
    if runner is None:
        raise unavailable("strategies are not running in this app ([signals] enabled)", "signals_unavailable")
    found: StrategyBook = runner.book
    return found


@contextmanager
def answered() -> Iterator[None]:
    try:
        yield
    except StrategyError as exc:
        details = {"field": exc.field} if exc.field else None
        raise ApiError(
            exc.status, str(exc), "not_found" if exc.status == 404 else "invalid_strategy", details
        ) from None


@router.get("", response_model=list[StrategyOut])
async def list_strategies(ctx: Ctx) -> list[StrategyOut]:
    return [StrategyOut.of(c) for c in await book(ctx).all()]


@router.get("/kinds", response_model=list[StrategyKindOut])
async def kinds(ctx: Ctx) -> list[StrategyKindOut]:
    """The built-in and plugin strategies, with their parameters' defaults."""
    return [
        StrategyKindOut(kind=k, defaults=dict(getattr(cls, "defaults", {})), doc=inspect.getdoc(cls) or "")
        for k, cls in sorted(book(ctx).kinds.items())
    ]


@router.put(
    "/{strategy_id}", response_model=StrategyOut, dependencies=needs(Permission.ADMIN, "change strategies")
)
async def put_strategy(strategy_id: StrategyId, body: StrategyIn, ctx: Ctx, user: CurrentUser) -> StrategyOut:
    """Add a strategy (``kind``, ``symbol``, ``timeframe``; off until enabled) or change one."""
    strategies = book(ctx)
    with answered():
        current = next((c for c in await strategies.all() if c.id.casefold() == strategy_id.casefold()), None)
        if current is None:
            if not (body.kind and body.symbol and body.timeframe):
                missing = next(f for f in ("kind", "symbol", "timeframe") if not getattr(body, f))
                raise StrategyError(f"{missing}: a new strategy needs kind, symbol and timeframe", missing)
            current = StrategyConfig(strategy_id, body.kind, body.symbol, body.timeframe)
        changed = current.with_changes(
            kind=body.kind or current.kind,
            symbol=body.symbol or current.symbol,
            timeframe=body.timeframe or current.timeframe,
            params={**current.params, **(body.params or {})},
            mode=SignalMode(body.mode) if body.mode else current.mode,
            volume=body.volume or current.volume,
        )
        return StrategyOut.of(await strategies.put(changed, actor=user.actor))


@router.post(
    "/{strategy_id}/enable",
    response_model=StrategyOut,
    dependencies=needs(Permission.ADMIN, "change strategies"),
)
async def enable(strategy_id: StrategyId, ctx: Ctx, user: CurrentUser) -> StrategyOut:
    with answered():
        return StrategyOut.of(await book(ctx).enable(strategy_id, actor=user.actor))


@router.post(
    "/{strategy_id}/disable",
    response_model=StrategyOut,
    dependencies=needs(Permission.ADMIN, "change strategies"),
)
async def disable(strategy_id: StrategyId, ctx: Ctx, user: CurrentUser) -> StrategyOut:
    with answered():
        return StrategyOut.of(await book(ctx).disable(strategy_id, actor=user.actor))
