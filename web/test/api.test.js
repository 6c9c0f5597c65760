// The REST client: the bearer token, the server's error shape, a 401 ending the session.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createApi } from "../src/lib/api.js";

function fakeFetch(status, body) {
  const calls = [];
  const impl = async (url, init) => {
    calls.push({ url, init });
    return { ok: status < 400, status, statusText: "x", text: async () => (body === undefined ? "" : JSON.stringify(body)) };
  };
  return { impl, calls };
}

test("calls carry the token and the query; answers are JSON", async () => {
  const { impl, calls } = fakeFetch(200, [{ symbol: "EURUSD" }]);
  const api = createApi({ getToken: () => "tok", fetchImpl: impl });
  assert.deepEqual(await api.get("/api/quotes", { symbols: "EURUSD", empty: "", none: null }), [{ symbol: "EURUSD" }]);
  assert.equal(calls[0].url, "/api/quotes?symbols=EURUSD");
  assert.equal(calls[0].init.headers.Authorization, "Bearer tok");
  assert.equal(calls[0].init.credentials, "omit");
});

test("an error answer becomes an ApiError with its code and field", async () => {
  const { impl } = fakeFetch(422, { error: "volume: not on the step", code: "invalid_order", details: { field: "volume" } });
  const api = createApi({ getToken: () => "tok", fetchImpl: impl });
  await assert.rejects(api.post("/api/place", {}), (e) => e instanceof ApiError && e.status === 422 && e.code === "invalid_order" && e.field === "volume");
});

test("a 401 on an authenticated call ends the session; the login's own 401 does not", async () => {
  const ended = [];
  const { impl } = fakeFetch(401, { error: "the token is no longer valid", code: "token_revoked" });
  const api = createApi({ getToken: () => "tok", onUnauthorized: (e) => ended.push(e.code), fetchImpl: impl });
  await assert.rejects(api.get("/api/account"));
  await assert.rejects(api.login("admin", "wrong"));
  assert.deepEqual(ended, ["token_revoked"]);
});

test("an unreachable server is a clear error, not a crash", async () => {
  const api = createApi({ getToken: () => null, fetchImpl: async () => { throw new TypeError("fetch failed"); } });
  await assert.rejects(api.health(), (e) => e.code === "network" && e.status === 0);
});
