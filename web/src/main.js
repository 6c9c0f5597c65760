// The dashboard: a login, then the live account, Market Watch, a chart, the order ticket and the
// Toolbox tabs — all over the public REST API and Socket.IO of the server that serves this page.
import { AUTH_CODES, createApi } from "./lib/api.js";
import { $, clear, h, fill } from "./lib/dom.js";
import { Live } from "./lib/live.js";
import { Session } from "./lib/session.js";
import { Store } from "./lib/store.js";
import { toast } from "./lib/toast.js";
import { mountAccounts } from "./views/accounts.js";
import { mountAudit } from "./views/audit.js";
import { mountChart } from "./views/chart.js";
import { mountHeader } from "./views/header.js";
import { mountJournal } from "./views/journal.js";
import { mountMarketWatch } from "./views/marketwatch.js";
import { mountOrderForm } from "./views/orderform.js";
import { mountSignals } from "./views/signals.js";
import { mountTrade } from "./views/trade.js";

const CHANNELS = ["quotes", "positions", "orders", "account", "accounts", "carousel", "logs", "signals"];
const WHOLE_VIEW_TABS = ["audit", "journal"]; // they name every account: for a scope of all accounts only
const KEEPALIVE_MS = 5000; // a REST read now and then: a revoked token is noticed even on a quiet socket
const SESSION_ENDED = {
  token_revoked: "Your session ended (the password was changed or access was revoked): log in again.",
  token_expired: "Your session expired: log in again.",
  revoked: "The server ended your session: log in again.",
};

const session = new Session();
let dashboard = null;

function show(view) {
  $("#login-view").hidden = view !== "login";
  $("#app-view").hidden = view !== "app";
}

function banner(text, kind = "warn") {
  const el = $("#banner");
  el.textContent = text ?? "";
  el.className = `banner ${kind}`;
  el.hidden = !text;
}

// ----------------------------------------------------------------------------- login

function showLogin(message = "") {
  show("login");
  banner(null);
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
  error.classList.toggle("info", Boolean(message));
  const password = $("#login-password");
  password.value = "";
  ($("#login-user").value ? password : $("#login-user")).focus();
}

function wireLogin() {
  const form = $("#login-form");
  const submit = $("#login-submit");
  const api = createApi({ getToken: () => null });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#login-error");
    const username = $("#login-user").value.trim();
    const password = $("#login-password").value;
    if (!username || !password) {
      error.textContent = "Enter the user and the password.";
      error.hidden = false;
      error.classList.remove("info");
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    performance.clearMarks();
    performance.mark("mt5c:login");
    try {
      const answer = await api.login(username, password);
      session.save(answer);
      error.hidden = true;
      startDashboard();
    } catch (e) {
      error.textContent = e.status === 429 ? `${e.message} (${e.details?.retry_after_s ?? "a few"} s)` : e.message;
      error.hidden = false;
      error.classList.remove("info");
      $("#login-password").select();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  });
  $("#logout").addEventListener("click", () => endSession(""));
}

function endSession(message) {
  dashboard?.stop();
  dashboard = null;
  session.clear();
  showLogin(message);
}

// ----------------------------------------------------------------------------- the dashboard

function startDashboard() {
  dashboard?.stop();
  dashboard = new Dashboard(session);
  dashboard.start();
}

class Dashboard {
  constructor(currentSession) {
    this.session = currentSession;
    this.permissions = currentSession.permissions;
    this.store = new Store();
    this.timers = [];
    this.stopped = false;
    this.firstPaint = false;
    this.wholeView = true; // until GET /api/me names a scope of some accounts
    this.api = createApi({
      getToken: () => this.session.token,
      onUnauthorized: (error) => this.sessionEnded(error.code, error.message),
    });
    this.live = new Live({
      token: this.session.token,
      onStatus: (s) => this.connectionStatus(s),
      onSessionEnd: (code, message) => this.sessionEnded(code, message),
      onResync: () => this.resync(),
    });
  }

  start() {
    show("app");
    const { store, api, live, permissions } = this;
    document.body.dataset.role = permissions.role;
    fill($("#user-badge"), h("span", { text: this.session.user?.username ?? "" }), h("span", { class: "role", text: permissions.role }));
    mountHeader({ store, headerEl: $("#account-header"), totalsEl: $("#totals") });
    mountMarketWatch({ store, el: $("#market-watch"), onAddSymbol: (s) => this.addSymbol(s) });
    this.chart = mountChart({ store, api, live, el: $("#chart-panel"), quotesFor: (symbol, fn) => store.on("quote", (q) => q.symbol === symbol && fn(q)) });
    this.orderForm = mountOrderForm({ store, api, el: $("#order-panel"), permissions });
    this.tabs();
    this.wireLive();
    live.subscribe(CHANNELS);
    live.connect();
    this.loadInitial();
    this.whoAmI();
    this.timers.push(setInterval(() => this.keepalive(), KEEPALIVE_MS));
  }

  /** Ask the server who this session is (GET /api/me): the page offers what that role allows, even
   * when the session in this tab says otherwise, and the badge names the accounts it sees. */
  async whoAmI() {
    let me;
    try {
      me = await this.api.get("/api/me");
    } catch {
      return; // a 401 ends the session by itself; anything else leaves the page as it is
    }
    if (this.stopped || !me) return;
    if (me.role !== this.permissions.role || me.username !== this.session.user?.username) {
      this.session.setUser(me);
      startDashboard(); // drawn again for the role the server knows
      return;
    }
    const badge = $("#user-badge");
    const scope = me.accounts === null ? "all accounts" : `accounts ${me.accounts.join(", ") || "none"}`;
    badge.title = `${me.username} (${me.kind}) · ${me.role} · ${scope}`;
    badge.dataset.scope = me.accounts === null ? "all" : me.accounts.join(",");
    if (me.accounts !== null) this.hideWholeViewTabs();
    badge.dataset.checked = "true";
  }

  /** The Audit and Journal tabs name every account: a user with a scope of some accounts is refused
   * them (403), so the page does not offer them. */
  hideWholeViewTabs() {
    this.wholeView = false;
    for (const key of WHOLE_VIEW_TABS) {
      const button = $(`#toolbox-tabs [data-tab="${key}"]`);
      if (button?.getAttribute("aria-selected") === "true") this.selectTab("trade");
      if (button) button.hidden = true;
    }
  }

  stop() {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.live.close();
    this.chart?.destroy();
    this.accounts?.destroy();
    this.orderForm?.destroy();
    for (const id of ["#account-header", "#totals", "#market-watch", "#chart-panel", "#order-panel", "#toolbox-tabs", "#toolbox-body"]) clear($(id));
  }

  sessionEnded(code, message) {
    if (this.stopped) return;
    endSession(SESSION_ENDED[code] ?? (AUTH_CODES.has(code) ? "Please log in again." : message || "Please log in again."));
  }

  tabs() {
    const nav = $("#toolbox-tabs");
    const bodyEl = $("#toolbox-body");
    const panes = {};
    const names = [["trade", "Trade"], ["accounts", "Accounts"], ["signals", "Signals"], ["audit", "Audit"], ["journal", "Journal"]];
    for (const [key, label] of names) {
      panes[key] = h("div", { class: "tab-pane", id: `tab-${key}`, role: "tabpanel", hidden: key !== "trade" });
      bodyEl.append(panes[key]);
      nav.append(h("button", { type: "button", role: "tab", dataset: { tab: key }, "aria-selected": String(key === "trade"), text: label, onclick: () => select(key) }));
    }
    const { store, api, live, permissions } = this;
    mountTrade({ store, api, el: panes.trade, permissions });
    this.accounts = mountAccounts({ store, api, el: panes.accounts, permissions });
    this.signals = mountSignals({ live, api, el: panes.signals, permissions });
    const audit = mountAudit({ api, el: panes.audit });
    this.journal = mountJournal({ api, live, el: panes.journal });
    const select = (key) => {
      for (const b of nav.children) b.setAttribute("aria-selected", String(b.dataset.tab === key));
      for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== key;
      if (key === "audit") audit.show();
    };
    this.selectTab = select;
  }

  wireLive() {
    const { live, store } = this;
    live.on("quotes", (q) => {
      store.setQuote(q);
      this.markFirstPaint();
    });
    live.on("positions_update", (list) => store.setPositions(list));
    live.on("orders_update", (list) => store.setOrders(list));
    live.on("account_update", (a) => {
      store.setAccount(a);
      this.markFirstPaint();
    });
    live.on("accounts_update", (a) => store.setManaged(a));
    live.on("market_summary", (summary) => store.setSummary(summary)); // the day's open, high, low per symbol
    live.on("carousel_update", (c) => {
      store.carousel = c;
      store.emit("carousel", c);
    });
    live.on("error", (e) => {
      if (e?.details?.event === "subscribe") return; // a probe of a protocol this server lacks (see lib/candles.js)
      toast(`Server: ${e?.error ?? "error"}`, "error");
    });
  }

  connectionStatus({ status, reconnected, detail }) {
    const el = $("#connection");
    el.dataset.state = status;
    el.textContent = status === "live" ? `live (${this.live.transport ?? "socket"})` : status;
    if (status === "reconnecting") banner(`Connection to the server lost${detail ? ` (${detail})` : ""}: reconnecting…`, "warn");
    else if (status === "live") {
      banner(null);
      if (reconnected) toast("Reconnected to the server", "ok");
    }
  }

  async loadInitial() {
    const { api, store } = this;
    const quiet = (p) => p.catch((e) => {
      if (e.status === 401) return null;
      if (e.status === 403) return this.liveNotInScope(); // said once, in the banner
      return toast(e.message, "error");
    });
    // Each answer is shown as it comes: the account and the quotes do not wait for the slower reads.
    const symbols = api.get("/api/symbols").catch(() => []).then((list) => {
      for (const s of list ?? []) store.symbols.set(s.name, s);
      store.emit("symbols", store.symbols);
      return list ?? [];
    });
    const quotes = api.get("/api/quotes").catch(() => []).then((list) => {
      for (const q of list ?? []) store.setQuote(q);
      this.markFirstPaint();
    });
    await Promise.all([
      symbols,
      quotes,
      this.refreshAccount().then(() => this.markFirstPaint()),
      quiet(api.get("/api/positions").then((p) => store.setPositions(p))),
      quiet(api.get("/api/orders").then((o) => store.setOrders(o))),
      quiet(api.get("/api/accounts").then((list) => list.forEach((a) => store.setManaged(a)))),
      api.get("/api/carousel").then((c) => { store.carousel = c; store.emit("carousel", c); }).catch(() => null),
      api.health().then((hh) => { $("#server-version").textContent = `MT5 Trading Console ${hh.version} · terminal ${hh.terminal_state}`; }).catch(() => null),
    ]);
    if (this.stopped) return;
    const list = await symbols;
    const first = store.selected ?? [...store.quotes.keys()].sort()[0] ?? list.find((s) => s.subscribed)?.name;
    if (first) store.select(first);
    if (this.wholeView) this.journal.load();
  }

  async refreshAccount() {
    try {
      this.store.setAccount(await this.api.get("/api/account"));
      if ($("#banner").classList.contains("info")) banner(null); // the terminal is ready now
    } catch (error) {
      if (error.status === 503) banner("The terminal is connecting: the account appears when it is ready.", "info");
      else if (error.status === 403) this.liveNotInScope();
    }
  }

  /** A user whose scope leaves out the live account is refused its figures, positions and orders
   * (403): the page says so once instead of an error per request. */
  liveNotInScope() {
    banner("The live account is not one of your accounts: its figures, positions and orders are not shown. The Accounts tab lists yours.", "info");
  }

  keepalive() {
    if (!this.stopped) this.refreshAccount();
  }

  async addSymbol(symbol) {
    this.live.subscribe(["quotes"], [symbol]);
    this.store.select(symbol);
  }

  resync() {
    this.loadInitial();
    this.signals?.load();
    this.chart?.reload();
  }

  markFirstPaint() {
    if (this.firstPaint || !this.store.account || this.store.quotes.size === 0) return;
    this.firstPaint = true;
    requestAnimationFrame(() => setTimeout(() => performance.mark("mt5c:dashboard"), 0));
  }
}

// ----------------------------------------------------------------------------- start

wireLogin();
if (session.token) startDashboard();
else showLogin();
