// A timeline (TimelineEntry list, canonical JSON) as a table: date, kind,
// what happened with its details, Goldstein score and log position.
// Long timelines are drawn a thousand rows at a time.

import { num } from "./api.js";
import { h } from "./dom.js";
import { enumLabel, formatDate, formatOccurred, kindLabel, kindOf, score, whatOf } from "./format.js";

const ROWS_PER_STEP = 1000;

function sourceItem(source) {
  const published = formatDate(source.published);
  const title = source.url
    ? h("a", { href: source.url, rel: "noopener noreferrer external" }, source.title)
    : source.title;
  return h("li", {}, `${source.publisher}, \u201c`, title, `\u201d${published ? ` (${published})` : ""}`);
}

// The details of the `what` field: participants, place, votes, measures…
function whatFacts(event) {
  const what = whatOf(event);
  const facts = [];
  for (const [k, v] of Object.entries(what)) {
    if (k === "amended") continue;
    let text;
    if (Array.isArray(v)) text = v.join("; ");
    else if (v && typeof v === "object") text = Object.entries(v).map(([a, b]) => `${a} ${b}`).join(", ");
    else text = /^[A-Z]+_[A-Z_]+$/.test(String(v)) ? enumLabel(v) : String(v);
    if (text) facts.push(h("dt", {}, k.replace(/([A-Z])/g, " $1").toLowerCase()), h("dd", {}, text));
  }
  return facts;
}

function details(entry, options) {
  const e = entry.event;
  const amended = num(entry.amendedAt);
  return h("details", { class: "event-details" },
    h("summary", {}, "Details"),
    h("dl", { class: "facts" },
      h("dt", {}, "id"), h("dd", {}, h("code", {}, e.id)),
      h("dt", {}, "actors"), h("dd", {}, `${(e.source || []).join(", ")}${e.target && e.target.length ? ` \u2192 ${e.target.join(", ")}` : ""}`),
      whatFacts(e),
      e.cameoCode ? [h("dt", {}, "CAMEO"), h("dd", {}, e.cameoCode)] : null,
      h("dt", {}, "stream"), h("dd", {}, entry.stream || ""),
      amended ? [h("dt", {}, "amended"), h("dd", {},
        `by the correction at position ${amended}` +
        (options.asOfPosition !== null && amended > options.asOfPosition ? " (recorded after the chosen position, shown applied)" : ""))] : null),
    e.sources && e.sources.length ? [h("p", { class: "small" }, "Sources:"), h("ul", { class: "sources" }, e.sources.map(sourceItem))] : null);
}

function row(entry, options) {
  const e = entry.event;
  const kind = kindOf(e);
  const tenths = entry.goldsteinTenths || 0;
  const tr = h("tr", {
    "data-event-id": e.id, "data-position": String(num(entry.position)),
    "data-date": formatOccurred(e.occurred),
  },
  h("td", { class: "date", "data-label": "Date" }, formatOccurred(e.occurred)),
  h("td", { "data-label": "Kind" }, h("span", { class: `kind kind-${kind}` }, kindLabel(kind))),
  h("td", { "data-label": "Event" },
    h("p", { class: "summary" }, e.summary),
    e.tags && e.tags.length ? h("p", { class: "tags" }, e.tags.map((t) => h("span", { class: "tag" }, t))) : null,
    details(entry, options)),
  h("td", { class: `num score ${tenths > 0 ? "up" : tenths < 0 ? "down" : ""}`, "data-label": "Score" }, score(tenths)),
  h("td", { class: "num", "data-label": "Position" }, String(num(entry.position))));
  if (options.fresh && options.fresh.has(e.id)) tr.classList.add("fresh");
  return tr;
}

// A table of `entries`; options: {caption, asOfPosition (number or null),
// fresh (Set of event ids to highlight)}. Returns the wrapping element.
export function timelineTable(entries, options = {}) {
  const opts = { asOfPosition: null, ...options };
  const tbody = h("tbody");
  const wrap = h("div", { class: "table-wrap" });
  const table = h("table", { class: "cards timeline-table" },
    h("caption", { class: "visually-hidden" }, opts.caption || "Timeline"),
    h("thead", {}, h("tr", {}, ["Date", "Kind", "Event", "Score", "Position"]
      .map((t) => h("th", { scope: "col" }, t)))),
    tbody);
  wrap.append(table);
  let shown = 0;
  const more = h("button", { type: "button", class: "more" });
  const step = () => {
    const next = entries.slice(shown, shown + ROWS_PER_STEP);
    tbody.append(...next.map((entry) => row(entry, opts)));
    shown += next.length;
    if (shown < entries.length) {
      more.textContent = `Show ${Math.min(ROWS_PER_STEP, entries.length - shown)} more of ${entries.length - shown}`;
      if (!more.isConnected) wrap.append(more);
    } else {
      more.remove();
    }
  };
  more.addEventListener("click", step);
  step();
  for (const tr of tbody.querySelectorAll("tr.fresh")) {
    setTimeout(() => tr.classList.remove("fresh"), 6000);
  }
  return wrap;
}
