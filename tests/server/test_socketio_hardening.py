"""Socket.IO under hostile input, against the real server: garbage frames cost at most one rate-limited
log line per client address (no tracebacks, no token needed to send them); reserved event names and
undecodable frames get an ``error`` event and change nothing; a refused connection carries JSON a
browser client can read (``err.data = {error, code}``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import socketio
from websockets.asyncio.client import connect as ws_connect

from tests.server.conftest import Captured, Running
from tests.server.test_socketio import Recorder
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def _handshake(http: httpx.AsyncClient) -> str:
    answer = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert answer.status_code == 200, answer.text
    sid: str = json.loads(answer.text[1:])["sid"]
    return sid


async def test_garbage_frames_without_a_token_cost_at_most_a_line(
    running: Running, server_log: Captured
) -> None:
    frames = ["9", "4Z", "40{bad", "4", "42[", "\x00\xff", "6Z", "b!!!!"]
    async with running.client() as http:
        for _ in range(8):
            sid = await _handshake(http)
            for frame in frames:
                answer = await http.post(
                    "/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid}, content=frame
                )
                assert answer.status_code in (200, 400), answer.text
        url = running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        for _ in range(4):
            async with ws_connect(url) as ws:
                await ws.recv()  # the Engine.IO open packet
                for frame in frames:
                    await ws.send(frame)
                await ws.send("40")  # the connection survived the garbage: a CONNECT is answered
                answer = await asyncio.wait_for(_first_not_ping(ws), 10)
                assert answer.startswith("44") or answer.startswith("42"), answer  # refused: no token
        assert (await http.get("/api/health")).status_code == 200
    await asyncio.sleep(0.2)  # let the server finish logging what it logs
    noise = server_log.noise()
    assert not any(r.exc_info for r in noise), [r.getMessage() for r in noise if r.exc_info][:3]
    assert len(noise) <= 2, [r.getMessage() for r in noise]


async def _first_not_ping(ws: Any) -> str:
    while True:
        message = str(await ws.recv())
        if message not in ("2", "3"):
            return message


@pytest.mark.parametrize("name", ["disconnect", "connect", "connect_error", "disconnecting", "newListener"])
async def test_a_reserved_event_name_is_an_error_and_changes_nothing(
    running: Running, token: str, name: str, server_log: Captured
) -> None:
    client = Recorder()
    await client.connect(running, token)
    try:
        await wait_until(lambda: client.got("connected"))
        await client.sio.emit("subscribe", {"channels": ["account"]})
        await wait_until(lambda: client.got("subscribed"))
        await client.sio.emit(name, {"x": 1})
        await wait_until(lambda: client.got("error"))
        error = client.got("error")[-1]
        assert error["code"] == "reserved_event" and name in error["error"], error
        assert (await client.sio.call("ping", timeout=10))["pong"] is True
        assert (await client.sio.call("get_account_info", timeout=10))["number"] > 0
        gateway = running.runtime.server.gateway
        assert gateway is not None
        mine = gateway.clients[client.sio.get_sid()]
        assert mine.channels == {"account"}  # its subscriptions are as they were
    finally:
        await client.sio.disconnect()
    await asyncio.sleep(0.2)
    assert not [r for r in server_log.noise() if "never retrieved" in r.getMessage() or r.exc_info]


async def test_an_undecodable_frame_on_a_live_connection_is_an_error_and_the_connection_stays(
    running: Running, token: str
) -> None:
    url = running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with ws_connect(url) as ws:
        await ws.recv()
        await ws.send("40" + json.dumps({"token": token}))
        hello = {await asyncio.wait_for(_first_not_ping(ws), 10) for _ in range(2)}
        assert any(m.startswith("40") for m in hello) and any('"connected"' in m for m in hello), hello
        for frame in ["\x00\xff", "4\x00\xff", "42[1,2", "42[]", "42[{}]"]:
            await ws.send(frame)
            reply = await asyncio.wait_for(_first_not_ping(ws), 10)
            assert reply.startswith("42") and json.loads(reply[2:])[0] == "error", (frame, reply)
        await ws.send('421["ping",{}]')
        answers = [await asyncio.wait_for(_first_not_ping(ws), 10) for _ in range(2)]  # still answering:
        assert any(a.startswith("431") for a in answers), answers  # the acknowledgement
        assert any(a.startswith('42["health"') for a in answers), answers  # and the named event


@pytest.mark.parametrize(
    ("auth", "code"), [(None, "unauthorized"), ({"token": "not-a-token"}, "invalid_token")]
)
async def test_a_refused_connection_carries_json_with_a_code(
    running: Running, auth: dict[str, str] | None, code: str
) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []

    @client.on("connect_error")
    async def on_connect_error(data: Any) -> None:
        refusals.append(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(running.url, auth=auth, wait_timeout=10)
    await wait_until(lambda: refusals)
    refusal = refusals[0]
    assert isinstance(refusal, dict) and set(refusal) == {"message", "data"}, refusal
    assert refusal["data"]["code"] == code and isinstance(refusal["data"]["error"], str)
    assert refusal["message"] == refusal["data"]["error"]  # readable text, not a Python repr
    assert not refusal["message"].startswith("{")


async def test_malformed_http_requests_cost_at_most_a_line(running: Running, server_log: Captured) -> None:
    host, port = running.url.removeprefix("http://").rsplit(":", 1)
    for _ in range(30):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        await reader.read()  # the server answers 400 and closes
        writer.close()
        await writer.wait_closed()
    async with running.client() as http:
        assert (await http.get("/api/health")).status_code == 200
    noise = server_log.noise()
    assert len(noise) <= 1 and not any(r.exc_info for r in noise), [r.getMessage() for r in noise]
