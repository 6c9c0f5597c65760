// Numbers, money and times as a trader reads them.

export function price(value, digits = 5) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return value.toFixed(digits);
}

export function money(value, { signed = false } = {}) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = Math.abs(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (value < 0) return `-${text}`;
  return signed && value > 0 ? `+${text}` : text;
}

export function volume(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return String(Number(value.toFixed(2)));
}

export function percent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}%`;
}

/** "2026-11-18 09:00:01" (UTC: the server's clock, as the window shows it). */
export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace("T", " ").slice(0, 19);
}

export function age(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "never";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function signClass(value) {
  if (!Number.isFinite(value) || value === 0) return "";
  return value > 0 ? "up" : "down";
}
