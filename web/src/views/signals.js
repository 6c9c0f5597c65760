// The Signals tab: the `signals` channel's `signals_update` events (seed 001's shape: uuid, symbol,
// side, volume, sl, tp, source, confidence, timestamp, validators [{name, type, approved, confidence,
// reason, timestamp}], status), newest first, with the selected signal's validator chain. Empty until
// the server's signals service publishes (issue 20); approve/reject for signals waiting on a person.
import { clear, h, fill } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";
import { toast } from "../lib/toast.js";

const MAX_SIGNALS = 200;
const WAITING = new Set(["pending", "awaiting_confirmation", "confirm", "waiting"]);

export function mountSignals({ live, api, el, permissions }) {
  const signals = new Map(); // uuid -> signal, newest last
  let selected = null;
  const body = h("tbody");
  const chain = h("div", { class: "signal-chain", id: "signal-chain" });
  const empty = h("p", { class: "muted empty", id: "signals-empty", text: "No signals yet. They appear here as the server's signals channel carries them." });
  fill(el, 
    empty,
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "signals-table" },
      h("thead", {}, h("tr", {}, ["Time", "Symbol", "Side", "Volume", "Source", "Confidence", "Status", ""].map((c) => h("th", { text: c })))),
      body)),
    chain,
  );

  async function decide(signal, decision) {
    try {
      await api.post(`/api/signals/${encodeURIComponent(signal.uuid)}/${decision}`);
      toast(`Signal ${signal.symbol} ${signal.side}: ${decision}d`, "ok");
    } catch (error) {
      toast(`Signal ${decision}: ${error.message}`, "error");
    }
  }

  function render() {
    empty.hidden = signals.size > 0;
    clear(body);
    for (const s of [...signals.values()].reverse()) {
      const waiting = WAITING.has(String(s.status));
      body.append(h("tr", { dataset: { uuid: s.uuid }, class: s.uuid === selected ? "selected" : "", onclick: () => { selected = s.uuid; render(); } },
        h("td", { text: dateTime(s.timestamp) }),
        h("td", { text: s.symbol ?? "" }),
        h("td", { class: s.side ?? "", text: s.side ?? "" }),
        h("td", { class: "num", text: s.volume ?? "" }),
        h("td", { text: s.source ?? "" }),
        h("td", { class: "num", text: Number.isFinite(s.confidence) ? s.confidence.toFixed(2) : "" }),
        h("td", { class: `status ${s.status ?? ""}`, text: s.status ?? "" }),
        h("td", { class: "actions" }, permissions.signals && waiting ? [
          h("button", { type: "button", class: "small", text: "Approve", onclick: (e) => { e.stopPropagation(); decide(s, "approve"); } }),
          h("button", { type: "button", class: "small ghost", text: "Reject", onclick: (e) => { e.stopPropagation(); decide(s, "reject"); } }),
        ] : null),
      ));
    }
    const s = signals.get(selected);
    clear(chain);
    if (s?.validators?.length) {
      chain.append(h("h3", { text: `Validators of ${s.symbol} ${s.side} (${s.uuid})` }),
        h("ol", {}, s.validators.map((v) => h("li", { class: v.approved ? "up" : "down" },
          `${v.approved ? "✓" : "✗"} ${v.name} (${v.type}) ${Number.isFinite(v.confidence) ? v.confidence.toFixed(2) : ""} ${v.reason ?? ""}`))));
    }
  }

  function take(update) {
    for (const s of Array.isArray(update) ? update : [update]) {
      if (!s || typeof s !== "object" || !s.uuid) continue;
      signals.delete(s.uuid);
      signals.set(s.uuid, s);
      while (signals.size > MAX_SIGNALS) signals.delete(signals.keys().next().value);
    }
    render();
  }

  live.on("signals_update", take);
  render();
  return { take };
}
