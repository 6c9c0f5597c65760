"""Routes without a token: login and health."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.audit import Action, Actor
from app.server.auth import AuthError
from app.server.deps import Ctx, client_address
from app.server.errors import ApiError, unavailable
from app.server.ratelimit import RateLimiter
from app.server.schemas import Health, LoginRequest, LoginResponse, UserOut

router = APIRouter(prefix="/api", tags=["auth"])

UNKNOWN_USER_ACTOR = "api"  # a failed login of a user name that is not ours: never the typed name


@router.post("/login", response_model=LoginResponse)
async def login(body: LoginRequest, request: Request, ctx: Ctx) -> LoginResponse:
    """A token for the admin user. Failed attempts are limited per client address; every attempt is
    audited — a failure of an unknown user name without that name (it may be a password typed into
    the wrong field)."""
    client = client_address(request)
    wait = ctx.login_limiter.hit(client)  # counted now, forgiven if it succeeds
    if wait:
        raise ApiError(
            429,
            "too many login attempts: wait and try again",
            "rate_limited",
            {"retry_after_s": round(wait, 1)},
            {"Retry-After": RateLimiter.retry_after_header(wait)},
        )
    try:
        user = await ctx.tokens.login(body.username, body.password)
    except AuthError as exc:
        known = ctx.tokens.is_user(body.username)
        actor = Actor.api(ctx.tokens.username) if known else UNKNOWN_USER_ACTOR
        payload = {"client": client, "reason": exc.code}
        if not known:
            payload["user"] = "unknown"
        await _audit(ctx, actor, Action.API_LOGIN_FAILED, payload)
        status = 403 if exc.code == "no_password_set" else 401
        raise ApiError(status, exc.message, exc.code) from None
    ctx.login_limiter.forgive(client)
    await _audit(ctx, user.actor, Action.API_LOGIN, {"client": client})
    return LoginResponse(
        token=ctx.tokens.issue(user),
        expires_in=ctx.tokens.expiry_s,
        user=UserOut(username=user.username, role=user.role),
    )


async def _audit(ctx: Ctx, actor: str, action: Action, payload: dict[str, str]) -> None:
    try:
        await ctx.services.audit.append(actor, action, payload=payload)
    except Exception as exc:  # noqa: BLE001 - any failure means "not recorded": refuse the login
        raise unavailable(f"the audit trail cannot record the login: {exc}", "audit_unavailable") from None


@router.get("/health", response_model=Health)
async def health(ctx: Ctx) -> Health:
    """The live terminal's connection (no token needed: monitors poll it)."""
    return Health.of(ctx.live_state(), ctx.version)
