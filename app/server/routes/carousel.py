"""The carousel: its progress, and starting or stopping it."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.scoped import scoped_status
from app.models.users import Permission
from app.server.deps import Ctx, CurrentUser, needs
from app.server.schemas import CarouselOut

router = APIRouter(prefix="/api/carousel", tags=["carousel"])


@router.get("", response_model=CarouselOut)
async def status(ctx: Ctx, user: CurrentUser) -> CarouselOut:
    """The carousel's progress (the visits under way: only those of the caller's accounts)."""
    return CarouselOut.of(scoped_status(ctx.carousel.status(), user.access))


@router.post(
    "/start", response_model=CarouselOut, dependencies=needs(Permission.CAROUSEL, "start the carousel")
)
async def start(ctx: Ctx, user: CurrentUser) -> CarouselOut:
    user.access.require(Permission.CAROUSEL, "start the carousel")
    return CarouselOut.of(scoped_status(await ctx.carousel.run(user.actor), user.access))


@router.post(
    "/stop", response_model=CarouselOut, dependencies=needs(Permission.CAROUSEL, "stop the carousel")
)
async def stop(ctx: Ctx, user: CurrentUser) -> CarouselOut:
    user.access.require(Permission.CAROUSEL, "stop the carousel")
    return CarouselOut.of(scoped_status(await ctx.carousel.halt(user.actor), user.access))
