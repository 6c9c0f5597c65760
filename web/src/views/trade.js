// The Trade tab: positions and pending orders with live P/L; close, partial close and modify where
// the role allows (the buttons are not drawn for a role that cannot trade: the server would say 403).
import { ask } from "../lib/dialog.js";
import { fill, h, perFrame, setText } from "../lib/dom.js";
import { dateTime, money, price, signClass, volume } from "../lib/format.js";
import { toast } from "../lib/toast.js";

export function mountTrade({ store, api, el, permissions }) {
  const positionsBody = h("tbody");
  const ordersBody = h("tbody");
  const summary = h("p", { class: "muted trade-summary", id: "trade-summary" });
  const actions = permissions.trade;
  const head = (cols) => h("thead", {}, h("tr", {}, cols.map((c) => h("th", { text: c }))));
  fill(el, 
    summary,
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "positions-table" },
      head(["Ticket", "Symbol", "Type", "Volume", "Open", "Current", "SL", "TP", "Swap", "Profit", ...(actions ? [""] : [])]),
      positionsBody)),
    h("h3", { text: "Pending orders" }),
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "orders-table" },
      head(["Ticket", "Symbol", "Type", "Volume", "Price", "SL", "TP", "Placed", ...(actions ? [""] : [])]),
      ordersBody)),
  );

  async function run(what, call) {
    try {
      const answer = await call();
      toast(`${what}: ${answer.message}`, answer.success ? "ok" : "error");
    } catch (error) {
      toast(`${what}: ${error.message}`, "error");
    }
  }

  async function closePosition(p, partial) {
    let volumeToClose;
    if (partial) {
      const values = await ask({
        title: `Partial close #${p.ticket}`,
        message: `${p.type} ${volume(p.volume)} ${p.symbol}`,
        fields: [{ name: "volume", label: "Volume to close", value: volume(p.volume / 2), step: "0.01", min: "0.01" }],
        confirm: "Close part",
      });
      if (!values || !values.volume) return;
      volumeToClose = values.volume;
    }
    await run(`Close #${p.ticket}`, () => api.post("/api/close", volumeToClose ? { order_id: p.ticket, volume: volumeToClose } : { order_id: p.ticket }));
  }

  async function modify(item, isOrder) {
    const d = store.digits(item.symbol);
    const fields = [
      ...(isOrder ? [{ name: "price", label: "Price", value: price(item.price_open, d) }] : []),
      { name: "sl", label: "Stop loss (price, 0: none)", value: price(item.sl, d) },
      { name: "tp", label: "Take profit (price, 0: none)", value: price(item.tp, d) },
    ];
    const values = await ask({ title: `Modify #${item.ticket}`, message: `${item.type.replace("_", " ")} ${volume(item.volume)} ${item.symbol}`, fields, confirm: "Modify" });
    if (!values) return;
    const request = { order_id: item.ticket };
    for (const key of ["price", "sl", "tp"]) if (values[key] !== null && values[key] !== undefined) request[key] = values[key];
    await run(`Modify #${item.ticket}`, () => api.post("/api/modify", request));
  }

  async function cancelOrder(o) {
    const d = store.digits(o.symbol);
    const sure = await ask({
      title: `Delete order #${o.ticket}?`,
      message: `${o.type.replace("_", " ")} ${volume(o.volume)} ${o.symbol} at ${price(o.price_open, d)}`,
      confirm: "Delete order",
      danger: true,
    });
    if (!sure) return;
    await run(`Delete #${o.ticket}`, () => api.post("/api/cancel", { order_id: o.ticket }));
  }

  function syncRows(body, items, build, update) {
    const rows = new Map([...body.children].map((tr) => [tr.dataset.ticket, tr]));
    const seen = new Set();
    for (const item of items) {
      const key = String(item.ticket);
      seen.add(key);
      let tr = rows.get(key);
      if (!tr) {
        tr = build(item);
        body.append(tr);
      }
      update(tr, item);
    }
    for (const [key, tr] of rows) if (!seen.has(key)) tr.remove();
  }

  function positionRow(p) {
    const cells = ["ticket", "symbol", "type", "volume", "open", "current", "sl", "tp", "swap", "profit"].map((c) => h("td", { dataset: { col: c }, class: ["ticket", "symbol", "type"].includes(c) ? "" : "num" }));
    const tr = h("tr", { dataset: { ticket: String(p.ticket) } }, cells);
    if (actions) {
      tr.append(h("td", { class: "actions" },
        h("button", { type: "button", class: "small", dataset: { action: "close" }, text: "Close", onclick: () => closePosition(tr.item, false) }),
        h("button", { type: "button", class: "small ghost", dataset: { action: "partial" }, text: "Partial", onclick: () => closePosition(tr.item, true) }),
        h("button", { type: "button", class: "small ghost", dataset: { action: "modify" }, text: "Modify", onclick: () => modify(tr.item, false) }),
      ));
    }
    return tr;
  }

  /** Show ``texts`` in the row's cells (the first ones; the actions cell stays). */
  function show(tr, item, texts) {
    tr.item = item;
    texts.forEach((text, i) => setText(tr.children[i], text));
  }

  function updatePosition(tr, p) {
    const d = store.digits(p.symbol);
    show(tr, p, [
      String(p.ticket), p.symbol, p.type, volume(p.volume), price(p.price_open, d), price(p.price_current, d),
      p.sl ? price(p.sl, d) : "", p.tp ? price(p.tp, d) : "", money(p.swap), money(p.profit, { signed: true }),
    ]);
    tr.children[2].className = p.type;
    tr.children[9].className = `num ${signClass(p.profit)}`;
  }

  function orderRow(o) {
    const cells = ["ticket", "symbol", "type", "volume", "price", "sl", "tp", "time"].map((c) => h("td", { dataset: { col: c }, class: ["ticket", "symbol", "type", "time"].includes(c) ? "" : "num" }));
    const tr = h("tr", { dataset: { ticket: String(o.ticket) } }, cells);
    if (actions) {
      tr.append(h("td", { class: "actions" },
        h("button", { type: "button", class: "small ghost", dataset: { action: "modify" }, text: "Modify", onclick: () => modify(tr.item, true) }),
        h("button", { type: "button", class: "small ghost", dataset: { action: "cancel" }, text: "Delete", onclick: () => cancelOrder(tr.item) }),
      ));
    }
    return tr;
  }

  function updateOrder(tr, o) {
    const d = store.digits(o.symbol);
    show(tr, o, [
      String(o.ticket), o.symbol, o.type.replace("_", " "), volume(o.volume), price(o.price_open, d),
      o.sl ? price(o.sl, d) : "", o.tp ? price(o.tp, d) : "", dateTime(o.time_setup),
    ]);
  }

  const renderPositions = perFrame((list) => {
    syncRows(positionsBody, list, positionRow, updatePosition);
    const total = list.reduce((sum, p) => sum + p.profit + p.swap + p.commission, 0);
    setText(summary, list.length ? `${list.length} position${list.length > 1 ? "s" : ""}, floating P/L ${money(total, { signed: true })}` : "No open positions");
  });
  const renderOrders = perFrame((list) => syncRows(ordersBody, list, orderRow, updateOrder));
  store.on("positions", renderPositions);
  store.on("orders", renderOrders);
  renderPositions(store.positions);
  renderOrders(store.orders);
}
