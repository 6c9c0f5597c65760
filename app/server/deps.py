"""FastAPI dependencies: the context, the authenticated caller and what its role allows (attached where
routers and routes are declared)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.models.users import Permission
from app.server.auth import AuthError, User, bearer_token
from app.server.context import ServerContext


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def current_user(request: Request) -> User:
    """The caller of a valid ``Authorization: Bearer`` token or API key (or ``X-API-Key``); 401
    otherwise (none, expired, forged, revoked)."""
    key = request.headers.get("x-api-key")
    token = key.strip() if key else bearer_token(request.headers.get("authorization"))
    if not token:
        raise AuthError(
            "not authenticated: send Authorization: Bearer <token> (POST /api/login) or an API key "
            "(Authorization: Bearer mt5c_... or X-API-Key)"
        )
    ctx: ServerContext = request.app.state.ctx
    user = ctx.tokens.verify(token)
    request.state.user = user
    return user


def allowed(permission: Permission, what: str = "") -> Any:
    """A route dependency: 403 ``forbidden`` unless the caller's role has ``permission`` — before the
    body is even read (the services check again: this is the early, uniform answer)."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        user.access.require(permission, what)
        return user

    check.__name__ = f"requires_{permission.value}"
    return Depends(check)


def needs(permission: Permission, what: str = "") -> list[Any]:
    """``dependencies=`` for a route that needs ``permission``."""
    return [allowed(permission, what)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Ctx = Annotated[ServerContext, Depends(context)]
CurrentUser = Annotated[User, Depends(current_user)]
