// The Socket.IO connection: the token in the connection's auth, the channels the page wants (sent again
// after every reconnect, since a restarted server knows nothing of them), and a status the page shows.
//
// Reconnecting: socket.io-client retries by itself after a lost transport; after the server ends the
// connection ("io server disconnect", e.g. a restart announces `disconnected {reconnect: true}`) or
// refuses it for a reason other than auth, it does not, so this module does, with backoff. An auth
// refusal (expired or revoked token) or `disconnected {reconnect: false}` ends the session instead.
import { io } from "socket.io-client";
import { AUTH_CODES } from "./api.js";

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;
const REQUEST_TIMEOUT_MS = 10000;

export class Live {
  constructor({ token, url = undefined, onStatus = () => {}, onSessionEnd = () => {}, onResync = () => {}, ioImpl = io }) {
    this.onStatus = onStatus;
    this.onSessionEnd = onSessionEnd;
    this.onResync = onResync;
    this.handlers = new Map();
    this.channels = new Map(); // channel -> Set of symbols | null (every symbol)
    this.extraSubscriptions = new Map(); // key -> payload (other dialects, e.g. seed 002's candles)
    this.status = "connecting";
    this.everConnected = false;
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.closed = false;
    this.lastDisconnected = null;
    this.socket = ioImpl(url, {
      auth: { token },
      autoConnect: false,
      reconnectionDelay: RETRY_MIN_MS,
      reconnectionDelayMax: RETRY_MAX_MS,
      timeout: 10000,
    });
    this.socket.on("connect", () => this._connected());
    this.socket.on("disconnect", (reason) => this._disconnected(reason));
    this.socket.on("connect_error", (error) => this._refused(error));
    this.socket.on("disconnected", (info) => {
      this.lastDisconnected = info;
      if (info && info.reconnect === false) this._endSession(info.code ?? "revoked", info.reason);
    });
    this.socket.io.on("open", () => {
      this.socket.io.engine?.on("upgrade", () => this.status === "live" && this._setStatus("live"));
    });
    this.socket.onAny((event, ...args) => {
      const set = this.handlers.get(event);
      if (set) for (const fn of set) fn(...args);
    });
  }

  connect() {
    this._setStatus(this.everConnected ? "reconnecting" : "connecting");
    this.socket.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.handlers.get(event)?.delete(fn);
  }

  /** Listen to ``channel`` (seed 001's form); ``symbols`` narrows quotes. Remembered for reconnects. */
  subscribe(channels, symbols = null) {
    for (const channel of channels) {
      const had = this.channels.get(channel);
      if (symbols === null || had === null) this.channels.set(channel, null);
      else this.channels.set(channel, new Set([...(had ?? []), ...symbols]));
    }
    if (this.socket.connected) {
      const payload = { channels };
      if (symbols) payload.symbols = symbols;
      this.socket.emit("subscribe", payload);
    }
  }

  /** A subscription of another form (kept and re-sent after a reconnect); resolves with its answer. */
  subscribeExtra(key, payload) {
    this.extraSubscriptions.set(key, payload);
    return this.socket.connected ? this.request("subscribe", payload) : Promise.resolve(null);
  }

  unsubscribeExtra(key, payload) {
    this.extraSubscriptions.delete(key);
    if (this.socket.connected) this.socket.emit("unsubscribe", payload);
  }

  /** A request event answered through the acknowledgement. */
  request(event, data) {
    return this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(event, data);
  }

  get connected() {
    return this.socket.connected;
  }

  get transport() {
    return this.socket.io?.engine?.transport?.name ?? null;
  }

  _connected() {
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.retryMs = RETRY_MIN_MS;
    this.lastDisconnected = null;
    this._resubscribe();
    this._setStatus("live", reconnected);
    if (reconnected) this.onResync();
  }

  _resubscribe() {
    const every = [...this.channels].filter(([, symbols]) => symbols === null).map(([c]) => c);
    if (every.length) this.socket.emit("subscribe", { channels: every });
    for (const [channel, symbols] of this.channels) {
      if (symbols !== null) this.socket.emit("subscribe", { channels: [channel], symbols: [...symbols] });
    }
    for (const payload of this.extraSubscriptions.values()) this.socket.emit("subscribe", payload);
  }

  _disconnected(reason) {
    if (this.closed) return;
    this._setStatus("reconnecting", false, this.lastDisconnected?.reason ?? reason);
    if (reason === "io server disconnect") this._retryLater(); // the server ended it: not retried by the client
  }

  _refused(error) {
    if (this.closed) return;
    const code = error?.data?.code;
    if (code && AUTH_CODES.has(code)) {
      this._endSession(code, error.data.error);
      return;
    }
    this._setStatus(this.everConnected ? "reconnecting" : "connecting", false, error?.data?.error ?? error?.message);
    if (!this.socket.active) this._retryLater(); // refused by the server (e.g. shutting down)
  }

  _retryLater() {
    clearTimeout(this.retryTimer);
    const wait = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, wait);
  }

  _endSession(code, message) {
    if (this.closed) return;
    this.close();
    this.onSessionEnd(code, message);
  }

  _setStatus(status, reconnected = false, detail = "") {
    this.status = status;
    this.onStatus({ status, reconnected, detail: detail ? String(detail) : "" });
  }
}
