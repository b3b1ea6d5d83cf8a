// The client's only way to the API, and the only place its tokens live.
//
// The access and refresh tokens are two variables of this module: no other script can
// reach them through a global, nothing writes them to localStorage, sessionStorage or a
// cookie, and they die with the tab. A reload therefore means signing in again.

const API = "/api";

let accessToken = null;
let refreshToken = null;
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

function setTokens(pair) {
  accessToken = pair ? pair.access : null;
  refreshToken = pair ? pair.refresh : null;
  listeners.forEach((listener) => listener());
}

export function isSignedIn() {
  return refreshToken !== null;
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

async function send(path, { method = "GET", body, headers = {}, token = null } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (token) sent.Authorization = `Bearer ${token}`;
  const response = await fetch(API + path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    // Bearer tokens only: never send or store cookies on API calls.
    credentials: "omit",
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
  const answer = await send("/auth/token/", { method: "POST", body: { email, password } });
  if (!answer.ok) throw new ApiError(answer.status, answer.data);
  setTokens(answer.data);
}

async function rotate() {
  const used = refreshToken;
  if (!used) throw new SignedOut("You are not signed in.");
  const answer = await send("/auth/token/refresh/", { method: "POST", body: { refresh: used } });
  if (!answer.ok) {
    // Only forget the tokens if nobody has signed in again meanwhile.
    if (refreshToken === used) setTokens(null);
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
  setTokens(null);
  if (refresh) {
    await send("/auth/logout/", { method: "POST", body: { refresh } }).catch(() => {});
  }
}

/** End every API sign-in of the user (other tabs and devices too), then forget the tokens. */
export async function signOutEverywhere() {
  try {
    await api("/auth/logout-all/", { method: "POST" });
  } finally {
    setTokens(null);
  }
}
