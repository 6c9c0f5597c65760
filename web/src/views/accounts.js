// The Accounts tab: every managed account's balance, equity, day/week/month P/L and staleness, and the
// carousel's progress (cycle, visited/total, the visits under way, when the next cycle is due).
import { h, perFrame, setText, fill } from "../lib/dom.js";
import { age, dateTime, money, signClass } from "../lib/format.js";
import { toast } from "../lib/toast.js";

// The carousel's default `stale_after_s`, until the carousel's status (which carries the setting) arrives.
export const STALE_AFTER_MS = 900 * 1000;

/** How old a snapshot may be before its row is stale: the server's setting, as the window uses it. */
export function staleAfterMs(carousel) {
  const seconds = Number(carousel?.stale_after_s);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : STALE_AFTER_MS;
}

export function mountAccounts({ store, api, el, permissions }) {
  const body = h("tbody");
  const progress = h("progress", { max: "1", value: "0", id: "carousel-progress" });
  const progressText = h("span", { id: "carousel-text", class: "muted" });
  const start = h("button", { type: "button", class: "small", text: "Start", onclick: () => carousel("start") });
  const stop = h("button", { type: "button", class: "small ghost", text: "Stop", onclick: () => carousel("stop") });
  const cols = ["Account", "Server", "Status", "Balance", "Equity", "Day P/L", "Week P/L", "Month P/L", "Open", "Last seen", ...(permissions.manageAccounts ? [""] : [])];
  fill(el, 
    h("div", { class: "carousel-bar" }, h("strong", { text: "Carousel" }), progress, progressText, permissions.carousel ? [start, stop] : null),
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "accounts-table" }, h("thead", {}, h("tr", {}, cols.map((c) => h("th", { text: c })))), body)),
    h("p", { class: "muted empty", id: "accounts-empty", text: "No managed accounts yet (mt5-console accounts add, or the window's Accounts tab)." }),
  );

  async function carousel(action) {
    try {
      store.carousel = await api.post(`/api/carousel/${action}`);
      renderCarousel();
    } catch (error) {
      toast(`Carousel ${action}: ${error.message}`, "error");
    }
  }

  async function sync(account, button) {
    button.disabled = true;
    try {
      await api.post(`/api/accounts/${account.id}/sync`);
      toast(`${account.alias || account.login}: synced`, "ok");
    } catch (error) {
      toast(`${account.alias || account.login}: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  const render = perFrame(() => {
    const list = [...store.managed.values()].sort((a, b) => a.id - b.id);
    el.querySelector("#accounts-empty").hidden = list.length > 0;
    const rows = new Map([...body.children].map((tr) => [tr.dataset.id, tr]));
    const now = Date.now();
    for (const a of list) {
      let tr = rows.get(String(a.id));
      if (!tr) {
        tr = h("tr", { dataset: { id: String(a.id) } }, cols.slice(0, 10).map(() => h("td")));
        if (permissions.manageAccounts) {
          const button = h("button", { type: "button", class: "small ghost", text: "Sync now" });
          button.addEventListener("click", () => sync(tr.item, button));
          tr.append(h("td", { class: "actions" }, button));
        }
        body.append(tr);
      }
      rows.delete(String(a.id));
      tr.item = a;
      const c = tr.children;
      const seen = a.last_snapshot_at ? Date.parse(a.last_snapshot_at) : null;
      const stale = seen === null || now - seen > staleAfterMs(store.carousel);
      setText(c[0], a.alias ? `${a.alias} (${a.login})` : String(a.login));
      setText(c[1], a.server);
      setText(c[2], a.status + (a.last_error ? `: ${a.last_error}` : ""));
      c[2].className = `status ${a.status}`;
      setText(c[3], money(a.balance));
      setText(c[4], money(a.equity));
      for (const [i, key] of [[5, "day_pl"], [6, "week_pl"], [7, "month_pl"]]) {
        setText(c[i], money(a[key], { signed: true }));
        c[i].className = `num ${signClass(a[key])}`;
      }
      for (const i of [3, 4]) c[i].classList.add("num");
      setText(c[8], a.open_trades === null ? "" : String(a.open_trades));
      c[8].className = "num";
      setText(c[9], seen === null ? "never" : age(now - seen));
      c[9].title = a.last_snapshot_at ? dateTime(a.last_snapshot_at) : "";
      tr.classList.toggle("stale", stale);
      tr.classList.toggle("connected", Boolean(a.connected));
    }
    for (const tr of rows.values()) tr.remove();
  });

  let staleAfter = STALE_AFTER_MS;
  function renderCarousel() {
    const c = store.carousel;
    if (!c) return;
    if (staleAfterMs(c) !== staleAfter) {
      staleAfter = staleAfterMs(c);
      render(); // the rows' staleness, by the server's setting
    }
    progress.value = c.progress ?? 0;
    const parts = [
      c.running ? (c.paused ? "paused" : "running") : "stopped",
      `cycle ${c.cycle}`,
      `${c.visited_in_cycle}/${c.accounts_in_cycle} visited`,
    ];
    if (c.current?.length) parts.push(`visiting ${c.current.map((v) => `#${v.account_id} on ${v.terminal}`).join(", ")}`);
    if (c.errors_in_cycle) parts.push(`${c.errors_in_cycle} failed`);
    if (c.last_cycle_s !== null && c.last_cycle_s !== undefined) parts.push(`last cycle ${c.last_cycle_s.toFixed(1)} s`);
    if (c.next_due) parts.push(`next ${dateTime(c.next_due).slice(11)}`);
    if (c.note) parts.push(c.note);
    setText(progressText, parts.join(" · "));
    start.disabled = c.running;
    stop.disabled = !c.running;
  }

  store.on("managed", render);
  store.on("carousel", renderCarousel);
  const ager = setInterval(render, 5000); // "Last seen" ages while nothing arrives
  render();
  renderCarousel();
  return { destroy: () => clearInterval(ager) };
}
