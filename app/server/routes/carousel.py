"""The carousel: its progress, and starting or stopping it."""

from __future__ import annotations

from fastapi import APIRouter

from app.server.deps import Ctx, CurrentUser
from app.server.schemas import CarouselOut

router = APIRouter(prefix="/api/carousel", tags=["carousel"])


@router.get("", response_model=CarouselOut)
async def status(ctx: Ctx) -> CarouselOut:
    return CarouselOut.of(ctx.carousel.status())


@router.post("/start", response_model=CarouselOut)
async def start(ctx: Ctx, user: CurrentUser) -> CarouselOut:
    return CarouselOut.of(await ctx.carousel.run(user.actor))


@router.post("/stop", response_model=CarouselOut)
async def stop(ctx: Ctx, user: CurrentUser) -> CarouselOut:
    return CarouselOut.of(await ctx.carousel.halt(user.actor))
