// Notifications in the corner: errors stay until dismissed, the rest fade after a few seconds.
import { $, h } from "./dom.js";

const MAX = 5;

export function toast(message, kind = "info", { timeoutMs = kind === "error" ? 0 : 5000 } = {}) {
  const root = $("#toasts");
  if (!root) return;
  const item = h(
    "div",
    { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { text: message }),
    h("button", { type: "button", class: "ghost", "aria-label": "Dismiss", text: "×", onclick: () => item.remove() }),
  );
  root.append(item);
  while (root.children.length > MAX) root.firstElementChild.remove();
  if (timeoutMs) setTimeout(() => item.remove(), timeoutMs);
}
