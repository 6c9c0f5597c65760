// The session: sessionStorage only, expiry honoured, and what each role is offered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { permissionsFor, Session } from "../src/lib/session.js";

function memoryStorage() {
  const data = new Map();
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, String(v)), removeItem: (k) => data.delete(k), data };
}

test("a viewer is offered no trading, an unknown role is a viewer, admins and traders trade", () => {
  assert.equal(permissionsFor("viewer").trade, false);
  assert.equal(permissionsFor("viewer").carousel, false);
  assert.equal(permissionsFor("viewer").signals, false);
  assert.deepEqual(permissionsFor("root"), permissionsFor("viewer"));
  assert.equal(permissionsFor(undefined).role, "viewer");
  assert.equal(permissionsFor("trader").trade, true);
  assert.equal(permissionsFor("trader").admin, false);
  assert.equal(permissionsFor("admin").admin, true);
});

test("the login answer is kept in the given storage and read back; an expired one is not", () => {
  const storage = memoryStorage();
  const session = new Session(storage);
  assert.equal(session.token, null);
  session.save({ token: "t1", expires_in: 3600, user: { username: "ann", role: "trader" } });
  const again = new Session(storage);
  assert.equal(again.token, "t1");
  assert.equal(again.permissions.trade, true);
  session.save({ token: "t2", expires_in: -1, user: { username: "ann", role: "trader" } });
  assert.equal(new Session(storage).token, null);
  session.clear();
  assert.equal(storage.data.size, 0);
  storage.setItem("mt5c.session", "{not json");
  assert.equal(new Session(storage).token, null);
});
