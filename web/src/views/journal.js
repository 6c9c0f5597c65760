// The Journal tab: the app's log (redacted on the server), the recent records from REST and then the
// `logs` channel, filtered by level; bounded (the oldest rows go).
import { h, fill } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";

const MAX_ROWS = 500;
const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

export function mountJournal({ api, live, el }) {
  const level = h("select", { "aria-label": "Level", id: "journal-level" }, LEVELS.map((l) => h("option", { value: l, text: l })));
  level.value = "INFO";
  const body = h("tbody");
  fill(el, 
    h("div", { class: "filters" }, h("label", {}, "Level ", level)),
    h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "journal-table" },
      h("thead", {}, h("tr", {}, ["Time", "Level", "Module", "Message"].map((c) => h("th", { text: c })))),
      body)),
  );
  const shown = () => LEVELS.indexOf(level.value);

  function row(entry) {
    return h("tr", { class: `level-${String(entry.level).toLowerCase()}`, dataset: { level: entry.level } },
      h("td", { text: dateTime(entry.timestamp) }),
      h("td", { text: entry.level }),
      h("td", { text: entry.module }),
      h("td", { text: entry.message }),
    );
  }

  function add(entry) {
    if (!entry || LEVELS.indexOf(entry.level) < shown()) return;
    body.prepend(row(entry));
    while (body.children.length > MAX_ROWS) body.lastElementChild.remove();
  }

  async function load() {
    try {
      const entries = await api.get("/api/logs", { limit: 200, level: level.value });
      fill(body, entries.reverse().map(row));
    } catch {
      // shown again on the next change or reconnect
    }
  }

  level.addEventListener("change", load);
  live.on("logs_update", add);
  return { load };
}
