// The dashboard's only way to the server: the HTTP/JSON mapping of the
// gRPC API (proto/annals/v1/*.proto, google.api.http annotations), fetched
// relative to the page, the server-sent event streams, and the display of
// the errors the server answers with (google.rpc.Status as JSON).
//
// Answers are protobuf's canonical JSON: 64-bit integers arrive as strings
// and fields at their default value are left out, so read numbers through
// num() and expect any field to be missing.

import { h } from "./dom.js";

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
// with ApiError.
export async function get(path, params = {}, { signal } = {}) {
  const target = url(`v1/${path}`, params);
  let response;
  try {
    response = await fetch(target, { headers: { Accept: "application/json" }, signal });
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
    throw new ApiError(target, response.status, body,
      `HTTP ${response.status} ${response.statusText}`.trim());
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
// server's message. Field violations are listed under it.
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
// told of every change. EventSource reconnects by itself after a dropped
// connection and sends Last-Event-ID, so the server resumes without a gap;
// when the browser gives up (an answer that is not an event stream), the
// stream is reopened after a growing delay from the last id seen plus one.
export class LiveStream {
  constructor(path, params, handlers, onState) {
    this.path = path;
    this.params = params;
    this.handlers = handlers;
    this.onState = onState;
    this.lastId = null;
    this.retryMs = 1000;
    this.source = null;
    this.timer = null;
    this.closed = false;
    if (path === "subscribe") {
      // Every message moves the resume position, whether or not the page
      // wants it.
      for (const name of ["event", "checkpoint", "caughtUp", "fellBehind"]) {
        if (!this.handlers[name]) this.handlers[name] = () => {};
      }
    }
    this.open();
  }

  open() {
    const params = { ...this.params };
    if (this.lastId !== null && this.path === "subscribe") {
      params.fromPosition = String(BigInt(this.lastId) + 1n);
    }
    const source = new EventSource(url(`v1/${this.path}`, params));
    this.source = source;
    this.onState("connecting");
    source.onopen = () => {
      this.retryMs = 1000;
      this.onState("live");
    };
    source.onerror = () => {
      if (this.closed) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.onState("reconnecting");
        return;
      }
      // Closed for good by the browser: the answer was not an event
      // stream. Ask again to learn why, then reopen later ourselves.
      source.close();
      this.diagnose(source.url);
    };
    for (const [name, handler] of Object.entries(this.handlers)) {
      source.addEventListener(name, (message) => {
        if (message.lastEventId) this.lastId = message.lastEventId;
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

  // Finds out why a stream was refused: an error the server will repeat
  // (a malformed filter, a missing token) stops the stream with its
  // message; anything else is retried with a growing delay.
  async diagnose(target) {
    const controller = new AbortController();
    let error = null;
    try {
      const response = await fetch(target, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        error = new ApiError(target, response.status, body, `HTTP ${response.status}`);
      }
    } catch (err) {
      error = err;
    } finally {
      controller.abort();
    }
    if (this.closed) return;
    const permanent = error instanceof ApiError && error.httpStatus >= 400 && error.httpStatus < 500 &&
      error.httpStatus !== 408 && error.httpStatus !== 429;
    if (permanent) {
      this.onState("stopped", errorText(error));
      return;
    }
    this.onState("reconnecting", `retrying in ${Math.round(this.retryMs / 1000)} s`);
    this.timer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30000);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.onState("stopped");
  }
}
