// The Audit tab: the trail's entries (filtered on the server) and Verify, which recomputes the hash
// chain there and names the first bad entry.
import { h, fill } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";

const LIMIT = 300;

export function mountAudit({ api, el }) {
  const action = h("input", { type: "search", placeholder: "action (e.g. order)", "aria-label": "Action filter", id: "audit-action" });
  const text = h("input", { type: "search", placeholder: "text", "aria-label": "Text filter", id: "audit-text" });
  const refresh = h("button", { type: "button", class: "small ghost", text: "Refresh", onclick: () => load() });
  const verify = h("button", { type: "button", class: "small", id: "audit-verify", text: "Verify", onclick: () => check() });
  const result = h("p", { class: "verdict", id: "audit-result", role: "status" });
  const body = h("tbody");
  fill(el, 
    h("div", { class: "filters" }, action, text, refresh, verify),
    result,
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "audit-table" },
      h("thead", {}, h("tr", {}, ["#", "Time", "Actor", "Action", "Account", "Details"].map((c) => h("th", { text: c })))),
      body)),
  );
  for (const input of [action, text]) input.addEventListener("change", () => load());

  async function load() {
    try {
      const entries = await api.get("/api/audit", { action: action.value.trim(), text: text.value.trim(), limit: LIMIT });
      fill(body, [...entries].reverse().map((e) => h("tr", {},
        h("td", { class: "num", text: String(e.seq) }),
        h("td", { text: dateTime(e.time) }),
        h("td", { text: e.actor }),
        h("td", { text: e.action }),
        h("td", { text: e.account ?? "" }),
        h("td", { class: "payload", text: JSON.stringify(e.payload) }),
      )));
    } catch (error) {
      result.className = "verdict bad";
      result.textContent = `Audit: ${error.message}`;
    }
  }

  async function check() {
    verify.disabled = true;
    result.className = "verdict pending";
    result.textContent = "verifying…";
    try {
      const report = await api.get("/api/audit/verify");
      result.className = `verdict ${report.ok ? "ok" : "bad"}`;
      result.textContent = report.summary;
    } catch (error) {
      result.className = "verdict bad";
      result.textContent = `Verify: ${error.message}`;
    } finally {
      verify.disabled = false;
    }
  }

  return { show: load };
}
