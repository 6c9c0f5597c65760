// A seed-002-style dashboard client on the real socket.io-client package (web/node_modules, installed
// from web/package-lock.json): it uses only seed 002's events and prints what it saw as one JSON line.
//   node seed002_client.cjs <url> <token>      (NODE_PATH=web/node_modules)
"use strict";
const { io } = require("socket.io-client");

const [url, token] = process.argv.slice(2);
const seen = { subscribed: null, ticks: [], live: [], closed: [], history: null, symbols: null, order_book: [], account_info: null, health: null, market_summary: null, errors: [] };
const socket = io(url, { auth: { token }, reconnection: false, timeout: 10000 });

function done() {
  return (
    seen.subscribed && seen.ticks.length >= 2 && new Set(seen.live.map((c) => `${c.bar.close}|${c.bar.tick_volume}`)).size >= 2 &&
    seen.history && seen.symbols && seen.order_book.length >= 2 && seen.account_info && seen.health && seen.market_summary
  );
}

function finish(code) {
  process.stdout.write(JSON.stringify(seen) + "\n");
  socket.close();
  process.exit(code);
}

setTimeout(() => finish(1), 90000);
setInterval(() => done() && finish(0), 100);

socket.on("connect_error", (err) => {
  seen.errors.push({ connect_error: err.message, data: err.data ?? null });
  finish(2);
});
socket.on("connect", () => {
  socket.emit("subscribe", { symbol: "EURUSD", timeframe: "M1" });
  socket.emit("get_symbols");
  socket.emit("get_candles", { symbol: "EURUSD", timeframe: "M1", count: 30 });
  socket.emit("get_account_info");
  socket.emit("ping");
});
socket.on("subscribed", (answer) => {
  seen.subscribed = answer;
  socket.emit("get_order_book", { symbol: "EURUSD" }); // depth keeps coming while subscribed
});
socket.on("tick", (tick) => seen.ticks.push(tick));
socket.on("candles", (event) => {
  if (event.candles) seen.history = { symbol: event.symbol, timeframe: event.timeframe, count: event.candles.length };
  else (event.closed ? seen.closed : seen.live).push(event);
});
socket.on("symbols", (list) => (seen.symbols = list.map((s) => s.name)));
socket.on("order_book", (book) => seen.order_book.push({ symbol: book.symbol, bids: book.bids.length, asks: book.asks.length }));
socket.on("account_info", (info) => (seen.account_info = info));
socket.on("health", (health) => (seen.health = health));
socket.on("market_summary", (summary) => (seen.market_summary = summary));
socket.on("error", (error) => seen.errors.push(error));
