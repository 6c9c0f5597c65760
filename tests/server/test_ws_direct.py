"""Live data written straight to the WebSocket as frames built once for every client, and each
connection's frames written once a loop turn (app.server.ws_direct, app.server.ws_batching).

The frames are checked against the websockets library's own parser; the write collecting against a
real socket pair; the two delivery paths against the real server on a real port with
``server.ws_compression`` on, where a client that negotiates permessage-deflate must take the ordinary
path (its frames are compressed for it) while one that does not gets the shared frames — and both get
the same events, in the same order rules.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from app.server.ws_batching import BatchedTransport
from app.server.ws_direct import EventPacket, frame_of, text_frame
from tests.server.conftest import Running, start_runtime, stop_runtime
from tests.server.test_live_data import Seed002, bar_seconds
from tests.support.sim_fixtures import wait_until


def parse_frames(data: bytes) -> list[Frame]:
    """Frames as a WebSocket client reads them (websockets' parser, unmasked: from a server)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            while True:
                next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_a_text_frame_reads_back_as_the_same_text_at_every_length_encoding(size: int) -> None:
    payload = ("é" * (size // 2) + "x" * (size % 2)).encode()
    (frame,) = parse_frames(text_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin and frame.data == payload


def test_an_event_packet_is_its_socket_io_text_and_carries_one_shared_engine_io_frame() -> None:
    packet = EventPacket('2["tick",{"symbol":"EURUSD","bid":1.1}]')
    assert packet == '2["tick",{"symbol":"EURUSD","bid":1.1}]' and isinstance(packet, str)
    assert packet.frame is packet.frame  # built once, then shared
    (frame,) = parse_frames(packet.frame + frame_of('2["health",{}]'))[:1]
    assert frame.data.decode() == '42["tick",{"symbol":"EURUSD","bid":1.1}]'  # Engine.IO MESSAGE "4"
    assert [f.data for f in parse_frames(packet.frame + frame_of('2["health",{}]'))][1] == b'42["health",{}]'


class Counting(asyncio.Protocol):
    def __init__(self) -> None:
        self.received = bytearray()
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.received += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)


async def _pair() -> tuple[BatchedTransport, asyncio.Transport, Counting]:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    _, peer = await loop.connect_accepted_socket(Counting, theirs)
    assert isinstance(transport, asyncio.Transport)
    return BatchedTransport(transport, loop), transport, peer


async def test_a_loop_turns_writes_reach_the_peer_in_order_as_one_write() -> None:
    batched, real, peer = await _pair()
    writes: list[bytes] = []
    original = real.write
    real.write = lambda data: (writes.append(bytes(data)), original(data))[1]  # type: ignore[method-assign]
    for i in range(5):
        batched.write(f"frame {i};".encode())
    batched.write(b"")  # nothing: nothing to write
    assert writes == [] and batched.get_write_buffer_size() == len(b"frame 0;") * 5
    await asyncio.sleep(0)  # the end of the turn
    assert writes == [b"frame 0;frame 1;frame 2;frame 3;frame 4;"]
    await wait_until(lambda: len(peer.received) == 40)
    assert peer.received == b"frame 0;frame 1;frame 2;frame 3;frame 4;"
    batched.close()
    await peer.closed


async def test_closing_writes_what_was_collected_first_and_abort_drops_it() -> None:
    batched, _, peer = await _pair()
    batched.write(b"the last frame")
    batched.close()  # in the same turn: the frame still goes before the close
    await asyncio.wait_for(peer.closed, 10)
    assert peer.received == b"the last frame"

    batched, _, peer = await _pair()
    batched.write(b"never sent")
    batched.abort()
    await asyncio.wait_for(peer.closed, 10)
    await asyncio.sleep(0)
    assert peer.received == b""


# ----------------------------------------------------------------------------- the real server


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    started = await start_runtime(tmp_path_factory.mktemp("direct"), sim={"speed": 10.0}, ws_compression=True)
    yield started
    await stop_runtime(started)


class Deflating:
    """A raw Engine.IO 4 / Socket.IO 5 client over a WebSocket that offers permessage-deflate."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.compress = 0
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None

    async def connect(self, running: Running, token: str) -> None:
        self._session = aiohttp.ClientSession()
        url = running.url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = self._ws = await self._session.ws_connect(url, compress=15)
        self.compress = ws.compress
        assert (await ws.receive_str()).startswith("0")
        await ws.send_str("40" + json.dumps({"token": token}))
        while not (await ws.receive_str()).startswith("40"):
            pass
        subscribe = ["subscribe", {"symbol": "EURUSD", "timeframe": "M1"}]
        await ws.send_str("42" + json.dumps(subscribe))
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.data == "2":
                await ws.send_str("3")
            elif message.type is aiohttp.WSMsgType.TEXT and message.data.startswith("42"):
                name, data = json.loads(message.data[2:])
                self.events.append((name, data))

    def got(self, name: str) -> list[Any]:
        return [data for event, data in self.events if event == name]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_compressed_and_plain_clients_get_the_same_live_data_each_by_its_own_path(
    running: Running, token: str
) -> None:
    gateway = running.runtime.server.gateway
    assert gateway is not None
    plain, deflating = Seed002(), Deflating()
    await plain.sio.connect(running.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    await deflating.connect(running, token)
    try:
        assert deflating.compress > 0  # permessage-deflate negotiated (its window bits): ws_compression on
        await plain.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1"})
        await wait_until(lambda: plain.got("subscribed") and deflating.got("subscribed"), within_s=30)

        def closed(candles: list[dict[str, Any]]) -> int:
            return sum(c["closed"] for c in candles if "bar" in c)

        await wait_until(
            lambda: closed(plain.candles("EURUSD")) >= 1 and closed(deflating.got("candles")) >= 1,
            within_s=60,
        )
        await wait_until(lambda: len(plain.ticks("EURUSD")) >= 20 and len(deflating.got("tick")) >= 20)
        by_sid = {c.sid: c for c in gateway.clients.values()}
        served_plain = by_sid[plain.sio.get_sid()]
        served_deflating = next(c for sid, c in by_sid.items() if sid != plain.sio.get_sid())
        assert served_plain.frames_direct > 0  # the shared frames
        assert served_deflating.frames_direct == 0 and served_deflating.packets_queued > 0  # its own

        for candles in (plain.candles("EURUSD"), [c for c in deflating.got("candles") if "bar" in c]):
            sequence = [bar_seconds(c) for c in candles]
            assert sequence == sorted(sequence)  # never a bar older than one already sent
            assert len({bar_seconds(c) for c in candles if c["closed"]}) == closed(candles)  # each once
        ticks = {json.dumps(t, sort_keys=True) for t in plain.ticks("EURUSD")}
        theirs = {json.dumps(t, sort_keys=True) for t in deflating.got("tick")}
        assert ticks & theirs  # the same ticks, byte for byte in what they decode to
        assert plain.got("subscribed")[0]["subscriptions"] == deflating.got("subscribed")[0]["subscriptions"]
    finally:
        await plain.sio.disconnect()
        await deflating.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def uncompressed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    started = await start_runtime(tmp_path_factory.mktemp("default"))  # ws_compression: its default
    yield started
    await stop_runtime(started)


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_by_default_no_compression_is_negotiated_and_live_data_takes_the_shared_frames(
    uncompressed: Running,
) -> None:
    gateway = uncompressed.runtime.server.gateway
    assert gateway is not None
    client = Deflating()  # offers permessage-deflate, as browsers and Node's ws do
    await client.connect(uncompressed, await uncompressed.login())
    try:
        assert client.compress == 0  # declined: server.ws_compression is off
        await wait_until(lambda: len(client.got("tick")) >= 5, within_s=30)
        (served,) = gateway.clients.values()
        assert served.frames_direct > 0
        assert all(t["symbol"] == "EURUSD" for t in client.got("tick"))
    finally:
        await client.close()
