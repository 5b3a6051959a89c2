// Server-sent events read with fetch() and a ReadableStream reader, for
// event streams whose requests need headers: EventSource cannot send any,
// so it cannot send Authorization: Bearer … to an annalsd started with
// --auth-tokens.
//
// SseParser follows the parsing rules of the HTML standard
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
// lines end with CRLF, LF or CR, also when a chunk ends between CR and LF;
// a line starting with ":" is a comment (annalsd's ": heartbeat"); "field:
// value" drops one space after the colon; `event:` names the event,
// `data:` lines are joined with LF, `id:` sets the last event id (kept
// from one event and one connection to the next), `retry:` the
// reconnection delay; a blank line dispatches the event (none when no
// `data:` came), and an event cut off by the end of a connection is
// dropped. The UTF-8 byte order mark is dropped by TextDecoder.
//
// FetchEventSource is the part of EventSource that LiveStream uses:
// addEventListener("open" | "error" | an event name), readyState,
// lastEventId and close(). Unlike EventSource it
//   - reconnects after a dropped connection, an answer of 408, 429 or 5xx,
//     or no answer, with a delay that doubles from 1 s (or `retry:`) up to
//     30 s and starts again at the next opened stream; every reconnection
//     sends Last-Event-ID, so that annalsd resumes after the last event
//     seen, without a gap or a duplicate;
//   - gives up (readyState CLOSED) on any other answer that is not an
//     event stream (401, 403, 400, …), and its "error" event carries the
//     HTTP status and the parsed JSON body (the google.rpc.Status), so that
//     the page can say why without asking again;
//   - does not dispatch annalsd's `event: error` (its last word on a stream
//     that fails once started) as a message: its body becomes the detail
//     of the "error" event sent when that stream ends.

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

// The text/event-stream format, fed as decoded text in chunks of any size.
export class SseParser {
  // onEvent({type, data, lastEventId}) for every event dispatched;
  // onRetry(ms) for every `retry:` field of digits.
  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    // The last event id of the stream: what a reconnection sends.
    this.lastEventId = "";
    this.reset();
  }

  // Drops a partly received line and event, at the end of a connection;
  // the last event id stays.
  reset() {
    this.pending = ""; // the start of a line whose end has not come yet
    this.skipLF = false; // the previous chunk ended with CR
    this.idBuffer = this.lastEventId;
    this.data = [];
    this.type = "";
  }

  push(text) {
    if (!text) return;
    if (this.skipLF) {
      this.skipLF = false;
      if (text[0] === "\n") text = text.slice(1);
    }
    const all = this.pending + text;
    const eol = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = eol.exec(all); m !== null; m = eol.exec(all)) {
      // A CR that ends the chunk may be the first half of a CRLF.
      if (m[0] === "\r" && eol.lastIndex === all.length) this.skipLF = true;
      this.line(all.slice(start, m.index));
      start = eol.lastIndex;
    }
    this.pending = all.slice(start);
  }

  line(line) {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line[0] === ":") return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") {
      this.type = value;
    } else if (field === "data") {
      this.data.push(value);
    } else if (field === "id") {
      if (!value.includes("\0")) this.idBuffer = value;
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) this.onRetry(Number(value));
    }
    // Any other field is ignored.
  }

  dispatch() {
    this.lastEventId = this.idBuffer;
    if (this.data.length === 0) {
      this.type = "";
      return;
    }
    const event = { type: this.type || "message", data: this.data.join("\n"), lastEventId: this.lastEventId };
    this.data = [];
    this.type = "";
    this.onEvent(event);
  }
}

// The "error" event of a FetchEventSource. status: the HTTP status, 0
// when there was no answer or the connection broke; body: the answer's
// JSON (a google.rpc.Status) or null; message: what happened, in words;
// retryMs: the delay before the next attempt, 0 when there is none
// (readyState CLOSED).
export class EventStreamError extends Event {
  constructor(status, body, message, retryMs) {
    super("error");
    this.status = status;
    this.body = body;
    this.message = message;
    this.retryMs = retryMs;
  }
}

export class FetchEventSource extends EventTarget {
  // url: the stream, relative to the page. headers: sent with every
  // request (Accept and Last-Event-ID are added). lastEventId: the id to
  // resume after on the first request ("" for none). fetch: for tests.
  constructor(url, { headers = {}, lastEventId = "", fetch: fetchFn = (...args) => fetch(...args) } = {}) {
    super();
    this.url = new URL(url, document.baseURI).href;
    this.headers = headers;
    this.fetch = fetchFn;
    this.readyState = CONNECTING;
    this.retryBaseMs = FIRST_RETRY_MS;
    this.failures = 0; // failed attempts since the last opened stream
    this.timer = null;
    this.controller = null;
    this.serverError = null;
    this.parser = new SseParser((e) => this.deliver(e), (ms) => { this.retryBaseMs = ms; });
    this.parser.lastEventId = lastEventId;
    this.parser.reset();
    this.connect();
  }

  get lastEventId() {
    return this.parser.lastEventId;
  }

  close() {
    this.readyState = CLOSED;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
  }

  async connect() {
    this.readyState = CONNECTING;
    this.serverError = null;
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream", ...this.headers };
    if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
    let response;
    try {
      response = await this.fetch(this.url, { headers, cache: "no-store", signal: controller.signal });
    } catch (err) {
      if (this.readyState !== CLOSED) this.retry(0, null, `no answer (${err.message})`);
      return;
    }
    if (this.readyState === CLOSED) {
      controller.abort();
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !/^text\/event-stream\b/i.test(type)) {
      await this.refused(response, type);
      return;
    }
    this.readyState = OPEN;
    this.failures = 0;
    this.dispatchEvent(new Event("open"));
    const ended = await this.read(response.body.getReader());
    if (this.readyState !== CLOSED) this.retry(0, this.serverError, ended);
  }

  // Reads the stream until it ends; resolves to why it ended.
  async read(reader) {
    const decoder = new TextDecoder();
    this.parser.reset();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "the server ended the stream";
        this.parser.push(decoder.decode(value, { stream: true }));
        if (this.readyState === CLOSED) return "closed";
      }
    } catch (err) {
      return `the connection broke (${err.message})`;
    } finally {
      reader.releaseLock();
    }
  }

  // An answer that is not an event stream: retried when the server may
  // answer otherwise later, else the end.
  async refused(response, type) {
    const text = await response.text().catch(() => "");
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    if (this.readyState === CLOSED) return;
    const status = response.status;
    const message = response.ok
      ? `the answer is ${type || "untyped"}, not an event stream`
      : `HTTP ${status} ${response.statusText}`.trim();
    if (status === 408 || status === 429 || status >= 500) {
      this.retry(status, body, message);
      return;
    }
    this.readyState = CLOSED;
    this.dispatchEvent(new EventStreamError(status, body, message, 0));
  }

  retry(status, body, message) {
    const delay = Math.min(this.retryBaseMs * 2 ** this.failures, MAX_RETRY_MS);
    this.failures += 1;
    this.readyState = CONNECTING;
    this.dispatchEvent(new EventStreamError(status, body, message, delay));
    if (this.readyState === CLOSED) return; // a listener closed it
    this.timer = setTimeout(() => this.connect(), delay);
  }

  deliver({ type, data, lastEventId }) {
    if (this.readyState === CLOSED) return; // closed by the previous event's listener
    if (type === "error") {
      try {
        this.serverError = JSON.parse(data);
      } catch {
        this.serverError = { message: data };
      }
      return;
    }
    this.dispatchEvent(new MessageEvent(type, { data, lastEventId, origin: new URL(this.url).origin }));
  }
}
