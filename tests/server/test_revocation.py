"""A new admin password revokes every token at once — REST answers 401 ``token_revoked`` and an open
Socket.IO connection is closed with ``disconnected {reason, reconnect: false}`` and answers nothing
more — whether the password was set in the app or by ``server set-password`` in another process. And a
password is taken byte-exact: spaces at its edges are part of it."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.server.auth import set_admin_password
from tests.conftest import app_command, subprocess_env
from tests.server.conftest import ADMIN, Running, start_runtime, stop_runtime
from tests.server.test_socketio import Recorder
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SPACED = "  Spaced pass 123  "


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """The server with room for the wrong-password polls these tests make while a new password is
    picked up (the login limit itself is tested in test_rest_security)."""
    started = await start_runtime(tmp_path_factory.mktemp("server"), login_attempts=1000)
    yield started
    await stop_runtime(started)


async def _login(running: Running, password: str) -> int:
    async with running.client() as http:
        answer = await http.post("/api/login", json={"username": ADMIN, "password": password})
    return answer.status_code


async def _token_once_taken(running: Running, password: str) -> str:
    """Log in with a password just written to the data dir (the server looks at the file twice a second)."""
    async with running.client() as http:
        for _ in range(50):
            answer = await http.post("/api/login", json={"username": ADMIN, "password": password})
            if answer.status_code == 200:
                token: str = answer.json()["token"]
                return token
            await asyncio.sleep(0.1)
    raise AssertionError(f"the new password was not taken: {answer.text}")


async def _streaming_client(running: Running, token: str) -> Recorder:
    client = Recorder()
    await client.connect(running, token)
    await wait_until(lambda: client.got("connected"))
    await client.sio.emit("subscribe", {"channels": ["quotes", "account", "positions"]})
    await wait_until(lambda: client.got("quotes") and client.got("account_update"), within_s=30)
    return client


async def _assert_cut_off(running: Running, client: Recorder, token: str) -> None:
    await wait_until(lambda: client.got("disconnected"), within_s=5)
    goodbye = client.got("disconnected")[-1]
    assert goodbye["reconnect"] is False and goodbye["code"] == "token_revoked", goodbye
    assert "password" in goodbye["reason"]
    await wait_until(lambda: not client.sio.connected, within_s=5)
    gateway = running.runtime.server.gateway
    assert gateway is not None and client.sio.get_sid() not in gateway.clients
    quotes = len(client.got("quotes"))
    await asyncio.sleep(1.0)
    assert len(client.got("quotes")) == quotes  # nothing streams to it any more
    async with running.client(token) as http:
        answer = await http.get("/api/account")
    assert answer.status_code == 401 and answer.json()["code"] == "token_revoked"


async def test_a_password_set_in_the_app_closes_open_sockets_at_once(running: Running, token: str) -> None:
    client = await _streaming_client(running, token)
    other = await _streaming_client(running, token)
    try:
        await running.runtime.server.set_admin_password("a brand new password")
        await _assert_cut_off(running, client, token)
        await _assert_cut_off(running, other, token)
    finally:
        await client.sio.disconnect()
        await other.sio.disconnect()


async def test_a_password_set_by_another_process_closes_open_sockets(running: Running) -> None:
    set_admin_password(running.data_dir, "the second password")
    token = await _token_once_taken(running, "the second password")
    client = await _streaming_client(running, token)
    try:
        command = app_command("server", "set-password", "--data-dir", str(running.data_dir))
        done = await asyncio.to_thread(  # the CLI, as a user runs it, in another process
            subprocess.run, command, input="a third password\n", text=True, capture_output=True,
            env=subprocess_env(), timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        await _assert_cut_off(running, client, token)
        async with running.client(token) as http:
            revoked = await http.get("/api/positions")
        assert revoked.status_code == 401
    finally:
        await client.sio.disconnect()


async def test_a_password_with_edge_spaces_is_taken_as_it_is(running: Running) -> None:
    """Two spaces on each side, set as ``server set-password`` sets it: only exactly that logs in."""
    set_admin_password(running.data_dir, SPACED)
    await _token_once_taken(running, SPACED)
    assert await _login(running, SPACED.strip()) == 401
    assert await _login(running, SPACED + " ") == 401


async def test_an_account_password_with_edge_spaces_is_kept_as_it_is(running: Running) -> None:
    token = await _token_once_taken(running, SPACED)
    async with running.client(token) as http:
        added = await http.post(
            "/api/accounts", json={"login": 5001006, "server": "SimBroker-Demo", "password": " Demo-1006 "}
        )
        assert added.status_code == 201, added.text
        assert running.keyring.entries[("mt5-console", "5001006@SimBroker-Demo")] == " Demo-1006 "
        await http.delete(f"/api/accounts/{added.json()['id']}")
