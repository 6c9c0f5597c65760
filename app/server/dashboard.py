"""The web dashboard's files, served by the embedded server at ``/``.

The page is built from ``web/`` by ``scripts/build-web`` into ``app/server/static/`` (git-ignored; the
packaged program carries it): ``index.html`` and ``assets/`` whose names carry a hash of their content.
So an asset never changes under its name and is cached for a year (``immutable``), while
``index.html`` — which names the current assets — is revalidated on every load (``no-cache`` with an
ETag). Everything is read once when the server starts, gzip-compressed once, and answered from memory.

The page talks to the same origin only, so ``index.html`` carries a Content-Security-Policy with no
inline script or style and no other origin; the page keeps its token in ``sessionStorage``.

This is an ASGI wrapper in front of the REST app: ``GET``/``HEAD`` of ``/``, ``/index.html`` and
``/assets/...`` are answered here, everything else goes on untouched (so it is no part of the API or
of its OpenAPI document). Without a build the page answers 404 with a line saying how to build it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/assets/"
INDEX_PATHS = ("/", "/index.html")
MAX_FILE_BYTES = 20_000_000

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # REST and Socket.IO (ws/wss of the same host count as 'self')
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
CACHE_IMMUTABLE = b"public, max-age=31536000, immutable"
CACHE_REVALIDATE = b"no-cache"
COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".txt", ".json", ".map")
NOT_BUILT = (
    b"The web dashboard is not built in this copy of MT5 Trading Console: run scripts/build-web "
    b"(scripts/run and scripts/build do it). The API is served as usual: /api, /docs.\n"
)


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: bytes
    cache_control: bytes


def _media_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        kind = "text/javascript"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or path.suffix == ".svg" else kind


def _load(path: Path, cache_control: bytes) -> StaticFile:
    body = path.read_bytes()
    packed = gzip.compress(body, compresslevel=9, mtime=0) if path.suffix in COMPRESSIBLE else None
    if packed is not None and len(packed) >= len(body):
        packed = None
    etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
    return StaticFile(body, packed, _media_type(path), etag, cache_control)


def load_files(root: Path = STATIC_DIR) -> dict[str, StaticFile]:
    """The built page's files by URL path (empty when it is not built)."""
    index = root / "index.html"
    if not index.is_file():
        return {}
    files = {"/index.html": _load(index, CACHE_REVALIDATE)}
    files["/"] = files["/index.html"]
    assets = root / "assets"
    if assets.is_dir():
        for path in sorted(assets.iterdir()):
            if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                files[ASSET_PREFIX + path.name] = _load(path, CACHE_IMMUTABLE)
    return files


class DashboardFiles:
    """Answers the dashboard's paths from memory; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp, files: dict[str, StaticFile]) -> None:
        self.app = app
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path in INDEX_PATHS or path.startswith(ASSET_PREFIX)):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(
                send, 405, b"text/plain; charset=utf-8", b"method not allowed\n", [(b"allow", b"GET, HEAD")]
            )
            return
        if not self.files:
            await _respond(send, 404, b"text/plain; charset=utf-8", NOT_BUILT, [], head=method == "HEAD")
            return
        found = self.files.get(path)
        if found is None:
            await _respond(
                send, 404, b"text/plain; charset=utf-8", b"no such file\n", [], head=method == "HEAD"
            )
            return
        await _serve(scope, send, found, head=method == "HEAD")


async def _serve(scope: Scope, send: Send, file: StaticFile, *, head: bool) -> None:
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", ()):
        headers[name.lower()] = value
    common = [(b"etag", file.etag), (b"cache-control", file.cache_control), *SECURITY_HEADERS]
    if file.gzipped is not None:
        common.append((b"vary", b"accept-encoding"))
    matches = headers.get(b"if-none-match", b"")
    if matches and (matches.strip() == b"*" or file.etag in [t.strip() for t in matches.split(b",")]):
        await send({"type": "http.response.start", "status": 304, "headers": common})
        await send({"type": "http.response.body", "body": b""})
        return
    body = file.body
    if file.gzipped is not None and b"gzip" in headers.get(b"accept-encoding", b""):
        body = file.gzipped
        common.append((b"content-encoding", b"gzip"))
    await _respond(send, 200, file.content_type.encode(), body, common, head=head)


async def _respond(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    head: bool = False,
) -> None:
    start = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": b"" if head else body})


def mount(app: ASGIApp, root: Path = STATIC_DIR) -> ASGIApp:
    """``app`` with the dashboard served in front of it (read from ``root`` now, once)."""
    files = load_files(root)
    if files:
        log.debug("web dashboard: %d files from %s", len(files) - 1, root)
    else:
        log.info(
            "the web dashboard is not built (%s is missing): / says how to build it", root / "index.html"
        )
    return DashboardFiles(app, files)
