"""The ASGI application: FastAPI (REST, OpenAPI at ``/openapi.json``) and Socket.IO on one port.

Auth is attached where the routers are included: everything under ``/api`` needs a bearer token but
``/api/login`` and ``/api/health``. Every error leaves as ``{error, details?, code?}``.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.server import dashboard
from app.server.context import ServerContext
from app.server.deps import current_user
from app.server.errors import EXPECTED, ApiError, to_api_error
from app.server.limits import BodySizeLimit, send_error
from app.server.realtime import RealtimeGateway
from app.server.routes import accounts, alerts, carousel, error_responses, live, market, ops, public
from app.server.sio_guard import FrameGuard

log = logging.getLogger(__name__)

DESCRIPTION = """The MT5 Trading Console's endpoint for web dashboards.

Log in with `POST /api/login` (the admin password is set with `mt5-console server set-password`),
then send `Authorization: Bearer <token>`. Live data comes over Socket.IO on the same port
(`/socket.io/`, the token in the connection's `auth`). Errors are `{error, details?, code?}`.
"""


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _problem(error: Any) -> dict[str, str]:
    """One validation problem: the field as the client named it (``volume``, ``since``) and where it
    was (``body``, ``query``, ``path``), with pydantic's message (never the value: it may be a
    password)."""
    loc = [str(part) for part in error.get("loc", ())]
    where = loc[0] if loc and loc[0] in _LOCATIONS else "body"
    field = ".".join(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return {"field": field, "in": where, "message": message}


def _install_error_handlers(api: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        return _error_response(to_api_error(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for it only
            return _error_response(to_api_error(exc))
        problems = [_problem(e) for e in exc.errors()[:20]]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        details = {"field": first["field"], "problems": problems}
        return _error_response(ApiError(422, message, "validation_error", details))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for it only
            return _error_response(to_api_error(exc))
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = "no such route" if exc.status_code == 404 else str(exc.detail)
        return _error_response(
            ApiError(
                exc.status_code,
                message,
                codes.get(exc.status_code, "http_error"),
                headers=dict(exc.headers or {}),
            )
        )

    api.add_exception_handler(RequestValidationError, on_validation)
    api.add_exception_handler(StarletteHTTPException, on_http)
    # The app's own errors are answers, not crashes: handled here, never logged as tracebacks.
    for known in EXPECTED:
        api.add_exception_handler(known, on_api_error)
    # The rest: a plain 500, logged once with its traceback, by UnexpectedErrors. (A handler for
    # Exception would run in Starlette's outermost middleware, which re-raises after answering: uvicorn
    # then logs the traceback again and drops the keep-alive connection.)
    api.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """Answers an exception no handler knows with the uniform 500 (logged once, with its traceback) and
    keeps the connection: the exception ends here, it never reaches the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:  # noqa: BLE001 - the last line: nothing unexpected leaves as a crash
            error = to_api_error(exc)  # logs it with its traceback
            if not started:
                await send_error(send, error.status, error.body())


def create_api(ctx: ServerContext) -> FastAPI:
    """The REST application over ``ctx`` (no Socket.IO: see :func:`create_app`)."""
    api = FastAPI(
        title="MT5 Trading Console",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        responses=error_responses(),
    )
    api.state.ctx = ctx
    _install_error_handlers(api)
    protected = [Depends(current_user)]
    api.include_router(public.router)
    for module in (live, market, ops, accounts, carousel, alerts):
        api.include_router(module.router, dependencies=protected)
    return api


def create_app(ctx: ServerContext) -> tuple[ASGIApp, RealtimeGateway]:
    """REST and Socket.IO on one ASGI app, with the size limit and the CORS allow-list around them, and
    the web dashboard's files at ``/``."""
    settings = ctx.settings.server
    api = create_api(ctx)
    gateway = RealtimeGateway(ctx)
    rest: ASGIApp = BodySizeLimit(api, settings.max_body_bytes)
    if settings.cors_origins:
        rest = CORSMiddleware(
            rest,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    rest = dashboard.mount(rest)  # the web dashboard at / (static files, not part of the API)
    combined: Any = socketio.ASGIApp(gateway.sio, other_asgi_app=rest, socketio_path="socket.io")
    return FrameGuard(combined, gateway.noise, settings.max_body_bytes), gateway
