// The REST client: JSON in and out, the bearer token on every call, the server's error shape
// ({error, details?, code?}) turned into an ApiError. A 401 on an authenticated call ends the session.

export class ApiError extends Error {
  constructor(status, message, code = "", details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get field() {
    return this.details?.field ?? null;
  }
}

export const AUTH_CODES = new Set(["unauthorized", "token_expired", "token_revoked", "invalid_token"]);

export function createApi({ base = "", getToken, onUnauthorized, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  async function call(method, path, { query, body, auth = true } = {}) {
    let url = base + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    const headers = { Accept: "application/json" };
    const token = auth ? getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "the server cannot be reached", "network");
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const error = new ApiError(
        response.status,
        data?.error ?? `${response.status} ${response.statusText}`,
        data?.code ?? "",
        data?.details ?? null,
      );
      if (response.status === 401 && auth && token) onUnauthorized?.(error);
      throw error;
    }
    return data;
  }

  return {
    get: (path, query) => call("GET", path, { query }),
    post: (path, body) => call("POST", path, { body: body ?? {} }),
    del: (path) => call("DELETE", path),
    login: (username, password) => call("POST", "/api/login", { body: { username, password }, auth: false }),
    health: () => call("GET", "/api/health", { auth: false }),
  };
}
