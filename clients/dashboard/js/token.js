// The bearer token this tab sends to an annalsd started with
// --auth-tokens, and who is told when it changes or is needed.
//
// The token lives in sessionStorage: it is gone when the tab closes, and
// other tabs do not see it. It goes only into the Authorization header of
// the API's requests: never into a URL, never into localStorage, never to
// the console.

const KEY = "annals.token";

// Where the token is kept when sessionStorage cannot be used (a browser
// that refuses storage): this page only, until it is reloaded.
let fallback = "";

const changeListeners = new Set();
const needListeners = new Set();

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

// The token, or "" when none is set.
export function token() {
  const store = storage();
  if (!store) return fallback;
  try {
    return store.getItem(KEY) || "";
  } catch {
    return fallback;
  }
}

// Whether `value` can be a token: printable ASCII without spaces, which is
// what annals admin token create makes and what an HTTP header carries.
export function isTokenLike(value) {
  return /^[\x21-\x7e]+$/.test(value);
}

function store(value) {
  fallback = value;
  const s = storage();
  if (!s) return;
  try {
    if (value) s.setItem(KEY, value);
    else s.removeItem(KEY);
  } catch {
    // Storage full or refused: the fallback holds it for this page.
  }
}

function changed() {
  for (const listener of changeListeners) listener(Boolean(token()));
}

// Sets the token (already checked with isTokenLike) and tells the
// listeners of onTokenChange.
export function setToken(value) {
  store(value);
  changed();
}

// Forgets the token and tells the listeners of onTokenChange.
export function forgetToken() {
  store("");
  changed();
}

// The request headers that carry `value` (the token by default):
// {Authorization: "Bearer …"}, or {} without one.
export function authHeaders(value = token()) {
  return value ? { Authorization: `Bearer ${value}` } : {};
}

// listener(hasToken) after every setToken and forgetToken.
export function onTokenChange(listener) {
  changeListeners.add(listener);
}

// Says that the server answered 401 (UNAUTHENTICATED): `error` is the
// ApiError. The listeners of onTokenNeeded offer a way to give a token.
// `sent`, when given, is the token the refused request carried: a refusal
// of a request sent before the token changed is stale and ignored.
export function askForToken(error, sent) {
  if (sent !== undefined && sent !== token()) return;
  for (const listener of needListeners) listener(error);
}

// listener(error) on every askForToken.
export function onTokenNeeded(listener) {
  needListeners.add(listener);
}
