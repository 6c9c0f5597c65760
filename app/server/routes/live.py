"""The live account: figures, positions, pending orders, deal history, and trading on it.

Reads come from the account state the services keep fresh (no request waits on the terminal); the
history and trading go to the terminal through the services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.server import orders
from app.server.deps import Ctx, CurrentUser
from app.server.errors import ApiError, unavailable
from app.server.params import EARLIEST, QueryDatetime, QueryInt
from app.server.routes import link, linked
from app.server.schemas import (
    AccountOut,
    CancelRequest,
    CloseRequest,
    DealOut,
    ModifyRequest,
    OrderOut,
    PlaceRequest,
    PlaceResponse,
    PositionOut,
    TradeResponse,
)

router = APIRouter(prefix="/api", tags=["account"])

MAX_HISTORY_DAYS = 3650


@router.get("/account", response_model=AccountOut)
async def account(ctx: Ctx) -> Response:
    """The live account's figures, from the state the services refresh (encoded once per refresh)."""
    info = ctx.services.account_state.account
    if info is None:
        raise unavailable("the live account is not known yet (the terminal is connecting)", "not_ready")
    body = ctx.encoded("account", info, lambda: AccountOut.of(info).model_dump_json().encode())
    return Response(body, media_type="application/json")


@router.get("/positions", response_model=list[PositionOut])
async def positions(ctx: Ctx) -> list[PositionOut]:
    await ctx.know_symbols()
    return [PositionOut.of(p, ctx.digits(p.symbol)) for p in ctx.services.account_state.positions]


@router.get("/orders", response_model=list[OrderOut])
async def pending_orders(ctx: Ctx) -> list[OrderOut]:
    await ctx.know_symbols()
    return [OrderOut.of(o, ctx.digits(o.symbol)) for o in ctx.services.account_state.orders]


@router.get("/history", response_model=list[DealOut])
async def history(
    ctx: Ctx,
    date_from: Annotated[
        QueryDatetime | None, Query(alias="from", description="ISO 8601; default: `days` before `to`")
    ] = None,
    date_to: Annotated[QueryDatetime | None, Query(alias="to", description="ISO 8601; default: now")] = None,
    days: Annotated[QueryInt, Query(ge=1, le=MAX_HISTORY_DAYS)] = 7,
) -> list[DealOut]:
    """The live account's deals in a time range."""
    end = date_to or datetime.now(UTC) + timedelta(days=1)
    start = date_from or max(EARLIEST, end - timedelta(days=days))
    if start > end:
        raise ApiError(422, "`from` is after `to`", "invalid_range", {"field": "from"})
    deals = await ctx.services.account_state.deals(start, end)
    await ctx.know_symbols()
    return [DealOut.of(d, ctx.digits(d.symbol)) for d in deals]


_THE_TICKET = {"requestBody": {"order_id": "$response.body#/ticket"}}
_PLACED = linked(
    200,
    ClosePosition=link("/api/close", "post", **_THE_TICKET),
    ModifyOrder=link("/api/modify", "post", **_THE_TICKET),
    CancelOrder=link("/api/cancel", "post", **_THE_TICKET),
)


@router.post("/place", response_model=PlaceResponse, openapi_extra=_PLACED)
async def place(body: PlaceRequest, ctx: Ctx, user: CurrentUser) -> PlaceResponse:
    """Place (or with ``dry_run`` only check) an order; the same ``uuid`` twice places it once."""
    return await orders.place(ctx.services.trading, body, user, ctx.settings.server.min_confidence)


@router.post("/close", response_model=TradeResponse)
async def close(body: CloseRequest, ctx: Ctx, user: CurrentUser) -> TradeResponse:
    """Close a position (``order_id`` = its ticket), all of it or ``volume``."""
    return await orders.close(ctx.services.trading, body.order_id, body.volume, user, body.audit_note)


@router.post("/modify", response_model=TradeResponse)
async def modify(body: ModifyRequest, ctx: Ctx, user: CurrentUser) -> TradeResponse:
    """New SL/TP (prices) for a position, or price/SL/TP for a pending order."""
    return await orders.modify(ctx.services.trading, ctx.services.account_state, body, user)


@router.post("/cancel", response_model=TradeResponse)
async def cancel(body: CancelRequest, ctx: Ctx, user: CurrentUser) -> TradeResponse:
    """Remove a pending order (``order_id`` = its ticket)."""
    return await orders.cancel(
        ctx.services.trading, ctx.services.account_state, body.order_id, user, body.audit_note
    )
