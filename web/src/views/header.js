// The live account as the window's status bar shows it (number, server, DEMO or REAL) and its totals.
import { clear, fill, h, perFrame, setText } from "../lib/dom.js";
import { money, signClass } from "../lib/format.js";

const TOTALS = [
  ["balance", "Balance"],
  ["equity", "Equity"],
  ["margin", "Margin"],
  ["free_margin", "Free margin"],
  ["margin_level", "Margin level"],
  ["profit", "Profit"],
];

export function mountHeader({ store, headerEl, totalsEl }) {
  const cells = {};
  clear(totalsEl);
  for (const [key, label] of TOTALS) {
    cells[key] = h("span", { class: "value", dataset: { total: key } });
    totalsEl.append(h("div", { class: "total" }, h("span", { class: "label", text: label }), cells[key]));
  }
  let shownIdentity = "";

  const render = perFrame((account) => {
    if (!account) return;
    const identity = `${account.number}|${account.server}|${account.trade_mode}|${account.name}`;
    if (identity !== shownIdentity) {
      shownIdentity = identity;
      const real = account.trade_mode === "real";
      fill(headerEl, 
        h("span", { class: `mode-badge ${real ? "real" : "demo"}`, text: real ? "REAL" : (account.trade_mode || "demo").toUpperCase() }),
        h("span", { class: "account-number", id: "account-number", text: String(account.number) }),
        h("span", { class: "account-server", text: account.server }),
        h("span", { class: "account-name", text: account.name }),
        h("span", { class: "account-meta", text: `${account.currency} · 1:${account.leverage}` }),
      );
    }
    for (const [key] of TOTALS) {
      const value = account[key];
      const text = key === "margin_level" ? (account.margin ? `${money(value)}%` : "—") : money(value, { signed: key === "profit" });
      setText(cells[key], text);
      if (key === "profit") cells[key].className = `value ${signClass(value)}`;
    }
  });
  store.on("account", render);
  if (store.account) render(store.account);
}
