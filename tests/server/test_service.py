"""The server as a runtime service, on its own (no terminals started): state for the window's indicator,
enable/disable while running, signal handling left to the app, start errors, auth pieces."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from app.core.credentials import CredentialStore
from app.logs import LogBus
from app.mt5.backend import plan_terminals
from app.runtime import Runtime
from app.server.auth import (
    AuthError,
    NoPasswordSetError,
    PasswordPolicyError,
    PasswordStore,
    TokenService,
    User,
    bearer_token,
    check_new_password,
    jwt_secret_name,
    load_or_create_secret,
    password_path,
    set_admin_password,
)
from app.server.ratelimit import RateLimiter
from app.server.service import (
    ServerStartError,
    ServerState,
    bind_socket,
    is_loopback,
    public_bind_warning,
)
from tests.server.conftest import PASSWORD, server_settings
from tests.support.keyrings import MemoryKeyring


def idle_runtime(tmp_path: Path, keyring: object | None = None, **server: object) -> Runtime:
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    settings = server_settings(data_dir, tmp_path, **server)
    store = CredentialStore(keyring if keyring is not None else MemoryKeyring())  # type: ignore[arg-type]
    return Runtime(settings, LogBus(), plan_terminals(settings.terminals), credentials=store)


async def test_enable_disable_and_the_state_the_window_shows(tmp_path: Path) -> None:
    runtime = idle_runtime(tmp_path)
    seen: list[ServerState] = []
    runtime.server.add_state_listener(seen.append)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    assert runtime.server.state.status == "off"

    state = await runtime.server.enable()
    assert state.status == "running" and state.url and state.url.startswith("http://127.0.0.1:")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before  # uvicorn took none
    async with httpx.AsyncClient(base_url=state.url) as http:
        health = await http.get("/api/health")
        assert health.status_code == 200 and health.json()["mt5_connected"] is False
        assert health.json()["status"] == "degraded"
        spec = (await http.get("/openapi.json")).json()
        assert "/api/place" in spec["paths"] and "/api/accounts/{account_id}/deals" in spec["paths"]
    assert await runtime.server.enable() == runtime.server.state  # already running: nothing changes

    assert (await runtime.server.disable()).status == "off"
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=state.url) as http:
            await http.get("/api/health")
    assert [s.status for s in seen] == ["starting", "running", "stopping", "off"]
    again = await runtime.server.enable()  # and once more: a window can toggle it
    assert again.status == "running"
    await runtime.server.disable()


async def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    holder = bind_socket("127.0.0.1", 0)
    holder.listen()
    port = holder.getsockname()[1]
    try:
        window = idle_runtime(tmp_path, port=port)
        state = await window.server.enable()
        assert state.status == "error" and f"cannot listen on 127.0.0.1:{port}" in state.error
        headless = idle_runtime(tmp_path, port=port)
        headless.server.required = True
        with pytest.raises(ServerStartError, match="cannot listen"):
            await headless.server.enable()
    finally:
        holder.close()


async def test_no_keyring_means_no_server_and_says_why(tmp_path: Path) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    runtime = idle_runtime(tmp_path, FailKeyring())
    state = await runtime.server.enable()
    assert state.status == "error"
    assert "OS keyring" in state.error and "gnome-keyring" in state.error


async def test_the_signing_secret_is_made_once_and_kept_in_the_keyring(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = CredentialStore(keyring)
    first = await load_or_create_secret(store, tmp_path)
    again = await load_or_create_secret(store, tmp_path)
    assert first == again and len(first.reveal()) >= 40
    assert keyring.entries == {("mt5-console", jwt_secret_name(tmp_path)): first.reveal()}
    other = await load_or_create_secret(store, tmp_path / "elsewhere")
    assert other != first  # one per data dir


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.org")  # noqa: S104


def test_binding_elsewhere_is_warned_about() -> None:
    assert public_bind_warning("127.0.0.1", tls=False) is None
    clear = public_bind_warning("0.0.0.0", tls=False)  # noqa: S104
    assert clear is not None and "not to the loopback" in clear and "clear text" in clear
    with_tls = public_bind_warning("192.168.1.10", tls=True)
    assert with_tls is not None and "clear text" not in with_tls


# ----------------------------------------------------------------------------- passwords and tokens


def test_password_hash_file(tmp_path: Path) -> None:
    store = PasswordStore(tmp_path, recheck_s=0)
    assert store.current_hash() is None
    with pytest.raises(NoPasswordSetError, match="mt5-console server set-password"):
        store.verify("anything")
    set_admin_password(tmp_path, PASSWORD)
    path = password_path(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    assert PASSWORD not in text and "$argon2id$" in text
    assert store.verify(PASSWORD) and not store.verify(PASSWORD + "!")
    first = store.fingerprint()
    set_admin_password(tmp_path, PASSWORD)  # the same password again: a new salt, a new fingerprint
    assert store.fingerprint() != first


@pytest.mark.parametrize("bad", ["short", "x" * 257, "line\nbreak!"])
def test_password_policy(bad: str) -> None:
    with pytest.raises(PasswordPolicyError) as refused:
        check_new_password(bad)
    assert bad not in str(refused.value)


async def test_tokens(tmp_path: Path) -> None:
    from app.core.credentials import Secret

    set_admin_password(tmp_path, PASSWORD)
    passwords = PasswordStore(tmp_path, recheck_s=0)
    tokens = TokenService(Secret("k" * 43), passwords, "admin", 60)
    user = await tokens.login("admin", PASSWORD)
    token = tokens.issue(user)
    assert tokens.verify(token).username == "admin"
    with pytest.raises(AuthError, match="wrong username or password"):
        await tokens.login("root", PASSWORD)
    with pytest.raises(AuthError) as expired:
        tokens.verify(tokens.issue(User("admin"), now=0))
    assert expired.value.code == "token_expired"
    set_admin_password(tmp_path, "another password")
    with pytest.raises(AuthError) as revoked:
        tokens.verify(token)
    assert revoked.value.code == "token_revoked"
    assert (
        bearer_token("Bearer abc") == "abc"
        and bearer_token("Basic abc") is None
        and bearer_token(None) is None
    )


def test_rate_limiter_slides_and_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10, max_clients=3, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(10)
    assert limiter.hit("b") == 0  # per client
    now[0] = 10.5
    assert limiter.hit("a") == 0  # the window slid
    for key in "cdef":
        limiter.hit(key)
    assert len(limiter._hits) == 3


async def test_server_stops_with_the_runtime_and_tells_socket_clients(tmp_path: Path) -> None:
    import socketio

    runtime = idle_runtime(tmp_path)
    set_admin_password(runtime.settings.data_dir, PASSWORD)
    await runtime.audit.start()
    try:
        state = await runtime.server.enable()
        assert state.url is not None
        async with httpx.AsyncClient(base_url=state.url) as http:
            token = (await http.post("/api/login", json={"username": "admin", "password": PASSWORD})).json()[
                "token"
            ]
        client = socketio.AsyncClient(reconnection=False)
        told: list[dict[str, object]] = []
        client.on("disconnected", told.append)
        await client.connect(state.url, auth={"token": token}, wait_timeout=10)
        assert runtime.server.state.connections == 1
        await asyncio.wait_for(runtime.server.disable(), 10)
        for _ in range(100):
            if not client.connected:
                break
            await asyncio.sleep(0.05)
        assert told == [{"reason": "server shutting down", "reconnect": True, "code": "server_stopping"}]
        assert not client.connected
    finally:
        await runtime.audit.stop()
