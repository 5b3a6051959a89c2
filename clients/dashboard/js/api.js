// The dashboard's only way to the server: the HTTP/JSON mapping of the
// gRPC API (proto/annals/v1/*.proto, google.api.http annotations), fetched
// relative to the page, the server-sent event streams, and the display of
// the errors the server answers with (google.rpc.Status as JSON).
// Every request carries the tab's bearer token when one is set (token.js);
// an answer of 401 asks for one.
//
// Answers are protobuf's canonical JSON: 64-bit integers arrive as strings
// and fields at their default value are left out, so read numbers through
// num() and expect any field to be missing.

import { h } from "./dom.js";
import { CLOSED, FetchEventSource } from "./event_stream.js";
import { askForToken, authHeaders, token } from "./token.js";

// gRPC status codes by number, as google.rpc.Code names them.
const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
  "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

// An answer other than 2xx, or no answer at all.
export class ApiError extends Error {
  // httpStatus: 0 when the request did not reach the server.
  // status: the google.rpc.Status the server sent, or null.
  constructor(path, httpStatus, status, fallback) {
    const code = status && typeof status.code === "number" ? status.code : null;
    const message = (status && status.message) || fallback;
    super(message);
    this.path = path;
    this.httpStatus = httpStatus;
    this.code = code;
    this.codeName = code === null ? "" : (CODE_NAMES[code] || `code ${code}`);
    this.details = (status && status.details) || [];
  }

  // The field violations of a google.rpc.BadRequest detail, if any:
  // [{field, description}].
  get fieldViolations() {
    const out = [];
    for (const d of this.details) {
      if (d && Array.isArray(d.fieldViolations)) out.push(...d.fieldViolations);
    }
    return out;
  }
}

// A JSON number of any width, or 0 when the field was left out.
export function num(value) {
  if (value === undefined || value === null || value === "") return 0;
  return Number(value);
}

// Builds "v1/PATH?a=1&b=x&b=y" from an object: arrays repeat the
// parameter, undefined/null/"" values are left out.
export function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) {
      for (const item of v) q.append(k, String(item));
    } else {
      q.append(k, String(v));
    }
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// GET v1/PATH with params; resolves to the parsed JSON answer, rejects
// with ApiError (and asks for a token when the answer is 401).
export async function get(path, params = {}, { signal } = {}) {
  const target = url(`v1/${path}`, params);
  const sent = token();
  let response;
  try {
    response = await fetch(target, { headers: { Accept: "application/json", ...authHeaders(sent) }, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(target, 0, null, `The server could not be reached (${err.message}).`);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new ApiError(target, response.status, body,
      `HTTP ${response.status} ${response.statusText}`.trim());
    if (response.status === 401) askForToken(error, sent);
    throw error;
  }
  if (body === null) {
    throw new ApiError(target, response.status, null, "The server's answer is not JSON.");
  }
  return body;
}

// Follows next_page_token: calls GET path with pageToken until the answer
// has none, collecting answer[field]. Stops after `limit` items (0: no
// limit) and then reports whether more were left.
export async function getAll(path, params, field, { limit = 0, signal } = {}) {
  const items = [];
  let pageToken = "";
  for (;;) {
    const page = await get(path, { ...params, pageToken }, { signal });
    items.push(...(page[field] || []));
    pageToken = page.nextPageToken || "";
    if (!pageToken) return { items, more: false };
    if (limit && items.length >= limit) return { items, more: true, pageToken };
  }
}

// Every effective event of a timeline query, pages followed.
export async function timeline(params, options = {}) {
  return getAll("timeline", { pageSize: 1000, ...params }, "entries", options);
}

// Every relationship summary, pages followed.
export async function relationships(params = {}, options = {}) {
  return (await getAll("relationships", { pageSize: 1000, ...params }, "relationships", options)).items;
}

// An error as a block of text: what was asked, the status code and the
// server's message. Field violations are listed under it; an answer of
// 401 gets a button to the token form.
export function errorBox(err, what) {
  const box = h("div", { class: "error", role: "alert" });
  box.append(h("p", {}, h("strong", {}, what ? `Could not load ${what}. ` : "Error. "),
    errorText(err)));
  if (err instanceof ApiError) {
    // The message names the violations already when there is one.
    const violations = err.fieldViolations.filter((v) => !err.message.includes(v.description));
    if (violations.length) {
      box.append(h("ul", {}, violations.map((v) => h("li", {}, `${v.field}: ${v.description}`))));
    }
    if (err.httpStatus === 401) {
      box.append(h("p", {}, "This server needs a bearer token. ",
        h("button", { type: "button", class: "token-ask", onclick: () => askForToken(err) }, "Enter a token")));
    }
  }
  return box;
}

// One line: "INVALID_ARGUMENT (HTTP 400): invalid field …".
export function errorText(err) {
  if (err instanceof ApiError) {
    const where = err.httpStatus ? `HTTP ${err.httpStatus}` : "no answer";
    const code = err.codeName ? `${err.codeName} (${where})` : where;
    return `${code}: ${err.message}`;
  }
  return String(err && err.message ? err.message : err);
}

// A live stream of server-sent events with resumption and a visible state.
//
// path/params as for get(); handlers maps SSE event names ("event",
// "caughtUp", "state", ...) to functions of the parsed data and the SSE id.
// onState("connecting" | "live" | "reconnecting" | "stopped", detail) is
// told of every change.
//
// The stream is always read with fetch (event_stream.js), with or without
// a token, rather than with EventSource when no token is set: EventSource
// cannot send the Authorization header, and one reader for both cases is
// one code path to keep right (and the one the browser test exercises
// either way). It is no less robust: it reconnects after a dropped
// connection with a growing delay and Last-Event-ID, as EventSource does,
// and when annalsd refuses the stream it reads the refusal's
// google.rpc.Status from that same answer, where EventSource only says
// "error" and the reason had to be fetched a second time.
export class LiveStream {
  constructor(path, params, handlers, onState) {
    this.onState = onState;
    this.closed = false;
    const sent = token();
    const source = new FetchEventSource(url(`v1/${path}`, params), { headers: authHeaders(sent) });
    this.source = source;
    onState("connecting");
    source.addEventListener("open", () => onState("live"));
    source.addEventListener("error", (e) => {
      if (this.closed) return;
      const error = new ApiError(source.url, e.status, e.body, e.message);
      if (source.readyState !== CLOSED) {
        const when = `retrying in ${Math.round(e.retryMs / 1000)} s`;
        onState("reconnecting", e.body ? `${errorText(error)}; ${when}` : when);
        return;
      }
      // Refused: an error the server will repeat (a missing or unknown
      // token, a role too low, a malformed filter). Without a token, a 401
      // asks for one. With one, the page's own requests ask when it is
      // refused; a stream refused alone (an annalsd that authenticates
      // event streams otherwise than by this header) is told in the
      // header, not as a refused token.
      if (e.status === 401 && !sent) askForToken(error, sent);
      onState("stopped", errorText(error));
    });
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (message) => {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        handler(data, message.lastEventId);
      });
    }
  }

  close() {
    this.closed = true;
    this.source.close();
    this.onState("stopped");
  }
}
