// The client's only way to the API, and the only place its tokens live.
//
// Where they live depends on the pattern picked before signing in (docs/browser-client.md):
//
// - "memory": the access and refresh tokens are two variables of this module. No other
//   script can reach them through a global, and they die with the tab: a reload means
//   signing in again.
// - "cookie": the server keeps the refresh token in an HttpOnly cookie sent only to
//   /api/auth/browser/, out of every script's reach; the access token is a variable here.
//   The browser sends that cookie on its own, so each call carries Django's CSRF token.
//   On load, restore() asks for a new access token: a reload signs in silently.
// - "localstorage": both tokens in localStorage, readable by any script on this origin.
//   The pattern to avoid, offered only where the page says data-localstorage-demo="true".

const API = "/api";
const STORAGE_KEY = "webclient.tokens";
const PATTERNS = ["memory", "cookie", "localstorage"];

let pattern = "memory";
let accessToken = null;
let refreshToken = null; // Never set in the cookie pattern: the browser holds it.
// The refresh in flight, shared by every request that meets a 401 meanwhile: a refresh
// token can be used once (rotation); the server answers a repeat within a few seconds with
// the same new token, but one sent later counts as theft and ends the sign-in, so one
// refresh at a time keeps this tab clear of that window.
let refreshInFlight = null;

const listeners = new Set();

/** An answer from the API that is not a success: status, and its JSON error body. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.body = body || {};
  }

  /** Field errors of a 400 answer, as { field: [messages] }. */
  get fieldErrors() {
    return this.body.errors || {};
  }
}

/** The sign-in has ended (refresh refused or tokens gone): sign in again. */
export class SignedOut extends Error {}

/** Call `listener()` whenever the tokens change (signed in, refreshed, signed out). */
export function onTokensChange(listener) {
  listeners.add(listener);
}

function localStorageAllowed() {
  return document.body.dataset.localstorageDemo === "true";
}

/** The patterns this page offers: localStorage only where the page allows the demo. */
function patternsOffered() {
  return PATTERNS.filter((name) => name !== "localstorage" || localStorageAllowed());
}

/** The pattern in use. */
export function currentPattern() {
  return pattern;
}

/** Choose where the next sign-in keeps its tokens; refuse a pattern the page does not offer. */
export function choosePattern(name) {
  if (!patternsOffered().includes(name)) throw new Error(`This page does not offer "${name}".`);
  if (isSignedIn()) throw new Error("Sign out before choosing another pattern.");
  pattern = name;
}

function setTokens(pair) {
  accessToken = pair ? pair.access : null;
  refreshToken = pair && pattern !== "cookie" ? pair.refresh : null;
  if (pattern === "localstorage") {
    const stored = JSON.stringify({ access: accessToken, refresh: refreshToken });
    if (pair) localStorage.setItem(STORAGE_KEY, stored);
    else localStorage.removeItem(STORAGE_KEY);
  }
  listeners.forEach((listener) => listener());
}

export function isSignedIn() {
  return accessToken !== null;
}

/** Django's CSRF token, from the cookie the page names (the /app/ view sets it). */
function csrfToken() {
  const name = document.body.dataset.csrfCookieName;
  for (const pair of document.cookie.split("; ")) {
    const [key, ...value] = pair.split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return "";
}

/** A POST to the cookie pattern's endpoints: the browser adds the cookie, we add CSRF. */
function sendBrowser(path, body) {
  return send(`/auth/browser/${path}`, {
    method: "POST",
    body,
    headers: { "X-CSRFToken": csrfToken() },
    credentials: "same-origin",
  });
}

/**
 * Decode the access token's claims, for display only. This page cannot verify the
 * signature (it holds no key, and needs none): the API verifies every token it is sent.
 */
export function accessClaims() {
  if (!accessToken) return null;
  try {
    const part = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

async function send(
  path,
  { method = "GET", body, headers = {}, token = null, credentials = "omit" } = {},
) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (token) sent.Authorization = `Bearer ${token}`;
  const response = await fetch(API + path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    // Bearer tokens only: no cookies on API calls, but for the cookie pattern's own endpoints.
    credentials,
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: `The server answered ${response.status} with something other than JSON.` };
    }
  }
  return { status: response.status, ok: response.ok, data };
}

/** Trade email and password for a token pair. */
export async function signIn(email, password) {
  const answer =
    pattern === "cookie"
      ? await sendBrowser("token/", { email, password })
      : await send("/auth/token/", { method: "POST", body: { email, password } });
  if (!answer.ok) throw new ApiError(answer.status, answer.data);
  setTokens(answer.data);
}

async function rotate() {
  const used = pattern === "cookie" ? accessToken : refreshToken;
  if (!used) throw new SignedOut("You are not signed in.");
  const answer =
    pattern === "cookie"
      ? await sendBrowser("refresh/")
      : await send("/auth/token/refresh/", { method: "POST", body: { refresh: used } });
  if (!answer.ok) {
    // Only forget the tokens if nobody has signed in again meanwhile.
    if ((pattern === "cookie" ? accessToken : refreshToken) === used) setTokens(null);
    throw new SignedOut((answer.data && answer.data.detail) || "Your sign-in has ended.");
  }
  setTokens(answer.data);
}

function refreshOnce() {
  if (!refreshInFlight) {
    refreshInFlight = rotate().finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

/**
 * Call the API with the access token. On a 401, refresh the tokens once and retry once;
 * if the refresh is refused, the tokens are dropped and SignedOut is thrown.
 * Resolve to the answer's JSON body (null for 204); throw ApiError for any other failure.
 */
export async function api(path, options = {}) {
  if (refreshInFlight) await refreshInFlight.catch(() => {});
  const sentWith = accessToken;
  let answer = await send(path, { ...options, token: sentWith });
  if (answer.status === 401) {
    // Another request may have refreshed while this one was on its way: then just retry.
    if (accessToken === sentWith) await refreshOnce();
    answer = await send(path, { ...options, token: accessToken });
    if (answer.status === 401) {
      setTokens(null);
      throw new SignedOut((answer.data && answer.data.detail) || "Your sign-in has ended.");
    }
  }
  if (!answer.ok) throw new ApiError(answer.status, answer.data);
  return answer.data;
}

/** End this sign-in on the server, then forget the tokens (even if the server is unreachable). */
export async function signOut() {
  const refresh = refreshToken;
  const wasSignedIn = isSignedIn();
  setTokens(null);
  if (pattern === "cookie") {
    // The server ends the sign-in and clears the cookie; without an answer it stays set.
    if (wasSignedIn) await sendBrowser("logout/").catch(() => {});
  } else if (refresh) {
    await send("/auth/logout/", { method: "POST", body: { refresh } }).catch(() => {});
  }
}

/** End every API sign-in of the user (other tabs and devices too), then forget the tokens. */
export async function signOutEverywhere() {
  try {
    await api("/auth/logout-all/", { method: "POST" });
  } finally {
    setTokens(null);
    // The sign-in has ended on the server; this clears its cookie from the browser too.
    if (pattern === "cookie") await sendBrowser("logout/").catch(() => {});
  }
}

/**
 * Sign in again without a password after a reload, if the pattern allows it: from
 * localStorage (the demo), or through the refresh cookie. Resolve to whether it did.
 */
export async function restore() {
  if (localStorageAllowed()) {
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(STORAGE_KEY));
    } catch {
      stored = null;
    }
    if (stored && stored.access && stored.refresh) {
      pattern = "localstorage";
      setTokens(stored);
      return true;
    }
  }
  // The cookie is HttpOnly and sent only to /api/auth/browser/: this page cannot see
  // whether there is one, so it asks; without one the answer is a 401.
  const answer = await sendBrowser("refresh/").catch(() => null);
  if (!answer || !answer.ok) return false;
  pattern = "cookie";
  setTokens(answer.data);
  return true;
}
