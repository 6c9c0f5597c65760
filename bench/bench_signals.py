"""Benchmark of the signals service: webhook received → ``order_send`` issued, and signals per second
through the validator chain on 8 symbols.

The app runtime (simulated trade server and terminal worker process on a Wednesday clock, audit trail
fsynced per entry, database, the API server on a free loopback port) runs in this process exactly as
``--serve`` runs it.

* **Latency (auto mode).** N TradingView-shaped alerts, one at a time, POSTed by httpx over loopback to
  an ``auto`` webhook. Measured: from just before the client sends to the moment the trading service
  hands the order to the terminal worker (``order_send``), on one clock (``perf_counter``, same
  process), so it includes the client's own send and the HTTP parsing: the app's side, pessimistically.
  Also *received*: from the moment the app's HTTP server reads the request off its socket (uvicorn's
  ``data_received``) — the webhook received — to ``order_send``; and the part from the signals
  service taking the signal (after HTTP) to ``order_send``.
* **Baseline.** The same market order through ``POST /api/place`` (with a bearer token): the trading
  service alone, so that the ratio shows what the signals layer adds, whatever the machine's load.
* **Throughput.** One task per symbol (8 symbols) submitting signals straight to the service in
  ``notify`` mode for S seconds: every signal goes through the whole chain — symbol, duplicate,
  confidence, spread, window, rate, and risk with the terminal's ``order_check`` — is stored, audited
  and published, but not traded.

    .venv/bin/python bench/bench_signals.py                  # ~1 minute
    .venv/bin/python bench/bench_signals.py --alerts 300 --seconds 10 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP"]
SETTINGS = {
    "signals": {"max_per_minute": 100_000, "sources": {"bench": "notify"}},
    "trading": {"limits": {"max_orders_per_second": 0}},
    "market": {"symbols": SYMBOLS, "account_refresh_s": 0.2},
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


class SendClock:
    """Notes when the app's HTTP server reads the request off its socket (the webhook *received*),
    when the signals service takes the signal, and when the terminal is asked to ``order_send``."""

    def __init__(self, running: Any) -> None:
        self.sent_at: float | None = None
        self.taken_at: float | None = None
        self.received_at: float | None = None
        self._hear_requests()
        live = running.runtime.pool.live
        call = live.call
        submit = running.runtime.signals.submit

        async def timed_call(op: str, *args: Any, **kwargs: Any) -> Any:
            if op == "order_send" and self.sent_at is None:
                self.sent_at = time.perf_counter()
            return await call(op, *args, **kwargs)

        async def timed_submit(*args: Any, **kwargs: Any) -> Any:
            if self.taken_at is None:
                self.taken_at = time.perf_counter()
            return await submit(*args, **kwargs)

        live.call = timed_call
        running.runtime.signals.submit = timed_submit

    def _hear_requests(self) -> None:
        """uvicorn's HTTP protocols, wrapped: the first bytes of a request read from the socket."""
        from uvicorn.protocols.http import h11_impl

        protocols = [h11_impl.H11Protocol]
        try:
            from uvicorn.protocols.http import httptools_impl
        except ImportError:  # pragma: no cover - httptools absent: uvicorn uses h11
            pass
        else:
            protocols.append(httptools_impl.HttpToolsProtocol)
        for protocol in protocols:
            original = protocol.data_received

            def data_received(proto: Any, data: bytes, _original: Any = original) -> None:
                if self.received_at is None:
                    self.received_at = time.perf_counter()
                _original(proto, data)

            protocol.data_received = data_received  # type: ignore[method-assign]

    @classmethod
    def of(cls, running: Any) -> SendClock:
        """One clock per runtime (the calls are wrapped once)."""
        clock: SendClock | None = running.__dict__.get("_send_clock")
        if clock is None:
            clock = running.__dict__["_send_clock"] = cls(running)
        return clock

    def reset(self) -> None:
        self.sent_at = self.taken_at = self.received_at = None


async def latency(running: Any, token: str, alerts: int) -> dict[str, float]:
    import httpx

    async with running.client(token) as http:
        made = await http.post(
            "/api/webhooks", json={"name": f"bench-{uuid.uuid4().hex[:6]}", "mode": "auto"}
        )
        secret, name = made.json()["secret"], made.json()["name"]
    clock = SendClock.of(running)
    total: list[float] = []
    received: list[float] = []
    service_side: list[float] = []
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as anonymous:
        for i in range(alerts + 5):
            body = {"secret": secret, "action": "buy", "symbol": "FX:EURUSD", "volume": 0.01,
                    "uuid": f"bench-{uuid.uuid4().hex}"}  # fmt: skip
            clock.reset()
            started = time.perf_counter()
            answer = await anonymous.post(f"/api/webhooks/{name}", json=body)
            if answer.json().get("status") != "executed":
                raise RuntimeError(f"alert not executed: {answer.text}")
            if i < 5 or clock.sent_at is None or clock.taken_at is None or clock.received_at is None:
                continue  # warm-up
            total.append((clock.sent_at - started) * 1000)
            received.append((clock.sent_at - clock.received_at) * 1000)
            service_side.append((clock.sent_at - clock.taken_at) * 1000)
            if i % 25 == 0:  # keep the account small: close what was opened (not measured)
                await running.runtime.signals.submit(
                    _signal("close_all", ""), actor="bench", mode=_mode("auto")
                )
    return {
        "alerts": len(total),
        "p50_ms": statistics.median(total),
        "p99_ms": percentile(total, 99),
        "received_p50_ms": statistics.median(received),
        "received_p99_ms": percentile(received, 99),
        "service_p50_ms": statistics.median(service_side),
        "service_p99_ms": percentile(service_side, 99),
    }


async def place_latency(running: Any, token: str, orders: int) -> dict[str, float]:
    """The same order through ``POST /api/place`` (no signals layer): the baseline of the ratio."""
    clock = SendClock.of(running)
    total: list[float] = []
    received: list[float] = []
    async with running.client(token) as http:
        for i in range(orders + 5):
            body = {"symbol": "EURUSD", "side": "buy", "volume": 0.01, "uuid": f"place-{uuid.uuid4().hex}"}
            clock.reset()
            started = time.perf_counter()
            answer = await http.post("/api/place", json=body)
            if not answer.json().get("success"):
                raise RuntimeError(f"order not placed: {answer.text}")
            if i >= 5 and clock.sent_at is not None and clock.received_at is not None:
                total.append((clock.sent_at - started) * 1000)
                received.append((clock.sent_at - clock.received_at) * 1000)
            if i % 25 == 0:
                await running.runtime.signals.submit(
                    _signal("close_all", ""), actor="bench", mode=_mode("auto")
                )
    return {
        "orders": len(total),
        "p50_ms": statistics.median(total),
        "p99_ms": percentile(total, 99),
        "received_p50_ms": statistics.median(received),
        "received_p99_ms": percentile(received, 99),
    }


def _mode(name: str) -> Any:
    from app.models.signals import SignalMode

    return SignalMode(name)


def _signal(action: str, symbol: str) -> Any:
    from app.models.signals import Signal, SignalAction

    action_ = SignalAction(action)
    sid = f"bench-{uuid.uuid4().hex}"
    return Signal(uuid=sid, source="bench", action=action_, symbol=symbol, volume=0.01, confidence=0.9)


async def throughput(running: Any, seconds: float) -> dict[str, float]:
    service = running.runtime.signals
    deadline = time.perf_counter() + seconds
    done = 0
    refused = 0

    async def one_symbol(symbol: str) -> None:
        nonlocal done, refused
        while time.perf_counter() < deadline:
            record = await service.submit(_signal("buy", symbol), actor="bench")
            done += 1
            refused += record.status.value != "notified"

    began = time.perf_counter()
    await asyncio.gather(*(one_symbol(s) for s in SYMBOLS))
    elapsed = time.perf_counter() - began
    return {"signals": done, "per_second": done / elapsed, "refused": refused}


async def main_async(args: argparse.Namespace) -> None:
    from tests.server.conftest import start_runtime, stop_runtime

    logging.basicConfig(level=logging.WARNING)
    rounds: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        running = await start_runtime(Path(tmp), sections=SETTINGS)
        token = await running.login()
        try:
            for _ in range(args.rounds):
                rounds.setdefault("webhook -> order_send (auto)", []).append(
                    await latency(running, token, args.alerts)
                )
                rounds.setdefault("/api/place -> order_send (baseline)", []).append(
                    await place_latency(running, token, args.alerts)
                )
                rounds.setdefault("chain throughput, 8 symbols (notify)", []).append(
                    await throughput(running, args.seconds)
                )
        finally:
            await stop_runtime(running)
    for name, results in rounds.items():
        medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
        shown = ", ".join(f"{k}={v:,.2f}" for k, v in medians.items())
        print(f"{name}: {shown}  (median of {len(results)})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
