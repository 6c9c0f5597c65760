// The socket: subscriptions sent again after a reconnect, a server-ended connection retried, an auth
// refusal or `disconnected {reconnect: false}` ending the session.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Live } from "../src/lib/live.js";

class FakeSocket {
  constructor() {
    this.handlers = new Map();
    this.any = [];
    this.emitted = [];
    this.connected = false;
    this.active = true;
    this.connects = 0;
    this.io = { on: () => {}, engine: { transport: { name: "websocket" } } };
  }
  on(event, fn) {
    this.handlers.set(event, fn);
  }
  onAny(fn) {
    this.any.push(fn);
  }
  emit(event, data) {
    this.emitted.push([event, data]);
  }
  connect() {
    this.connects += 1;
  }
  disconnect() {
    this.connected = false;
  }
  fire(event, ...args) {
    if (event === "connect") this.connected = true;
    if (event === "disconnect") this.connected = false;
    this.handlers.get(event)?.(...args);
    for (const fn of this.any) fn(event, ...args);
  }
}

function make() {
  const socket = new FakeSocket();
  const seen = { statuses: [], ended: [], resyncs: 0 };
  const live = new Live({
    token: "tok",
    ioImpl: (url, options) => ((socket.options = options), socket),
    onStatus: (s) => seen.statuses.push(s.status),
    onSessionEnd: (code) => seen.ended.push(code),
    onResync: () => (seen.resyncs += 1),
  });
  return { socket, live, seen };
}

test("the token goes in the connection's auth; channels are sent again after a reconnect", () => {
  const { socket, live, seen } = make();
  assert.deepEqual(socket.options.auth, { token: "tok" });
  live.subscribe(["quotes", "positions"]);
  live.connect();
  socket.fire("connect");
  assert.deepEqual(socket.emitted, [["subscribe", { channels: ["quotes", "positions"] }]]);
  socket.fire("disconnect", "transport close");
  assert.equal(seen.statuses.at(-1), "reconnecting");
  socket.fire("connect");
  assert.deepEqual(socket.emitted.at(-1), ["subscribe", { channels: ["quotes", "positions"] }]);
  assert.equal(seen.statuses.at(-1), "live");
  assert.equal(seen.resyncs, 1);
});

test("a connection the server ended (a restart) is retried by the page", async () => {
  const { socket, live } = make();
  live.connect();
  socket.fire("connect");
  socket.fire("disconnected", { reason: "server shutting down", reconnect: true });
  socket.fire("disconnect", "io server disconnect");
  const before = socket.connects;
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(socket.connects, before + 1);
  live.close();
});

test("an auth refusal at connect, or disconnected {reconnect: false}, ends the session", () => {
  let { socket, live, seen } = make();
  live.connect();
  socket.fire("connect_error", Object.assign(new Error("refused"), { data: { error: "revoked", code: "token_revoked" } }));
  assert.deepEqual(seen.ended, ["token_revoked"]);
  ({ socket, live, seen } = make());
  live.connect();
  socket.fire("connect");
  socket.fire("disconnected", { reason: "user removed", reconnect: false });
  assert.deepEqual(seen.ended, ["revoked"]);
  ({ socket, live, seen } = make()); // the server names why: the page says it in the same words as a 401
  live.connect();
  socket.fire("connect");
  socket.fire("disconnected", { reason: "password changed", reconnect: false, code: "token_revoked" });
  assert.deepEqual(seen.ended, ["token_revoked"]);
});

test("a refusal that is not about auth (the server shutting down) is retried", async () => {
  const { socket, live, seen } = make();
  live.connect();
  socket.active = false;
  socket.fire("connect_error", Object.assign(new Error("refused"), { data: { error: "server shutting down", code: "unavailable" } }));
  assert.deepEqual(seen.ended, []);
  const before = socket.connects;
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(socket.connects, before + 1);
  live.close();
});
