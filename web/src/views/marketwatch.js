// Market Watch: bid, ask, spread and the day's change per symbol, coloured by the last tick's
// direction. The change is the live bid against the day's open from the server's `market_summary`
// (its high and low in the cell's tooltip). Drawn once per frame with only the changed rows touched (a tick storm costs no layout).
import { h, perFrame, setText, fill } from "../lib/dom.js";
import { percent, price } from "../lib/format.js";

export function mountMarketWatch({ store, el, onAddSymbol }) {
  const rows = new Map();
  const dirty = new Set();
  const body = h("tbody");
  const picker = h("select", { "aria-label": "Add a symbol", class: "add-symbol" });
  fill(el, 
    h("div", { class: "panel-title" }, h("h2", { text: "Market Watch" }), picker),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "grid quotes", id: "quotes-table" },
        h("thead", {}, h("tr", {}, ["Symbol", "Bid", "Ask", "Spr", "Chg"].map((t) => h("th", { text: t })))),
        body,
      ),
    ),
  );
  picker.addEventListener("change", () => {
    if (picker.value) onAddSymbol(picker.value);
    picker.value = "";
  });

  function row(symbol) {
    let entry = rows.get(symbol);
    if (entry) return entry;
    const cells = {
      bid: h("td", { class: "num bid" }),
      ask: h("td", { class: "num ask" }),
      spread: h("td", { class: "num spread" }),
      change: h("td", { class: "num change" }),
    };
    const tr = h(
      "tr",
      { dataset: { symbol }, tabindex: 0, onclick: () => store.select(symbol), onkeydown: (e) => e.key === "Enter" && store.select(symbol) },
      h("td", { class: "sym", text: symbol }),
      cells.bid,
      cells.ask,
      cells.spread,
      cells.change,
    );
    entry = { tr, cells };
    rows.set(symbol, entry);
    const names = [...rows.keys()].sort();
    const after = names[names.indexOf(symbol) + 1];
    body.insertBefore(tr, after ? rows.get(after).tr : null);
    return entry;
  }

  const flush = perFrame(() => {
    for (const symbol of dirty) {
      const quote = store.quotes.get(symbol);
      if (!quote) continue;
      const { tr, cells } = row(symbol);
      const digits = store.digits(symbol);
      setText(cells.bid, price(quote.bid, digits));
      setText(cells.ask, price(quote.ask, digits));
      setText(cells.spread, String(quote.spread));
      const open = store.dayOpen.get(symbol);
      const change = open ? ((quote.bid - open) / open) * 100 : null;
      setText(cells.change, change === null ? "" : percent(change));
      cells.change.className = `num change ${change > 0 ? "up" : change < 0 ? "down" : ""}`;
      const day = store.summary.get(symbol);
      if (day && day.high !== null && day.low !== null) {
        cells.change.title = `today: open ${price(day.open, digits)}, high ${price(day.high, digits)}, low ${price(day.low, digits)}`;
        cells.change.dataset.open = String(day.open);
      }
      tr.dataset.dir = quote.dir || "";
      tr.dataset.time = String(Date.parse(quote.timestamp)); // the tick's server time (ms)
      tr.classList.toggle("selected", symbol === store.selected);
    }
    dirty.clear();
  });

  store.on("quote", (quote) => {
    dirty.add(quote.symbol);
    flush();
  });
  store.on("summary", (summary) => {
    for (const symbol of summary.keys()) if (store.quotes.has(symbol)) dirty.add(symbol);
    flush();
  });
  store.on("selected", () => {
    for (const [symbol, { tr }] of rows) tr.classList.toggle("selected", symbol === store.selected);
  });
  store.on("symbols", () => {
    const shown = new Set(rows.keys());
    fill(picker, 
      h("option", { value: "", text: "+ symbol" }),
      [...store.symbols.keys()].filter((s) => !shown.has(s)).sort().map((s) => h("option", { value: s, text: s })),
    );
  });
  for (const symbol of store.quotes.keys()) dirty.add(symbol);
  flush();
}
