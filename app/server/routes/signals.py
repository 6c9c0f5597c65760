"""Signals over REST: ``POST /api/signals`` (bearer token), the signals' list and approve/reject, the
named webhooks (admin), and the webhook alerts themselves — ``POST /api/webhooks/{name}``, which needs
no token (TradingView cannot send headers) but the webhook's secret in the body or the URL."""

from __future__ import annotations

import hashlib
import json
import uuid as uuids
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError

from app.audit.canonical import canonical_json
from app.core.signals.service import SignalError, SignalService
from app.core.signals.webhooks import WebhookError
from app.models.signals import Signal, SignalAction, SignalMode, SignalStatus, Webhook
from app.models.users import Permission
from app.server.auth import ROLE_ADMIN, User
from app.server.deps import Ctx, CurrentUser, client_address, needs
from app.server.errors import ApiError, unavailable
from app.server.params import QueryDatetime, QueryInt
from app.server.ratelimit import RateLimiter
from app.server.signal_schemas import (
    UUID_PATTERN,
    DecisionIn,
    SecretOut,
    SignalIn,
    SignalOut,
    WebhookAlert,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    parse_moment,
)

router = APIRouter(prefix="/api", tags=["signals"])
alerts = APIRouter(prefix="/api", tags=["signals"])  # no bearer token: the webhook's secret instead

SignalUuid = Annotated[str, Path(min_length=1, max_length=64, pattern=UUID_PATTERN)]
WebhookName = Annotated[str, Path(min_length=1, max_length=64)]
STATUSES = "|".join(s.value for s in SignalStatus)


def service(ctx: Ctx) -> SignalService:
    signals: SignalService | None = getattr(ctx.services, "signals", None)
    if signals is None:
        raise unavailable("signals are not enabled in this app ([signals] enabled)", "signals_unavailable")
    return signals


@asynccontextmanager
async def answered() -> AsyncIterator[None]:
    """The service's refusals as the uniform error body, naming the field."""
    try:
        yield
    except (SignalError, WebhookError) as exc:
        details = {"field": exc.field} if exc.field else None
        raise ApiError(exc.status, str(exc), exc.code, details) from None


def require_admin(user: User) -> None:
    if user.role != ROLE_ADMIN:
        raise ApiError(403, "only an admin manages webhooks", "forbidden")


def _timestamp(text: str | None) -> datetime:
    return parse_moment(text) if text else datetime.now(UTC)


def _signal(body: SignalIn | WebhookAlert, *, uuid: str, source: str, action: SignalAction) -> Signal:
    return Signal(
        uuid=uuid,
        source=source,
        action=action,
        symbol=body.symbol.strip(),
        volume=body.volume,
        sl=body.sl,
        tp=body.tp,
        sl_points=body.sl_points,
        tp_points=body.tp_points,
        risk_percent=body.risk_percent,
        ticket=body.ticket,
        price=body.price,
        confidence=body.confidence,
        comment=body.comment,
        timestamp=_timestamp(body.timestamp),
    )


def api_signal(body: SignalIn) -> Signal:
    if body.source.startswith(("webhook:", "strategy:")):
        raise ApiError(422, "source: webhook: and strategy: sources are the app's own", "invalid_signal",
                       {"field": "source"})  # fmt: skip
    if body.action is None and body.side is None:
        raise ApiError(422, "side: give side (buy or sell) or action", "invalid_signal", {"field": "side"})
    if body.action is not None and body.side is not None and body.action != body.side:
        raise ApiError(422, f"side: {body.side} contradicts action {body.action}", "invalid_signal",
                       {"field": "side"})  # fmt: skip
    action = SignalAction(body.action or body.side or "")
    return _signal(body, uuid=body.uuid or uuids.uuid4().hex, source=body.source, action=action)


@router.post(
    "/signals", response_model=SignalOut, dependencies=needs(Permission.TRADE, "send or decide signals")
)
async def submit(body: SignalIn, ctx: Ctx, user: CurrentUser) -> SignalOut:
    """A signal (seed 001's fields): judged by the validator chain, then decided by its source's mode
    (``[signals] sources``; default ``confirm``). The same ``uuid`` again answers its first outcome."""
    signals = service(ctx)
    async with answered():
        record = await signals.submit(api_signal(body), actor=user.actor)
    return SignalOut.of(record)


@router.get("/signals", response_model=list[SignalOut])
async def list_signals(
    ctx: Ctx,
    since: Annotated[QueryDatetime | None, Query(description="ISO 8601: received at or after")] = None,
    status: Annotated[str | None, Query(pattern=f"^({STATUSES})$")] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=1000)] = 200,
) -> list[SignalOut]:
    """Newest first, each with its validators' verdicts and the ticket of the order it led to."""
    records = await service(ctx).recent(since=since, status=status, limit=limit)
    return [SignalOut.of(r) for r in records]


@router.get("/signals/{uuid}", response_model=SignalOut)
async def get_signal(uuid: SignalUuid, ctx: Ctx) -> SignalOut:
    record = await service(ctx).get(uuid)
    if record is None:
        raise ApiError(404, f"no signal {uuid}", "not_found", {"field": "uuid"})
    return SignalOut.of(record)


@router.post(
    "/signals/{uuid}/approve",
    response_model=SignalOut,
    dependencies=needs(Permission.TRADE, "send or decide signals"),
)
async def approve(uuid: SignalUuid, ctx: Ctx, user: CurrentUser) -> SignalOut:
    """A pending signal approved: its order goes through the trading service now."""
    async with answered():
        return SignalOut.of(await service(ctx).approve(uuid, user.actor))


_NO_REASON = DecisionIn()


@router.post(
    "/signals/{uuid}/reject",
    response_model=SignalOut,
    dependencies=needs(Permission.TRADE, "send or decide signals"),
)
async def reject(uuid: SignalUuid, ctx: Ctx, user: CurrentUser, body: DecisionIn = _NO_REASON) -> SignalOut:
    """A pending signal rejected (``reason`` optional): nothing is sent, ever."""
    async with answered():
        return SignalOut.of(await service(ctx).reject(uuid, user.actor, body.reason))


# ----------------------------------------------------------------------------- webhooks (admin)


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    dependencies=needs(Permission.ADMIN, "manage webhooks"),
)
async def add_webhook(body: WebhookIn, ctx: Ctx, user: CurrentUser) -> WebhookCreated:
    """A named webhook; its ``secret`` is in this answer only (kept as a digest)."""
    require_admin(user)
    hook = Webhook(
        body.name, "", SignalMode(body.mode), tuple(body.symbols), body.volume, dict(body.symbol_map)
    )
    async with answered():
        stored, secret = await service(ctx).webhooks.add(hook, actor=user.actor)
    return WebhookCreated(**WebhookOut.of(stored).model_dump(), secret=secret)


@router.get(
    "/webhooks", response_model=list[WebhookOut], dependencies=needs(Permission.ADMIN, "manage webhooks")
)
async def list_webhooks(ctx: Ctx, user: CurrentUser) -> list[WebhookOut]:
    require_admin(user)
    return [WebhookOut.of(h) for h in await service(ctx).webhooks.all()]


@router.delete("/webhooks/{name}", status_code=204, dependencies=needs(Permission.ADMIN, "manage webhooks"))
async def remove_webhook(name: WebhookName, ctx: Ctx, user: CurrentUser) -> None:
    require_admin(user)
    async with answered():
        await service(ctx).webhooks.remove(name, actor=user.actor)


@router.post(
    "/webhooks/{name}/rotate",
    response_model=SecretOut,
    dependencies=needs(Permission.ADMIN, "manage webhooks"),
)
async def rotate_webhook(name: WebhookName, ctx: Ctx, user: CurrentUser) -> SecretOut:
    """A new secret (the old one stops working at once)."""
    require_admin(user)
    async with answered():
        return SecretOut(name=name, secret=await service(ctx).webhooks.rotate(name, actor=user.actor))


# ----------------------------------------------------------------------------- the alerts themselves


def _failures(ctx: Ctx, signals: SignalService) -> RateLimiter:
    """Refused webhook calls per address (a secret cannot be guessed at speed)."""
    if ctx.webhook_limiter is None:
        ctx.webhook_limiter = RateLimiter(signals.settings.webhook_failures, 60.0)
    return ctx.webhook_limiter


def alert_uuid(name: str, body: dict[str, Any]) -> str:
    """An alert without a uuid is known by its body (without the secret): the same delivery twice is
    the same alert, and TradingView's ``{{timenow}}`` makes each new alert differ."""
    clean = {k: v for k, v in body.items() if k != "secret"}
    digest = hashlib.sha256(canonical_json(clean).encode("utf-8")).hexdigest()[:32]
    return f"{name.lower()}-{digest}"


@alerts.post(
    "/webhooks/{name}",
    response_model=SignalOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WebhookAlert.model_json_schema()}},
        }
    },
)
async def webhook_alert(
    name: WebhookName,
    request: Request,
    ctx: Ctx,
    secret: Annotated[str | None, Query(max_length=256, description="or `secret` in the body")] = None,
) -> SignalOut:
    """An alert (TradingView's body: see the README for the message to paste). A malformed body is a
    422 naming the field; a wrong secret or an unknown webhook a 401, audited without the secret and
    limited per address (429 beyond ``[signals] webhook_failures`` a minute)."""
    signals = service(ctx)
    address = client_address(request)
    limiter = _failures(ctx, signals)
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(422, f"body: not JSON ({exc})", "validation_error", {"field": "body"}) from None
    if not isinstance(data, dict):
        raise ApiError(422, "body: a JSON object is expected", "validation_error", {"field": "body"})
    try:
        alert = WebhookAlert.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "in": "body",
                     "message": str(e.get("msg", ""))} for e in exc.errors()[:20]]  # fmt: skip
        raise ApiError(
            422, f"{field}: {message}", "validation_error", {"field": field, "problems": problems}
        ) from None
    given = secret or alert.secret
    # Counted before the secret is looked at (and forgiven when it was right), so that once an address
    # is over the limit even a right guess gets 429: guessing cannot go on at speed.
    wait = limiter.hit(address)
    if wait:
        raise ApiError(429, "too many refused webhook calls from this address: wait", "rate_limited",
                       {"retry_after_s": round(wait, 1)},
                       headers={"Retry-After": RateLimiter.retry_after_header(wait)})  # fmt: skip
    hook = await signals.webhooks.authorised(name, given)
    if hook is None:
        await signals.webhooks.refused(
            name, address, "no secret" if not given else "wrong secret or no such webhook"
        )
        raise ApiError(401, "unknown webhook or wrong secret", "unauthorized")
    limiter.forgive(address)
    source = f"{hook.source}:{alert.source}" if alert.source else hook.source
    signal = _signal(alert, uuid=alert.uuid or alert_uuid(hook.name, data), source=source,
                     action=SignalAction(alert.action))  # fmt: skip
    async with answered():
        record = await signals.submit(signal, mode=hook.mode, webhook=hook, actor=hook.source)
    return SignalOut.of(record)
