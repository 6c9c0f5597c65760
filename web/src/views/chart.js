// The candlestick chart: history from REST, the live bar from lib/candles.js, a timeframe switch,
// the app's indicators (computed by the server with TA-Lib: the same maths as the window's charts),
// bid/ask lines and lines for the symbol's positions, their SL/TP and pending orders.
import { CandlestickSeries, createChart, HistogramSeries, LineSeries, LineStyle } from "lightweight-charts";
import { openLiveCandles, QUICK_TIMEFRAMES, toBar } from "../lib/candles.js";
import { fill, h, perFrame } from "../lib/dom.js";
import { price } from "../lib/format.js";
import { toast } from "../lib/toast.js";

const HISTORY = 300;
const MAX_HISTORY = 5000;
const INDICATOR_REFRESH_MS = 5000;
const COLORS = { up: "#26a69a", down: "#ef5350", text: "#c9d1d9", grid: "#1f2630", bg: "#0d1117", ask: "#ef9a9a", bid: "#90caf9" };
const INDICATORS = [
  { kind: "sma", label: "SMA", params: { period: 20 }, pane: 0, lines: { sma: "#f2c94c" } },
  { kind: "ema", label: "EMA", params: { period: 50 }, pane: 0, lines: { ema: "#bb86fc" } },
  { kind: "bbands", label: "Bollinger", params: { period: 20, deviation: 2 }, pane: 0, lines: { upper: "#4fc3f7", middle: "#4fc3f7", lower: "#4fc3f7" } },
  { kind: "rsi", label: "RSI", params: { period: 14 }, pane: "own", lines: { rsi: "#ffb74d" } },
  { kind: "macd", label: "MACD", params: { fast: 12, slow: 26, signal: 9 }, pane: "own", lines: { macd: "#4fc3f7", signal: "#ff8a65", histogram: "hist" } },
];

export function mountChart({ store, api, live, quotesFor, el }) {
  let timeframe = "M1";
  let symbol = store.selected;
  let liveCandles = null;
  let bars = [];
  let count = HISTORY;
  let hovering = false;
  let loadSeq = 0;
  const active = new Map(); // kind -> {series: {line: series}, params}
  const priceLines = [];
  let indicatorTimer = 0;

  const symbolPicker = h("select", { "aria-label": "Chart symbol", id: "chart-symbol" });
  const tfButtons = QUICK_TIMEFRAMES.map((tf) =>
    h("button", { type: "button", class: "tf", dataset: { tf }, text: tf, "aria-pressed": String(tf === timeframe), onclick: () => setTimeframe(tf) }),
  );
  const indicatorMenu = h(
    "details",
    { class: "menu" },
    h("summary", { text: "Indicators" }),
    h(
      "div",
      { class: "menu-body" },
      INDICATORS.map((spec) => {
        const box = h("input", { type: "checkbox", dataset: { indicator: spec.kind }, onchange: (e) => toggleIndicator(spec, e.target.checked, paramInputs) });
        const paramInputs = Object.entries(spec.params).map(([name, value]) =>
          h("input", { type: "number", class: "param", "aria-label": `${spec.label} ${name}`, dataset: { param: name }, value: String(value), min: name === "deviation" ? "0.1" : "2", step: name === "deviation" ? "0.1" : "1", onchange: () => box.checked && toggleIndicator(spec, true, paramInputs) }),
        );
        return h("label", { class: "menu-item" }, box, spec.label, paramInputs);
      }),
    ),
  );
  const legend = h("div", { class: "chart-legend", id: "chart-legend", "aria-live": "off" });
  const sourceNote = h("span", { class: "chart-source", id: "chart-source" });
  const host = h("div", { class: "chart-host", id: "chart" });
  fill(el, 
    h("div", { class: "panel-title chart-toolbar" }, symbolPicker, h("div", { class: "tf-group", role: "group", "aria-label": "Timeframe" }, tfButtons), indicatorMenu, sourceNote),
    h("div", { class: "chart-area" }, host, legend),
  );

  const chart = createChart(host, {
    autoSize: true,
    layout: { background: { type: "solid", color: COLORS.bg }, textColor: COLORS.text, fontSize: 11, attributionLogo: false, panes: { separatorColor: "#30363d" } },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 4, borderColor: "#30363d" },
    rightPriceScale: { borderColor: "#30363d" },
    crosshair: { mode: 0 },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.up, downColor: COLORS.down, wickUpColor: COLORS.up, wickDownColor: COLORS.down, borderVisible: false,
  });
  const askLine = candles.createPriceLine({ price: 0, color: COLORS.ask, lineWidth: 1, lineStyle: LineStyle.Dotted, axisLabelVisible: true, title: "ask", lineVisible: false });

  chart.subscribeCrosshairMove((param) => {
    const bar = param?.seriesData?.get(candles);
    hovering = Boolean(bar);
    showLegend(bar ?? bars[bars.length - 1]);
  });
  chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
    if (range && range.from < 5 && bars.length >= count && count < MAX_HISTORY) {
      count = Math.min(MAX_HISTORY, count * 2);
      load({ keepView: true });
    }
  });

  function showLegend(bar) {
    if (!bar) {
      legend.textContent = `${symbol ?? ""} ${timeframe}`;
      return;
    }
    const d = store.digits(symbol);
    const when = new Date(bar.time * 1000).toISOString().replace("T", " ").slice(0, 16);
    legend.textContent = `${symbol} ${timeframe}  ${when}  O ${price(bar.open, d)}  H ${price(bar.high, d)}  L ${price(bar.low, d)}  C ${price(bar.close, d)}`;
    legend.dataset.close = String(bar.close);
    legend.dataset.time = String(bar.time);
  }

  const drawLive = perFrame((bar) => {
    candles.update(bar);
    if (!hovering) showLegend(bar);
  });

  function onLiveBar(bar, { opened, source }) {
    host.dataset.live = source; // "candles": the server's live candles; "quotes": built from the quotes
    const last = bars[bars.length - 1];
    if (last && bar.time < last.time) return;
    if (last && bar.time === last.time) bars[bars.length - 1] = bar;
    else bars.push(bar);
    drawLive(bar);
    const now = Date.now();
    if (opened || now - indicatorTimer > INDICATOR_REFRESH_MS) {
      indicatorTimer = now;
      refreshIndicators();
    }
  }

  async function fetchBars(n) {
    const answer = await api.get("/api/candles", { symbol, timeframe, count: n });
    return (answer?.candles ?? []).map(toBar);
  }

  async function load({ keepView = false } = {}) {
    if (!symbol) return;
    const seq = ++loadSeq;
    liveCandles?.stop();
    liveCandles = null;
    try {
      const fetched = await fetchBars(count);
      if (seq !== loadSeq) return;
      bars = fetched;
      const range = keepView ? chart.timeScale().getVisibleLogicalRange() : null;
      candles.setData(bars);
      const d = store.digits(symbol);
      candles.applyOptions({ priceFormat: { type: "price", precision: d, minMove: 1 / 10 ** d } });
      if (range) {
        const added = bars.length - (range.to - range.from);
        chart.timeScale().setVisibleLogicalRange({ from: range.from + added / 2, to: range.to + added / 2 });
      } else chart.timeScale().scrollToRealTime();
      showLegend(bars[bars.length - 1]);
      if (!performance.getEntriesByName("mt5c:chart").length) performance.mark("mt5c:chart");
      host.dataset.symbol = symbol;
      host.dataset.timeframe = timeframe;
      host.dataset.bars = String(bars.length);
      liveCandles = openLiveCandles({
        live,
        quotes: (fn) => quotesFor(symbol, fn),
        fetchBars,
        symbol,
        timeframe,
        lastBar: bars[bars.length - 1],
        onBar: onLiveBar,
      });
      sourceNote.textContent = "";
      refreshIndicators();
      drawTradeLines();
    } catch (error) {
      if (seq === loadSeq) toast(`Chart ${symbol} ${timeframe}: ${error.message}`, "error");
    }
  }

  function setTimeframe(tf) {
    if (tf === timeframe) return;
    timeframe = tf;
    count = HISTORY;
    for (const b of tfButtons) b.setAttribute("aria-pressed", String(b.dataset.tf === tf));
    load();
  }

  function setSymbol(next) {
    if (!next || next === symbol) return;
    symbol = next;
    symbolPicker.value = next;
    count = HISTORY;
    load();
  }

  function paramsOf(inputs) {
    const params = {};
    for (const input of inputs) {
      const n = Number(input.value);
      if (Number.isFinite(n)) params[input.dataset.param] = n;
    }
    return params;
  }

  function toggleIndicator(spec, on, inputs) {
    removeIndicator(spec.kind);
    if (on) {
      active.set(spec.kind, { spec, params: paramsOf(inputs), series: {} });
      refreshIndicator(spec.kind);
    }
  }

  function removeIndicator(kind) {
    const entry = active.get(kind);
    if (!entry) return;
    for (const series of Object.values(entry.series)) chart.removeSeries(series);
    active.delete(kind);
  }

  function paneFor(spec) {
    if (spec.pane === 0) return 0;
    const own = [...active.values()].filter((e) => e.spec.pane === "own");
    return 1 + own.findIndex((e) => e.spec.kind === spec.kind);
  }

  function refreshIndicators() {
    for (const kind of active.keys()) refreshIndicator(kind);
  }

  async function refreshIndicator(kind) {
    const entry = active.get(kind);
    if (!entry || !symbol) return;
    const wanted = `${symbol}|${timeframe}`;
    try {
      const answer = await api.get("/api/indicators", { symbol, timeframe, indicator: kind, count: Math.min(bars.length || count, MAX_HISTORY), ...entry.params });
      if (active.get(kind) !== entry || wanted !== `${symbol}|${timeframe}`) return;
      const times = answer.times.map((t) => Math.floor(Date.parse(t) / 1000));
      for (const [line, color] of Object.entries(entry.spec.lines)) {
        const values = answer.values[line] ?? [];
        const data = times.map((time, i) => (values[i] === null || values[i] === undefined ? { time } : { time, value: values[i] }));
        let series = entry.series[line];
        if (!series) {
          const pane = paneFor(entry.spec);
          series =
            color === "hist"
              ? chart.addSeries(HistogramSeries, { color: "#546e7a", priceLineVisible: false, lastValueVisible: false }, pane)
              : chart.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: line !== "middle", crosshairMarkerVisible: false }, pane);
          entry.series[line] = series;
          if (pane > 0) chart.panes()[pane]?.setHeight(110);
        }
        series.setData(data);
      }
    } catch (error) {
      toast(`${entry.spec.label}: ${error.message}`, "error");
      removeIndicator(kind);
      const box = indicatorMenu.querySelector(`input[data-indicator="${kind}"]`);
      if (box) box.checked = false;
    }
  }

  function drawTradeLines() {
    for (const line of priceLines.splice(0)) candles.removePriceLine(line);
    if (!symbol) return;
    const add = (p, color, title, style = LineStyle.Solid) => {
      if (p > 0) priceLines.push(candles.createPriceLine({ price: p, color, lineWidth: 1, lineStyle: style, axisLabelVisible: true, title }));
    };
    for (const p of store.positions.filter((x) => x.symbol === symbol)) {
      add(p.price_open, p.type === "buy" ? "#42a5f5" : "#ef5350", `#${p.ticket} ${p.type} ${p.volume}`);
      add(p.sl, "#ef5350", `SL #${p.ticket}`, LineStyle.Dashed);
      add(p.tp, "#66bb6a", `TP #${p.ticket}`, LineStyle.Dashed);
    }
    for (const o of store.orders.filter((x) => x.symbol === symbol)) {
      add(o.price_open, "#ffb74d", `#${o.ticket} ${o.type.replace("_", " ")} ${o.volume}`, LineStyle.LargeDashed);
    }
  }

  const drawAsk = perFrame((quote) => askLine.applyOptions({ price: quote.ask, lineVisible: true }));

  function fillSymbols() {
    const names = [...store.quotes.keys()];
    for (const name of store.symbols.keys()) if (store.symbols.get(name).subscribed && !names.includes(name)) names.push(name);
    names.sort();
    fill(symbolPicker, names.map((n) => h("option", { value: n, text: n })));
    if (symbol) symbolPicker.value = symbol;
  }

  symbolPicker.addEventListener("change", () => store.select(symbolPicker.value));
  store.on("selected", setSymbol);
  store.on("symbols", fillSymbols);
  store.on("quote", (q) => {
    if (q.symbol === symbol) drawAsk(q);
    if (![...symbolPicker.options].some((o) => o.value === q.symbol)) fillSymbols();
  });
  store.on("positions", drawTradeLines);
  store.on("orders", drawTradeLines);

  fillSymbols();
  if (symbol) load();

  return {
    reload: () => load({ keepView: true }),
    destroy() {
      liveCandles?.stop();
      chart.remove();
    },
  };
}
