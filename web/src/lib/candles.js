// The chart's live bar. Bars are aligned as MT5 (and the app's app/core/bars.py) aligns them: intraday
// and daily bars on multiples of their length since midnight, weeks from Sunday 00:00, months from the
// 1st, in server time (UTC), built from the bid.
//
// Where the live bar comes from is one small source behind ``openLiveCandles``:
//   * the server's `candles` events (issue 19's live candles, on seed 001's `candles` channel:
//     `subscribe {channels: ["candles"], symbols, timeframes}` → `candles {symbol, timeframe, bar,
//     closed}`: no tick events the page would not use), when the server has them;
//   * otherwise the quotes: each quote moves the last bar, a quote past its end opens the next one,
//     and the REST candles are read again now and then to take the terminal's own bar (tick volume,
//     and a high or low that a conflated quote stream skipped).

export const TIMEFRAMES = [
  "M1", "M2", "M3", "M4", "M5", "M6", "M10", "M12", "M15", "M20", "M30",
  "H1", "H2", "H3", "H4", "H6", "H8", "H12", "D1", "W1", "MN1",
];
export const QUICK_TIMEFRAMES = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1", "MN1"];

const SECONDS = {
  M1: 60, M2: 120, M3: 180, M4: 240, M5: 300, M6: 360, M10: 600, M12: 720, M15: 900, M20: 1200,
  M30: 1800, H1: 3600, H2: 7200, H3: 10800, H4: 14400, H6: 21600, H8: 28800, H12: 43200, D1: 86400,
  W1: 604800, MN1: 2592000,
};
const SUNDAY_EPOCH_OFFSET = 3 * 86400; // 1970-01-01 was a Thursday

export function timeframeSeconds(timeframe) {
  const s = SECONDS[timeframe];
  if (!s) throw new Error(`unknown timeframe ${timeframe}`);
  return s;
}

/** Open time (epoch seconds) of the ``timeframe`` bar holding ``seconds``. */
export function barOpenTime(timeframe, seconds) {
  const t = Math.floor(seconds);
  if (timeframe === "MN1") {
    const d = new Date(t * 1000);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  }
  if (timeframe === "W1") return t - ((((t - SUNDAY_EPOCH_OFFSET) % 604800) + 604800) % 604800);
  const length = timeframeSeconds(timeframe);
  return t - (t % length);
}

/** A REST/socket candle ({time: ISO or seconds, open, high, low, close, tick_volume}) as a chart bar. */
export function toBar(candle) {
  const time = typeof candle.time === "number" ? candle.time : Math.floor(Date.parse(candle.time) / 1000);
  return {
    time,
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
    volume: candle.tick_volume ?? 0,
  };
}

/** Moves the last bar with each quote's bid. */
export class QuoteBarBuilder {
  constructor(timeframe, lastBar = null) {
    this.timeframe = timeframe;
    this.bar = lastBar ? { ...lastBar } : null;
  }

  /** Take the terminal's bar (from REST) when it is the current one or newer. */
  adopt(bar) {
    if (!bar) return;
    if (!this.bar || bar.time >= this.bar.time) this.bar = { ...bar };
  }

  /** ``quote``: {bid, timestamp (ISO)}. Answers {bar, opened} or null (an older quote, no bid). */
  onQuote(quote) {
    const bid = quote?.bid;
    if (!Number.isFinite(bid) || bid <= 0) return null;
    const seconds = Date.parse(quote.timestamp) / 1000;
    if (!Number.isFinite(seconds)) return null;
    const open = barOpenTime(this.timeframe, seconds);
    if (this.bar && open < this.bar.time) return null;
    if (!this.bar || open > this.bar.time) {
      this.bar = { time: open, open: bid, high: bid, low: bid, close: bid, volume: 1 };
      return { bar: { ...this.bar }, opened: true };
    }
    const bar = this.bar;
    bar.high = Math.max(bar.high, bid);
    bar.low = Math.min(bar.low, bid);
    bar.close = bid;
    bar.volume += 1;
    return { bar: { ...bar }, opened: false };
  }
}

const REFRESH_MS = 15000;

/**
 * Follow the live bar of ``symbol``/``timeframe``: ``onBar(bar, {opened, closed, source})`` for every
 * change (``source``: "candles", the server's live candles, or "quotes").
 * ``live``: the Live connection; ``quotes``: a function subscribing to this symbol's quotes (returns
 * an unsubscribe); ``fetchBars(count)``: the REST candles. Answers {stop(), source}.
 */
export function openLiveCandles({ live, quotes, fetchBars, symbol, timeframe, lastBar, onBar }) {
  const builder = new QuoteBarBuilder(timeframe, lastBar);
  let stopped = false;
  let source = "quotes";
  let unsubscribeQuotes = null;
  let offCandles = null;
  let refreshTimer = null;
  const key = `candles:${symbol}:${timeframe}`;
  const subscription = { channels: ["candles"], symbols: [symbol], timeframes: [timeframe] };

  function fromQuotes() {
    source = "quotes";
    unsubscribeQuotes = quotes((quote) => {
      const moved = builder.onQuote(quote);
      if (moved) onBar(moved.bar, { opened: moved.opened, closed: false, source });
    });
    refreshTimer = setInterval(async () => {
      try {
        const bars = await fetchBars(2);
        const last = bars[bars.length - 1];
        if (!stopped && last && (!builder.bar || last.time >= builder.bar.time)) {
          const opened = !builder.bar || last.time > builder.bar.time;
          builder.adopt(last);
          onBar({ ...builder.bar }, { opened, closed: false, source });
        }
      } catch {
        // the next refresh tries again; the quotes keep the bar moving meanwhile
      }
    }, REFRESH_MS);
  }

  function fromCandleEvents() {
    source = "candles";
    offCandles = live.on("candles", (event) => {
      if (stopped || !event || event.symbol !== symbol || event.timeframe !== timeframe || !event.bar) return;
      const bar = toBar(event.bar);
      const opened = !builder.bar || bar.time > builder.bar.time;
      builder.adopt(bar);
      onBar(bar, { opened, closed: Boolean(event.closed), source });
    });
  }

  // Ask for the server's live candles; a server without them answers with an error, and the quotes do.
  live
    .subscribeExtra(key, subscription)
    .then((answer) => {
      if (stopped) return;
      if (answer && !answer.error) fromCandleEvents();
      else {
        live.extraSubscriptions.delete(key);
        fromQuotes();
      }
    })
    .catch(() => {
      if (!stopped) {
        live.extraSubscriptions.delete(key);
        fromQuotes();
      }
    });

  return {
    get source() {
      return source;
    },
    stop() {
      stopped = true;
      unsubscribeQuotes?.();
      offCandles?.();
      clearInterval(refreshTimer);
      if (source === "candles") live.unsubscribeExtra(key, subscription);
    },
  };
}
