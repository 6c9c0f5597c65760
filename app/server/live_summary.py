"""``market_summary``: every few seconds, and at once on subscribing, the day so far of the symbols each
client follows (bid, ask, spread, the day's open, high, low, change and change in %).

A client follows its seed 002 subscriptions' symbols and its ``quotes`` channel's (all streamed symbols
when that channel has no filter). Clients that follow the same symbols share one encoded packet; each
gets it through its own outbox (latest wins), so a slow client holds back nobody.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from app.core.hub import Topic
from app.models.market import msc_to_datetime
from app.server.live_payloads import summary_row
from app.server.schemas import iso

if TYPE_CHECKING:
    from app.server.context import ServerContext
    from app.server.realtime import Client

log = logging.getLogger(__name__)


class MarketSummary:
    def __init__(
        self, ctx: ServerContext, clients: dict[str, Client], encode: Callable[[str, Any], str]
    ) -> None:
        self.ctx = ctx
        self.clients = clients
        self.encode = encode
        self.interval_s = ctx.settings.server.market_summary_s

    @staticmethod
    def symbols_of(client: Client) -> set[str] | None:
        """The symbols a client's ``market_summary`` covers (None: every streamed one)."""
        wanted = set(client.live.tick_symbols)
        if "quotes" in client.channels:
            if client.symbols is None:
                return None
            wanted |= client.symbols
        return wanted

    def rows(self) -> dict[str, dict[str, Any]]:
        market, hub = self.ctx.services.market_data, self.ctx.services.hub
        rows: dict[str, dict[str, Any]] = {}
        for symbol in market.subscribed:
            quote = hub.latest(Topic.QUOTES, symbol)
            if quote is not None:
                rows[symbol] = summary_row(symbol, quote, market.daily_bar(symbol), self.ctx.digits(symbol).p)
        return rows

    def send(self, client: Client) -> None:
        self.offer([client], self.rows())

    def offer(self, clients: Iterable[Client], rows: dict[str, dict[str, Any]]) -> None:
        packets: dict[frozenset[str] | None, str] = {}
        stamp = iso(msc_to_datetime(int(time.time() * 1000)))
        for client in clients:
            if client.ending or not (client.live.subscriptions or "quotes" in client.channels):
                continue
            wanted = self.symbols_of(client)
            key = None if wanted is None else frozenset(wanted)
            packet = packets.get(key)
            if packet is None:
                chosen = [row for s, row in sorted(rows.items()) if key is None or s in key]
                packet = packets[key] = self.encode("market_summary", {"timestamp": stamp, "symbols": chosen})
            client.offer_latest("market_summary", None, packet)

    async def run(self) -> None:
        """Every ``server.market_summary_s`` to every client that follows something."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.ctx.know_symbols()
                self.offer(list(self.clients.values()), self.rows())
            except Exception:  # pragma: no cover - a converter bug must not end the loop
                log.exception("could not send the market summary")
