"""Benchmark of the embedded server: REST throughput/latency and Socket.IO quote fan-out.

The app runtime (simulated trade server and terminal worker on a Wednesday clock, audit trail,
database, the API server on a free loopback port) runs in this process, exactly as ``--serve`` runs it;
the load comes from a SECOND process (this script with ``--client ...``) over loopback:

* REST: ``GET /api/account`` from N concurrent keep-alive connections (aiohttp) for S seconds:
  requests/s, p50, p99.
* Socket.IO: C clients (python-socketio AsyncClient, WebSocket) subscribed to one synthetic symbol; the
  server publishes its quotes on the hub at R/s, each stamped with the wall-clock time in ms; a client's
  latency is its receive time minus that stamp (same machine, same clock). p50/p99 and delivery ratio.

    .venv/bin/python bench/bench_server.py                 # everything, ~2 minutes
    .venv/bin/python bench/bench_server.py --only rest --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password"  # noqa: S105 - the benchmark's own, in a temporary data dir
SYMBOL = "BENCH"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# ----------------------------------------------------------------------------- load generators (2nd process)


async def rest_client(url: str, token: str, connections: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        for _ in range(connections):  # warm the connections
            async with session.get(f"{url}/api/account") as response:
                await response.read()
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(f"{url}/api/account") as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


async def socket_clients(url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    """Clients that speak Engine.IO 4 / Socket.IO 5 over a WebSocket directly (aiohttp): light enough
    that hundreds in one process measure the server rather than the client library."""
    import aiohttp

    latencies: list[float] = []
    received = 0
    measuring = asyncio.Event()
    done = asyncio.Event()
    ready = 0
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    subscribe = "42" + json.dumps(["subscribe", {"channels": ["quotes"], "symbols": [SYMBOL]}])
    prefix = '42["quotes",'

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal received, ready
        async with session.ws_connect(ws_url, max_msg_size=0) as ws:
            opened = await ws.receive_str()
            assert opened.startswith("0"), opened
            await ws.send_str("40" + json.dumps({"token": token}))
            while not (reply := await ws.receive_str()).startswith("40"):
                if reply.startswith("44"):
                    raise RuntimeError(f"refused: {reply}")
            await ws.send_str(subscribe)
            ready += 1
            while not done.is_set():
                try:
                    message = await asyncio.wait_for(ws.receive(), 0.5)
                except TimeoutError:
                    continue
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                data = message.data
                if data == "2":
                    await ws.send_str("3")
                elif data.startswith(prefix) and measuring.is_set():
                    quote = json.loads(data[2:])[1]
                    latencies.append(time.time() * 1000 - float(quote["bid"]))  # the publisher's ms
                    received += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        for start in range(0, clients, 50):  # connect in waves, not all at once
            tasks += [asyncio.create_task(one(session)) for _ in range(start, min(clients, start + 50))]
            while ready < len(tasks) and not any(t.done() for t in tasks):  # noqa: ASYNC110 - counts, not one event
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        measuring.set()
        await asyncio.sleep(seconds)
        measuring.clear()
        done.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    return {
        "clients": clients - len(failures),
        "received": received,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def run_client(args: argparse.Namespace) -> None:
    if args.client == "rest":
        result = asyncio.run(rest_client(args.url, args.token, args.connections, args.seconds))
    else:
        result = asyncio.run(socket_clients(args.url, args.token, args.connections, args.seconds))
    print(json.dumps(result))


# ----------------------------------------------------------------------------- the app side (this process)


async def load(url: str, token: str, kind: str, connections: int, seconds: float) -> dict[str, Any]:
    command = [
        sys.executable, str(SCRIPT), "--client", kind, "--url", url, "--token", token,
        "--connections", str(connections), "--seconds", str(seconds),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE)
    out, _ = await process.communicate()
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def publish_quotes(hub: Any, rate: float, stop: asyncio.Event) -> int:
    from app.core.hub import Topic
    from app.models import Quote

    period = 1.0 / rate
    sent = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        now_ms = time.time() * 1000
        hub.publish(Topic.QUOTES, Quote(SYMBOL, now_ms, now_ms + 1, int(now_ms), 10, 0), key=SYMBOL)
        sent += 1
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    return sent


async def fanout(running: Any, token: str, clients: int, rate: float, seconds: float) -> dict[str, Any]:
    stop = asyncio.Event()
    publisher = asyncio.create_task(publish_quotes(running.runtime.hub, rate, stop))
    cpu = time.process_time()
    try:
        result = await load(running.url, token, "socketio", clients, seconds)
    finally:
        stop.set()
        await publisher
    cpu = time.process_time() - cpu  # connecting the clients included: a figure to compare, not absolute
    result["server_cpu_us_per_msg"] = cpu / max(1, result["received"]) * 1e6
    expected = clients * rate * seconds
    result["delivered_ratio"] = result["received"] / expected if expected else 0.0
    result["rate"] = rate
    return result


async def main_async(args: argparse.Namespace) -> None:
    from tests.server.conftest import start_runtime, stop_runtime

    logging.basicConfig(level=logging.WARNING)
    rounds: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        running = await start_runtime(Path(tmp))
        token = await running.login()
        try:
            for _ in range(args.rounds):
                if args.only in (None, "rest"):
                    for connections in (4, 32):
                        result = await load(running.url, token, "rest", connections, args.seconds)
                        rounds.setdefault(f"rest {connections} connections", []).append(result)
                if args.only in (None, "socketio"):
                    for clients, rate in ((100, 50.0), (500, 10.0)):
                        result = await fanout(running, token, clients, rate, args.seconds)
                        rounds.setdefault(f"socket.io {clients} clients x {rate:g}/s", []).append(result)
        finally:
            await stop_runtime(running)
    for name, results in rounds.items():
        keys = [k for k in results[0] if isinstance(results[0][k], int | float)]
        medians = {k: statistics.median(r[k] for r in results) for k in keys}
        shown = ", ".join(
            f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v:,}" for k, v in medians.items()
        )
        print(f"{name}: {shown}  (median of {len(results)})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("rest", "socketio"))
    parser.add_argument("--client", choices=("rest", "socketio"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args)
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
