// The page's state, fed by REST at start and by the socket after; views listen to the topics they show.

export class Store {
  constructor() {
    this.listeners = new Map();
    this.quotes = new Map(); // symbol -> {symbol, bid, ask, spread, timestamp, dir}
    this.symbols = new Map(); // symbol -> spec (digits, point, volume_min/max/step, ...)
    this.dayOpen = new Map(); // symbol -> today's open (for the daily change), from market_summary
    this.summary = new Map(); // symbol -> the server's market_summary row {open, high, low, change, change_pct, ...}
    this.account = null;
    this.positions = [];
    this.orders = [];
    this.managed = new Map(); // id -> managed account
    this.carousel = null;
    this.selected = null; // the chart's and the order form's symbol
  }

  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
    return () => this.listeners.get(topic)?.delete(fn);
  }

  emit(topic, value) {
    const set = this.listeners.get(topic);
    if (set) for (const fn of set) fn(value);
  }

  digits(symbol) {
    return this.symbols.get(symbol)?.digits ?? 5;
  }

  setQuote(quote) {
    const before = this.quotes.get(quote.symbol);
    const dir = before ? (quote.bid > before.bid ? "up" : quote.bid < before.bid ? "down" : before.dir) : "";
    const next = { ...quote, dir };
    this.quotes.set(quote.symbol, next);
    this.emit("quote", next);
  }

  /** The server's ``market_summary`` ({timestamp, symbols: [{symbol, bid, ask, open, high, low, change, ...}]}). */
  setSummary(summary) {
    for (const row of summary?.symbols ?? []) {
      this.summary.set(row.symbol, row);
      if (row.open) this.dayOpen.set(row.symbol, row.open);
    }
    this.emit("summary", this.summary);
  }

  setAccount(account) {
    this.account = account;
    this.emit("account", account);
  }

  setPositions(list) {
    this.positions = Array.isArray(list) ? list : [];
    this.emit("positions", this.positions);
  }

  setOrders(list) {
    this.orders = Array.isArray(list) ? list : [];
    this.emit("orders", this.orders);
  }

  setManaged(account) {
    if (account.status === "removed") this.managed.delete(account.id);
    else this.managed.set(account.id, account);
    this.emit("managed", this.managed);
  }

  select(symbol) {
    if (!symbol || symbol === this.selected) return;
    this.selected = symbol;
    this.emit("selected", symbol);
  }
}
