"""The dashboard's files as the server answers them: cache headers (hashed assets for a year, the page
revalidated), the Content-Security-Policy, gzip, ETags, and everything else passed on to the API."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.server import dashboard

ASSET = "app-3F2A1B9C.js"
SCRIPT = b"console.log('dashboard');" * 200


async def api_stub(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands for the REST app behind the dashboard: says which path reached it."""
    body = f"api saw {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def built(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        f'<script type="module" src="/assets/{ASSET}"></script>', encoding="utf-8"
    )
    (root / "assets" / ASSET).write_bytes(SCRIPT)
    return root


def client(root: Path) -> httpx.AsyncClient:
    app = dashboard.mount(api_stub, root)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dash")


async def test_the_page_is_revalidated_and_carries_the_security_policy(tmp_path: Path) -> None:
    async with client(built(tmp_path)) as http:
        page = await http.get("/")
        assert page.status_code == 200 and ASSET in page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-cache"
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        again = await http.get("/index.html", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


async def test_hashed_assets_are_cached_for_a_year_and_sent_gzipped(tmp_path: Path) -> None:
    async with client(built(tmp_path)) as http:
        plain = await http.get(f"/assets/{ASSET}", headers={"Accept-Encoding": "identity"})
        assert plain.content == SCRIPT and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
        raw = await http.send(
            http.build_request("GET", f"/assets/{ASSET}", headers={"Accept-Encoding": "gzip"}), stream=True
        )
        packed = b"".join([chunk async for chunk in raw.aiter_raw()])
        await raw.aclose()
        assert raw.headers["content-encoding"] == "gzip" and raw.headers["vary"] == "accept-encoding"
        assert len(packed) < len(SCRIPT) / 10 and gzip.decompress(packed) == SCRIPT
        head = await http.head(f"/assets/{ASSET}", headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(SCRIPT))


@pytest.mark.parametrize("path", ["/assets/app-OTHER.js", "/assets/index.html", "/assets/%2e%2e/secret"])
async def test_an_unknown_asset_is_404_and_nothing_is_read_from_disk(tmp_path: Path, path: str) -> None:
    root = built(tmp_path / "static")
    (tmp_path / "secret").write_text("not for the web", encoding="utf-8")
    async with client(root) as http:
        answer = await http.get(path)
    assert answer.status_code == 404 and "not for the web" not in answer.text


async def test_other_paths_and_methods(tmp_path: Path) -> None:
    async with client(built(tmp_path)) as http:
        assert (await http.get("/api/health")).text == "api saw /api/health"
        assert (await http.get("/docs")).text == "api saw /docs"
        refused = await http.post("/", content=b"x")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"


async def test_without_a_build_the_page_says_how_to_build_it(
    tmp_path: Path,
) -> None:
    async with client(tmp_path / "nothing-here") as http:
        page = await http.get("/")
        assert page.status_code == 404 and "scripts/build-web" in page.text
        assert (await http.get("/api/health")).text == "api saw /api/health"


def test_the_built_page_names_only_assets_that_exist() -> None:
    """The real build (scripts/build-web): every asset index.html names is there, under a hashed name."""
    files = dashboard.load_files()
    if not files:
        pytest.skip("the dashboard is not built (scripts/build-web; scripts/test builds it)")
    import re

    named = re.findall(r'(?:src|href)="(/assets/[^"]+)"', files["/index.html"].body.decode())
    assert named and all(name in files for name in named)
    assert all(re.search(r"-[A-Za-z0-9]{8}\.(js|css|svg)$", name) for name in named)
    assert b"<script>" not in files["/index.html"].body and b"style=" not in files["/index.html"].body
