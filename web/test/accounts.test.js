// The Accounts tab's staleness: by the server's `stale_after_s` (the carousel status), as the window.
import assert from "node:assert/strict";
import { test } from "node:test";
import { STALE_AFTER_MS, staleAfterMs } from "../src/views/accounts.js";

test("the carousel's stale_after_s sets when a row is stale; a missing or bad value keeps the default", () => {
  assert.equal(staleAfterMs({ stale_after_s: 60 }), 60_000);
  assert.equal(staleAfterMs({ stale_after_s: 0.5 }), 500);
  assert.equal(staleAfterMs(null), STALE_AFTER_MS);
  assert.equal(staleAfterMs({}), STALE_AFTER_MS);
  assert.equal(staleAfterMs({ stale_after_s: -5 }), STALE_AFTER_MS);
  assert.equal(staleAfterMs({ stale_after_s: "soon" }), STALE_AFTER_MS);
});
