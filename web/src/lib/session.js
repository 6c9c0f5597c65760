// The login's token and user: kept in sessionStorage (this tab only, gone when it closes), never in
// localStorage; what the user's role allows the page to offer.

const KEY = "mt5c.session";

export const ROLES = ["admin", "trader", "viewer"];

/** What a role may do in the page. An unknown role gets the least: reading. The server decides in
 * the end (403 forbidden); this only hides what would be refused. */
export function permissionsFor(role) {
  const known = ROLES.includes(role) ? role : "viewer";
  return {
    role: known,
    trade: known === "admin" || known === "trader",
    manageAccounts: known === "admin" || known === "trader",
    carousel: known === "admin" || known === "trader",
    signals: known === "admin" || known === "trader",
    admin: known === "admin",
  };
}

export class Session {
  constructor(storage = globalThis.sessionStorage) {
    this.storage = storage;
    this.value = null;
    try {
      const raw = storage?.getItem(KEY);
      const parsed = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed.token === "string" && parsed.expiresAt > Date.now()) this.value = parsed;
    } catch {
      this.value = null;
    }
  }

  get token() {
    return this.value?.token ?? null;
  }

  get user() {
    return this.value?.user ?? null;
  }

  get permissions() {
    return permissionsFor(this.value?.user?.role);
  }

  /** From the login answer {token, expires_in, user: {username, role}}. */
  save(answer) {
    this.value = {
      token: answer.token,
      user: { username: answer.user?.username ?? "", role: answer.user?.role ?? "viewer" },
      expiresAt: Date.now() + Number(answer.expires_in ?? 0) * 1000,
    };
    this.storage?.setItem(KEY, JSON.stringify(this.value));
  }

  clear() {
    this.value = null;
    this.storage?.removeItem(KEY);
  }
}
