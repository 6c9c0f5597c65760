// Recompute an audit trail's hash chain in JavaScript, sharing no code with the app: the proof that the
// canonical form (RFC 8785) lets a verifier in any language check the trail.
// Usage: node verify_chain.mjs <audit dir>  ->  "OK <entries> <last hash>" or "BAD <file> <line> <why>"
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// JCS: JSON.stringify already writes numbers and strings as RFC 8785 wants; keys sort by UTF-16 units.
function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

const dir = process.argv[2];
const files = readdirSync(dir).filter((name) => /^audit-\d{12}-\d{8}\.jsonl$/.test(name)).sort();
let seq = 1;
let prev = "0".repeat(64);
for (const file of files) {
  const lines = readFileSync(join(dir, file), "utf8").split("\n");
  lines.pop(); // the text after the last newline: empty, or a torn tail
  for (const [index, line] of lines.entries()) {
    const entry = JSON.parse(line);
    const { hash, ...body } = entry;
    const digest = createHash("sha256").update(canonical(body), "utf8").digest("hex");
    const why = digest !== hash ? "hash" : entry.seq !== seq ? "seq" : entry.prev !== prev ? "prev" : null;
    if (why) {
      console.log(`BAD ${file} ${index + 1} ${why}`);
      process.exit(1);
    }
    seq += 1;
    prev = hash;
  }
}
console.log(`OK ${seq - 1} ${prev}`);
