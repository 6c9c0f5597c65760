// The order ticket: the server's verdict (dry_run: validation, risk limits, order_check, margin) is
// asked for while the trader types and shown before anything is sent; the order goes once (a uuid per
// intent: a double click or a retry after a lost answer places it once).
import { ask } from "../lib/dialog.js";
import { fill, h, setText } from "../lib/dom.js";
import { price } from "../lib/format.js";
import { toast } from "../lib/toast.js";

const CHECK_DELAY_MS = 250;

export function mountOrderForm({ store, api, el, permissions }) {
  if (!permissions.trade) {
    fill(el, 
      h("div", { class: "panel-title" }, h("h2", { text: "New order" })),
      h("p", { class: "muted", id: "no-trading", text: `Your role (${permissions.role}) does not trade: the order ticket is hidden.` }),
    );
    return { destroy() {} };
  }
  let side = "buy";
  let intent = crypto.randomUUID();
  let checkTimer = null;
  let checkSeq = 0;
  let sending = false;

  const symbol = h("select", { name: "symbol", id: "order-symbol", "aria-label": "Symbol" });
  const type = h("select", { name: "type", id: "order-type" }, ["market", "limit", "stop"].map((t) => h("option", { value: t, text: t })));
  const volume = h("input", { name: "volume", id: "order-volume", type: "number", step: "0.01", min: "0.01", value: "0.10", inputmode: "decimal" });
  const priceInput = h("input", { name: "price", id: "order-price", type: "number", step: "any", inputmode: "decimal", disabled: true });
  const sl = h("input", { name: "sl", id: "order-sl", type: "number", step: "1", min: "0", placeholder: "points", inputmode: "numeric" });
  const tp = h("input", { name: "tp", id: "order-tp", type: "number", step: "1", min: "0", placeholder: "points", inputmode: "numeric" });
  const note = h("input", { name: "audit_note", id: "order-note", type: "text", maxlength: "500", placeholder: "audit note (optional)" });
  const buy = h("button", { type: "button", class: "side buy", "aria-pressed": "true", text: "Buy", onclick: () => setSide("buy") });
  const sell = h("button", { type: "button", class: "side sell", "aria-pressed": "false", text: "Sell", onclick: () => setSide("sell") });
  const verdict = h("p", { class: "verdict", id: "order-verdict", role: "status", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary send", id: "order-send", text: "Buy" });
  const quoteLine = h("p", { class: "order-quote", id: "order-quote" });
  const fields = { symbol, volume, price: priceInput, sl, tp, type };

  const form = h(
    "form",
    { class: "order-form", id: "order-form", novalidate: true },
    h("div", { class: "side-toggle", role: "group", "aria-label": "Side" }, buy, sell),
    h("label", {}, "Symbol", symbol),
    quoteLine,
    h("div", { class: "row2" }, h("label", {}, "Type", type), h("label", {}, "Volume", volume)),
    h("label", {}, "Price (pending)", priceInput),
    h("div", { class: "row2" }, h("label", {}, "SL (points)", sl), h("label", {}, "TP (points)", tp)),
    h("label", {}, "Note", note),
    verdict,
    send,
  );
  fill(el, h("div", { class: "panel-title" }, h("h2", { text: "New order" })), form);

  function setSide(next) {
    side = next;
    buy.setAttribute("aria-pressed", String(next === "buy"));
    sell.setAttribute("aria-pressed", String(next === "sell"));
    send.textContent = next === "buy" ? "Buy" : "Sell";
    send.classList.toggle("sell", next === "sell");
    changed();
  }

  function body(dryRun) {
    const num = (input) => (input.value.trim() === "" ? undefined : Number(input.value));
    const b = { symbol: symbol.value, side, volume: num(volume), type: type.value, dry_run: dryRun, source: "dashboard" };
    if (type.value !== "market") b.price = num(priceInput);
    if (num(sl)) b.sl = num(sl);
    if (num(tp)) b.tp = num(tp);
    if (note.value.trim()) b.audit_note = note.value.trim();
    if (!dryRun) b.uuid = intent;
    return b;
  }

  function markField(name) {
    for (const [key, input] of Object.entries(fields)) input.classList.toggle("invalid", key === name);
  }

  function showVerdict(ok, message, field = null) {
    verdict.className = `verdict ${ok ? "ok" : "bad"}`;
    setText(verdict, message);
    markField(field);
  }

  function changed() {
    intent = crypto.randomUUID(); // another order: a new id
    priceInput.disabled = type.value === "market";
    if (type.value !== "market" && !priceInput.value) {
      const q = store.quotes.get(symbol.value);
      if (q) priceInput.value = price(side === "buy" ? q.ask : q.bid, store.digits(symbol.value));
    }
    clearTimeout(checkTimer);
    verdict.className = "verdict pending";
    setText(verdict, "checking…");
    checkTimer = setTimeout(check, CHECK_DELAY_MS);
  }

  async function check() {
    const seq = ++checkSeq;
    try {
      const answer = await api.post("/api/place", body(true));
      if (seq === checkSeq) showVerdict(answer.success, answer.message);
    } catch (error) {
      if (seq === checkSeq) showVerdict(false, error.message, error.field);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    const request = body(false);
    if (store.account?.trade_mode === "real") {
      const ok = await ask({
        title: "Real account",
        message: `${request.side.toUpperCase()} ${request.volume} ${request.symbol} on REAL account ${store.account.number}. Send it?`,
        confirm: "Send",
        danger: true,
      });
      if (!ok) return;
    }
    sending = true;
    send.disabled = true;
    try {
      const answer = await api.post("/api/place", request);
      if (answer.success) {
        toast(`Order placed: ${answer.message}`, "ok");
        showVerdict(true, `sent: ${answer.message}`);
        intent = crypto.randomUUID();
      } else showVerdict(false, answer.message);
    } catch (error) {
      showVerdict(false, error.message, error.field);
      if (error.status === 504) toast(`Outcome unknown: look up uuid ${request.uuid} before sending again`, "error");
      else intent = crypto.randomUUID();
    } finally {
      sending = false;
      send.disabled = false;
    }
  });
  for (const input of [symbol, type, volume, priceInput, sl, tp]) input.addEventListener("input", changed);
  symbol.addEventListener("change", () => store.select(symbol.value));

  function fillSymbols() {
    const names = [...new Set([...store.quotes.keys(), ...[...store.symbols.values()].filter((s) => s.subscribed).map((s) => s.name)])].sort();
    const current = symbol.value || store.selected;
    fill(symbol, names.map((n) => h("option", { value: n, text: n })));
    if (current) symbol.value = current;
  }

  function applySpec() {
    const spec = store.symbols.get(symbol.value);
    if (spec) {
      volume.step = String(spec.volume_step);
      volume.min = String(spec.volume_min);
      volume.max = String(spec.volume_max);
    }
  }

  store.on("symbols", () => {
    fillSymbols();
    applySpec();
  });
  store.on("selected", (s) => {
    if (![...symbol.options].some((o) => o.value === s)) fillSymbols();
    symbol.value = s;
    applySpec();
    priceInput.value = "";
    changed();
  });
  store.on("quote", (q) => {
    if (q.symbol === symbol.value) {
      const d = store.digits(q.symbol);
      setText(quoteLine, `bid ${price(q.bid, d)}  ask ${price(q.ask, d)}`);
    }
  });
  fillSymbols();
  if (store.selected) changed();
  return { destroy: () => clearTimeout(checkTimer) };
}
