// A modal form (partial close, modify, confirmations), built with <dialog>.
import { $, h } from "./dom.js";

/** Show a dialog; ``fields``: [{name, label, value, type, step, min}]. Resolves with the values, or null. */
export function ask({ title, message = "", fields = [], confirm = "OK", danger = false }) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      h("input", {
        name: f.name,
        type: f.type ?? "number",
        step: f.step ?? "any",
        min: f.min,
        value: f.value ?? "",
        inputmode: f.type === "text" ? undefined : "decimal",
      }),
    );
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", { text: title }),
      message ? h("p", { text: message }) : null,
      fields.map((f, i) => h("label", {}, f.label, inputs[i])),
      error,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "ghost", value: "cancel", text: "Cancel", onclick: () => finish(null) }),
        h("button", { type: "submit", class: danger ? "danger" : "primary", value: "ok", text: confirm }),
      ),
    );
    const dialog = h("dialog", { class: "dialog" }, form);
    function finish(value) {
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {};
      for (const [i, f] of fields.entries()) {
        const raw = inputs[i].value.trim();
        if (f.type === "text") values[f.name] = raw;
        else if (raw === "") values[f.name] = null;
        else {
          const n = Number(raw);
          if (!Number.isFinite(n)) {
            error.textContent = `${f.label}: not a number`;
            error.hidden = false;
            inputs[i].focus();
            return;
          }
          values[f.name] = n;
        }
      }
      finish(values);
    });
    dialog.addEventListener("cancel", () => finish(null));
    $("#dialog-root").append(dialog);
    dialog.showModal();
    inputs[0]?.focus();
  });
}
