// The live bar: MT5's bar alignment, quotes moving the last bar, and where the live bar comes from.
import assert from "node:assert/strict";
import { test } from "node:test";
import { barOpenTime, openLiveCandles, QuoteBarBuilder, toBar } from "../src/lib/candles.js";

const at = (iso) => Date.parse(iso) / 1000;

test("bars open where MT5 opens them", () => {
  assert.equal(barOpenTime("M1", at("2026-11-18T09:00:59Z")), at("2026-11-18T09:00:00Z"));
  assert.equal(barOpenTime("M15", at("2026-11-18T09:29:00Z")), at("2026-11-18T09:15:00Z"));
  assert.equal(barOpenTime("H4", at("2026-11-18T11:59:00Z")), at("2026-11-18T08:00:00Z"));
  assert.equal(barOpenTime("D1", at("2026-11-18T23:59:59Z")), at("2026-11-18T00:00:00Z"));
  assert.equal(barOpenTime("W1", at("2026-11-18T09:00:00Z")), at("2026-11-15T00:00:00Z")); // a Sunday
  assert.equal(barOpenTime("W1", at("2026-11-15T00:00:00Z")), at("2026-11-15T00:00:00Z"));
  assert.equal(barOpenTime("MN1", at("2026-11-18T09:00:00Z")), at("2026-11-01T00:00:00Z"));
  assert.throws(() => barOpenTime("M7", 0), /unknown timeframe/);
});

test("a quote moves the last bar; a quote past its end opens the next; an older one is ignored", () => {
  const last = toBar({ time: "2026-11-18T09:00:00Z", open: 1.1, high: 1.2, low: 1.0, close: 1.15, tick_volume: 10 });
  const builder = new QuoteBarBuilder("M1", last);
  let moved = builder.onQuote({ bid: 1.25, timestamp: "2026-11-18T09:00:30Z" });
  assert.deepEqual(moved, { bar: { time: last.time, open: 1.1, high: 1.25, low: 1.0, close: 1.25, volume: 11 }, opened: false });
  moved = builder.onQuote({ bid: 1.24, timestamp: "2026-11-18T09:01:02Z" });
  assert.equal(moved.opened, true);
  assert.deepEqual(moved.bar, { time: at("2026-11-18T09:01:00Z"), open: 1.24, high: 1.24, low: 1.24, close: 1.24, volume: 1 });
  assert.equal(builder.onQuote({ bid: 1.3, timestamp: "2026-11-18T09:00:59Z" }), null);
  assert.equal(builder.onQuote({ bid: Number.NaN, timestamp: "2026-11-18T09:01:03Z" }), null);
  builder.adopt({ time: at("2026-11-18T09:01:00Z"), open: 1.24, high: 1.26, low: 1.23, close: 1.25, volume: 40 });
  assert.equal(builder.bar.high, 1.26); // the terminal's own bar wins
});

function fakeLive(answer) {
  const handlers = new Map();
  return {
    extraSubscriptions: new Map(),
    sent: [],
    subscribeExtra(key, payload) {
      this.extraSubscriptions.set(key, payload);
      this.sent.push(payload);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    unsubscribeExtra(key) {
      this.extraSubscriptions.delete(key);
    },
    on(event, fn) {
      handlers.set(event, fn);
      return () => handlers.delete(event);
    },
    fire(event, data) {
      handlers.get(event)?.(data);
    },
  };
}

test("a server without live candles: the quotes move the bar", async () => {
  const live = fakeLive({ error: "channels must be a non-empty list of names", code: "bad_request" });
  let quoteHandler = null;
  const bars = [];
  const feed = openLiveCandles({
    live,
    quotes: (fn) => ((quoteHandler = fn), () => (quoteHandler = null)),
    fetchBars: async () => [],
    symbol: "EURUSD",
    timeframe: "M1",
    lastBar: null,
    onBar: (bar, how) => bars.push([bar.close, how.opened]),
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(feed.source, "quotes");
  assert.deepEqual(live.sent, [{ channels: ["candles"], symbols: ["EURUSD"], timeframes: ["M1"] }]);
  assert.equal(live.extraSubscriptions.size, 0); // not re-sent after a reconnect
  quoteHandler({ bid: 1.1, timestamp: "2026-11-18T09:00:01Z" });
  quoteHandler({ bid: 1.2, timestamp: "2026-11-18T09:00:02Z" });
  assert.deepEqual(bars, [[1.1, true], [1.2, false]]);
  feed.stop();
  assert.equal(quoteHandler, null);
});

test("a server with live candles (issue 19): its candles events move the bar", async () => {
  const live = fakeLive({ channels: ["candles"], symbols: null, candles: [{ symbol: "EURUSD", timeframe: "M5" }] });
  const bars = [];
  const feed = openLiveCandles({
    live,
    quotes: () => assert.fail("quotes are not needed"),
    fetchBars: async () => [],
    symbol: "EURUSD",
    timeframe: "M5",
    lastBar: null,
    onBar: (bar, how) => bars.push([bar.time, bar.close, how.closed, how.source]),
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(feed.source, "candles");
  const bar = { time: "2026-11-18T09:00:00Z", open: 1, high: 2, low: 0.5, close: 1.5, tick_volume: 3 };
  live.fire("candles", { symbol: "EURUSD", timeframe: "M5", bar, closed: false });
  live.fire("candles", { symbol: "GBPUSD", timeframe: "M5", bar, closed: false }); // not this chart's
  live.fire("candles", { symbol: "EURUSD", timeframe: "M5", bar: { ...bar, close: 1.6 }, closed: true });
  assert.deepEqual(bars, [
    [at("2026-11-18T09:00:00Z"), 1.5, false, "candles"],
    [at("2026-11-18T09:00:00Z"), 1.6, true, "candles"],
  ]);
  feed.stop();
  assert.equal(live.extraSubscriptions.size, 0);
});
