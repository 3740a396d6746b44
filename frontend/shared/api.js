// The HTTP client of the pages: JSON in and out, the bearer token in a header (never in a URL),
// and errors as ApiError carrying the server's stable code.

export class ApiError extends Error {
  constructor(status, detail) {
    const message =
      typeof detail === "string" ? detail : detail?.message || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.code = typeof detail === "object" && detail ? detail.code : undefined;
    this.detail = detail;
  }
}

export class Api {
  /**
   * @param {() => string|null} getToken  @param {() => void} onUnauthorized
   * @param {() => string|null} getLocale  the page's language, sent as Accept-Language so the
   *   server's refusals speak it (the browser's own languages may differ from the page's)
   */
  constructor({ getToken = () => null, onUnauthorized = () => {}, base = "", getLocale = () => null } = {}) {
    this.getToken = getToken;
    this.onUnauthorized = onUnauthorized;
    this.base = base;
    this.getLocale = getLocale;
  }

  headers(extra = {}) {
    const token = this.getToken();
    const locale = this.getLocale();
    const out = locale ? { "Accept-Language": locale, ...extra } : { ...extra };
    if (token) out.Authorization = `Bearer ${token}`;
    return out;
  }

  async request(method, path, { json, form, query } = {}) {
    const url = this.base + path + queryString(query);
    const init = { method, headers: this.headers({ Accept: "application/json" }) };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = new URLSearchParams(form);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, { code: "network", message: String(err?.message || err) });
    }
    const body = await readBody(response);
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, body?.detail ?? body);
    }
    return body;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  post(path, json) {
    return this.request("POST", path, { json: json ?? {} });
  }

  /** Fetch a file with the bearer header and hand it to the browser as a download. */
  async download(path, query, filename) {
    const response = await fetch(this.base + path + queryString(query), {
      headers: this.headers(),
    });
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      const body = await readBody(response);
      throw new ApiError(response.status, body?.detail ?? body);
    }
    const blob = await response.blob();
    const href = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = href;
    link.download = filenameFrom(response) || filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
    return link.download;
  }
}

/** "?a=1&b=2" from an object, skipping empty values; "" when nothing is left. */
export function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function readBody(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return response.text().catch(() => null);
}

function filenameFrom(response) {
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match ? decodeURIComponent(match[1]) : null;
}

/** A readable sentence for an error, e.g. for a status line. */
export function describeError(err) {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code})` : err.message;
  return String(err?.message || err);
}

/** The WebSocket URL of `path` on this page's origin (wss: under https:). */
export function wsUrl(path, location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}
