// The staff session: the bearer token lives in sessionStorage (gone when the tab closes),
// never in localStorage and never in a URL.

const KEY = "consult119.staff-token";

/** The claims of a JWT (not verified here: the server verifies every request). */
export function decodeToken(token) {
  try {
    const part = String(token).split(".")[1];
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(decodeURIComponent(escape(json)));
  } catch {
    return null;
  }
}

/** True when the token is absent, unreadable or past its `exp` at `nowMs`. */
export function isExpired(token, nowMs = Date.now()) {
  const claims = decodeToken(token);
  return !claims || typeof claims.exp !== "number" || claims.exp * 1000 <= nowMs;
}

export function loadToken(storage = globalThis.sessionStorage) {
  const token = storage?.getItem(KEY) || null;
  return token && !isExpired(token) ? token : null;
}

export function saveToken(token, storage = globalThis.sessionStorage) {
  storage?.setItem(KEY, token);
}

export function clearToken(storage = globalThis.sessionStorage) {
  storage?.removeItem(KEY);
}
