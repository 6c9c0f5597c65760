"""FastAPI dependencies: the context, and the authenticated user (attached where routers are included)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.server.auth import AuthError, User, bearer_token
from app.server.context import ServerContext


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def current_user(request: Request) -> User:
    """The user of a valid ``Authorization: Bearer`` token; 401 otherwise (no token, expired, forged)."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise AuthError("not authenticated: send Authorization: Bearer <token> (POST /api/login)")
    ctx: ServerContext = request.app.state.ctx
    return ctx.tokens.verify(token)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Ctx = Annotated[ServerContext, Depends(context)]
CurrentUser = Annotated[User, Depends(current_user)]
