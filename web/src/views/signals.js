// The Signals tab: the recent signals (GET /api/signals) kept live by the `signals` channel's
// `signals_update` events (seed 001's shape: uuid, symbol, side, volume, sl, tp, source, confidence,
// timestamp, validators [{name, type, approved, confidence, reason, timestamp}], status), newest first,
// a status filter, approve/reject for signals waiting on a person (POST /api/signals/{uuid}/approve|reject),
// and the validator chain of the selected signal.
import { clear, h, fill } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";
import { toast } from "../lib/toast.js";

const MAX_SIGNALS = 200;
const WAITING = new Set(["pending"]);
const STATUSES = ["", "pending", "executed", "rejected", "failed", "expired", "notified", "approved", "received"];

export function mountSignals({ live, api, el, permissions }) {
  const signals = new Map(); // uuid -> signal, oldest first (by arrival)
  let selected = null;
  let filter = "";
  const busy = new Set(); // uuids with a decision on its way
  const body = h("tbody");
  const chain = h("div", { class: "signal-chain", id: "signal-chain" });
  const empty = h("p", { class: "muted empty", id: "signals-empty", text: "No signals yet. Alerts, strategies and API callers' signals appear here." });
  const select = h("select", { id: "signals-filter", "aria-label": "Show signals by status", onchange: () => { filter = select.value; render(); } },
    STATUSES.map((s) => h("option", { value: s, text: s || "all" })));
  fill(el,
    h("div", { class: "signals-toolbar" }, h("label", {}, "Status ", select)),
    empty,
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "signals-table" },
      h("thead", {}, h("tr", {}, ["Time", "Symbol", "Side", "Volume", "Source", "Confidence", "Status", "Ticket", "Message", ""].map((c) => h("th", { text: c })))),
      body)),
    chain,
  );

  async function decide(signal, decision) {
    busy.add(signal.uuid);
    render();
    try {
      const answer = await api.post(`/api/signals/${encodeURIComponent(signal.uuid)}/${decision}`);
      take(answer);
      toast(`Signal ${signal.symbol} ${signal.side || signal.action}: ${answer.status}${answer.message ? ` (${answer.message})` : ""}`, answer.status === "failed" ? "error" : "ok");
    } catch (error) {
      toast(`Signal ${decision}: ${error.message}`, "error");
    } finally {
      busy.delete(signal.uuid);
      render();
    }
  }

  function render() {
    const shown = [...signals.values()].reverse().filter((s) => !filter || s.status === filter);
    empty.hidden = shown.length > 0;
    clear(body);
    for (const s of shown) {
      const waiting = WAITING.has(String(s.status));
      body.append(h("tr", { dataset: { uuid: s.uuid, status: s.status ?? "" }, class: s.uuid === selected ? "selected" : "", onclick: () => { selected = s.uuid; render(); } },
        h("td", { text: dateTime(s.timestamp) }),
        h("td", { text: s.symbol ?? "" }),
        h("td", { class: s.side ?? "", text: s.side || s.action || "" }),
        h("td", { class: "num", text: s.volume ?? "" }),
        h("td", { text: s.source ?? "" }),
        h("td", { class: "num", text: Number.isFinite(s.confidence) ? s.confidence.toFixed(2) : "" }),
        h("td", { class: `status ${s.status ?? ""}`, text: s.status ?? "" }),
        h("td", { class: "num", text: s.ticket ?? "" }),
        h("td", { class: "message", text: s.message ?? "" }),
        h("td", { class: "actions" }, permissions.signals && waiting ? [
          h("button", { type: "button", class: "small", dataset: { action: "approve" }, disabled: busy.has(s.uuid), text: "Approve", onclick: (e) => { e.stopPropagation(); decide(s, "approve"); } }),
          h("button", { type: "button", class: "small ghost", dataset: { action: "reject" }, disabled: busy.has(s.uuid), text: "Reject", onclick: (e) => { e.stopPropagation(); decide(s, "reject"); } }),
        ] : null),
      ));
    }
    const s = signals.get(selected);
    clear(chain);
    if (s?.validators?.length) {
      chain.append(h("h3", { text: `Validators of ${s.symbol} ${s.side || s.action} (${s.uuid})` }),
        h("ol", {}, s.validators.map((v) => h("li", { class: v.approved ? "up" : "down" },
          `${v.approved ? "✓" : "✗"} ${v.name} (${v.type}) ${Number.isFinite(v.confidence) ? v.confidence.toFixed(2) : ""} ${v.reason ?? ""}`))));
    }
  }

  function take(update) {
    for (const s of Array.isArray(update) ? update : [update]) {
      if (!s || typeof s !== "object" || !s.uuid) continue;
      const known = signals.get(s.uuid);
      if (known && known.updated_at && s.updated_at && s.updated_at < known.updated_at) continue; // an older state
      signals.delete(s.uuid);
      signals.set(s.uuid, { ...known, ...s });
      while (signals.size > MAX_SIGNALS) signals.delete(signals.keys().next().value);
    }
    render();
  }

  async function load() {
    try {
      const recent = await api.get("/api/signals", { limit: 100 });
      take([...(recent ?? [])].reverse()); // oldest first, so the newest ends up on top
    } catch (error) {
      if (error.status !== 401 && error.status !== 503) toast(`Signals: ${error.message}`, "error");
    }
  }

  live.on("signals_update", take);
  render();
  load();
  return { take, load };
}
