"""Request size limit as a plain ASGI middleware (no per-request task, unlike Starlette's
BaseHTTPMiddleware): a body larger than the limit is answered 413 before any route sees it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_LIMIT = 1024 * 1024
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


async def send_error(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> dict[str, Any]:
        return {
            "error": f"request body larger than {self.max_bytes} bytes",
            "code": "payload_too_large",
            "details": {"max_bytes": self.max_bytes},
        }

    async def _refuse_rest(self, receive: Receive, message: Message, send: Send) -> None:
        """Read (and drop) a little more of a streamed body, so the client gets to read the 413,
        then answer and close the connection."""
        drained = 0
        while message.get("more_body", False) and drained < DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
        await send_error(send, 413, self._too_large(), {"connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await send_error(send, 413, self._too_large(), {"connection": "close"})
                    return
        body, over = await read_body(receive, self.max_bytes)
        if over is not None:
            await self._refuse_rest(receive, over, send)
            return
        await self.app(scope, replaying(body, receive), send)


async def read_body(receive: Receive, max_bytes: int) -> tuple[bytes, Message | None]:
    """The request's body as far as it came (the client may go away), and the message that took it
    past ``max_bytes`` (None when it fits)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return b"", message
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), None


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands a body already read to the app, then whatever else comes."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
