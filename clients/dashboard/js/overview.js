// The overview (#/): every relationship with its counts, first and last
// events, current index and trend, and last meeting; sortable by every
// column, filtered by actor and by free text, kept up to date live.
//
// The hash carries the view: #/?actor=PRK&q=summit&sort=index&dir=desc.

import { errorBox, num, relationships, timeline } from "./api.js";
import { monthlySeries, sparkline } from "./chart.js";
import { debounce, h, highlight, loading, replace } from "./dom.js";
import {
  compareOccurred, enumLabel, formatOccurred, indexSentence, indexWindow, meanLabel,
  monthLabel, plural, score,
} from "./format.js";
import { subscribe } from "./live.js";

// The trend covers the ten years ending with the dyad's latest month.
const TREND_MONTHS = 120;
// Timelines fetched at once for the sparklines.
const TREND_CONCURRENCY = 3;

// Trend series by dyad, kept while the dyad's last event and count stay
// the same: {stamp, months, fromKey, toKey} or a pending promise.
const trendCache = new Map();

function stampOf(summary) {
  return `${summary.eventCount}|${summary.lastEvent ? summary.lastEvent.eventId : ""}`;
}

function latestKey(summary) {
  const index = summary.index || {};
  if (index.endYear) return index.endYear * 12 + ((index.endMonth || 12) - 1);
  const last = summary.lastEvent && summary.lastEvent.occurred;
  if (last && last.start) return last.start.year * 12 + ((last.start.month || 12) - 1);
  return null;
}

// The monthly series of the dyad's last ten years, fetched once.
function loadTrend(summary) {
  const cached = trendCache.get(summary.dyad);
  if (cached && cached.stamp === stampOf(summary)) return cached.promise;
  const toKey = latestKey(summary);
  const stamp = stampOf(summary);
  const promise = (async () => {
    if (toKey === null) return { months: [], fromKey: 0, toKey: 0 };
    const fromKey = toKey - TREND_MONTHS + 1;
    const { items } = await timeline({
      dyad: summary.dyad,
      from: monthLabel(Math.floor(fromKey / 12), (fromKey % 12) + 1),
    });
    const { months } = monthlySeries(items);
    const trend = { months, fromKey, toKey };
    const inWindow = months.filter((m) => m.key >= fromKey && m.key <= toKey);
    trend.change = inWindow.length > 1 ? inWindow[inWindow.length - 1].mean - inWindow[0].mean : null;
    return trend;
  })();
  trendCache.set(summary.dyad, { stamp, promise });
  promise.catch(() => trendCache.delete(summary.dyad));
  return promise;
}

// Runs at most `limit` of the queued jobs at once.
function queue(limit) {
  const waiting = [];
  let running = 0;
  const next = () => {
    while (running < limit && waiting.length) {
      const job = waiting.shift();
      running += 1;
      job().finally(() => {
        running -= 1;
        next();
      });
    }
  };
  return (job) => {
    waiting.push(job);
    next();
  };
}

const COLUMNS = [
  { key: "dyad", label: "Dyad", value: (s) => s.dyad, text: true },
  { key: "events", label: "Events", value: (s) => num(s.eventCount), num: true },
  { key: "first", label: "First event", value: (s) => s.firstEvent, occurred: true },
  { key: "last", label: "Last event", value: (s) => s.lastEvent, occurred: true },
  { key: "index", label: "Index", value: (s) => (s.index && s.index.endYear ? num(s.index.meanTenths) : null), num: true },
  { key: "trend", label: "Trend", value: (s, trends) => (trends.get(s.dyad) || {}).change ?? null, num: true },
  { key: "meeting", label: "Last meeting", value: (s) => (s.lastMeeting ? s.lastMeeting.event : null), occurred: true },
];

function compareBy(column, trends) {
  return (a, b) => {
    const va = column.value(a, trends);
    const vb = column.value(b, trends);
    // Rows without a value go last whatever the direction: see sortRows.
    if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
    if (vb === null || vb === undefined) return -1;
    if (column.text) return va.localeCompare(vb);
    if (column.occurred) return compareOccurred(va.occurred, vb.occurred) || va.eventId.localeCompare(vb.eventId);
    return va - vb;
  };
}

function sortRows(rows, column, dir, trends) {
  const cmp = compareBy(column, trends);
  const has = (s) => {
    const v = column.value(s, trends);
    return v !== null && v !== undefined;
  };
  const withValue = rows.filter(has).sort(cmp);
  if (dir === "desc") withValue.reverse();
  return withValue.concat(rows.filter((s) => !has(s)).sort((a, b) => a.dyad.localeCompare(b.dyad)));
}

function eventCell(ref) {
  if (!ref) return h("span", { class: "muted" }, "none");
  return [h("span", { class: "date" }, formatOccurred(ref.occurred)), " ",
    h("span", { class: "summary" }, ref.summary)];
}

function meetingCell(meeting) {
  if (!meeting) return h("span", { class: "muted" }, "none");
  const what = [enumLabel(meeting.type), enumLabel(meeting.level) && `(${enumLabel(meeting.level)})`]
    .filter(Boolean).join(" ");
  return [h("span", { class: "date" }, formatOccurred(meeting.event.occurred)), " ",
    meeting.place ? `${meeting.place}: ` : "", what];
}

function matchesText(summary, text) {
  if (!text) return true;
  const hay = [
    summary.dyad,
    summary.firstEvent && summary.firstEvent.summary,
    summary.lastEvent && summary.lastEvent.summary,
    summary.lastMeeting && summary.lastMeeting.place,
    summary.lastMeeting && (summary.lastMeeting.participants || []).join(" "),
    summary.lastMeeting && summary.lastMeeting.event.summary,
  ].filter(Boolean).join(" ").toLowerCase();
  return text.toLowerCase().split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}

// Renders the overview into `main`; returns a function that tears it down.
export function renderOverview(main, params) {
  const view = {
    actor: params.get("actor") || "",
    q: params.get("q") || "",
    sort: COLUMNS.some((c) => c.key === params.get("sort")) ? params.get("sort") : "last",
    dir: params.get("dir") === "asc" ? "asc" : "desc",
  };
  let summaries = [];
  const rows = new Map(); // dyad -> <tr>
  const trends = new Map(); // dyad -> trend, once loaded
  const enqueue = queue(TREND_CONCURRENCY);
  const observer = new IntersectionObserver(onVisible, { rootMargin: "200px" });
  let closed = false;

  const heading = h("h1", { tabindex: "-1" }, "Relationships");
  const status = h("p", { class: "lede", role: "status" });
  const actorSelect = h("select", { id: "overview-actor", name: "actor" });
  const search = h("input", {
    id: "overview-search", name: "q", type: "search", value: view.q,
    placeholder: "dyad, summary, place…", autocomplete: "off",
  });
  const controls = h("form", { class: "controls", role: "search", "aria-label": "Filter relationships", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "field" }, h("label", { for: "overview-actor" }, "Actor"), actorSelect),
    h("div", { class: "field grow" }, h("label", { for: "overview-search" }, "Search"), search));
  const headRow = h("tr");
  const tbody = h("tbody");
  const table = h("table", { class: "cards overview-table", id: "relationships" },
    h("caption", { class: "visually-hidden" }, "Relationships; the column headers sort the table"),
    h("thead", {}, headRow), tbody);
  const body = h("div", {}, loading("the relationships"));
  replace(main, heading, status, controls, body);

  actorSelect.addEventListener("change", () => {
    view.actor = actorSelect.value;
    updateHash();
    draw();
  });
  search.addEventListener("input", debounce(() => {
    view.q = search.value.trim();
    updateHash();
    draw();
  }, 200));

  function updateHash() {
    const q = new URLSearchParams();
    if (view.actor) q.set("actor", view.actor);
    if (view.q) q.set("q", view.q);
    if (view.sort !== "last") q.set("sort", view.sort);
    if (view.dir !== "desc") q.set("dir", view.dir);
    const s = q.toString();
    history.replaceState(null, "", s ? `#/?${s}` : "#/");
  }

  function drawHeader() {
    replace(headRow, COLUMNS.map((column) => {
      const active = column.key === view.sort;
      const sortState = active ? (view.dir === "asc" ? "ascending" : "descending") : null;
      const arrow = active ? (view.dir === "asc" ? "\u25B2" : "\u25BC") : "\u21C5";
      return h("th", { scope: "col", "aria-sort": sortState },
        h("button", {
          type: "button", class: "sort", "data-sort": column.key,
          onclick: () => sortBy(column.key),
        }, column.label, h("span", { class: "arrow", "aria-hidden": "true" }, ` ${arrow}`)));
    }));
  }

  async function sortBy(key) {
    if (view.sort === key) {
      view.dir = view.dir === "asc" ? "desc" : "asc";
    } else {
      view.sort = key;
      view.dir = key === "dyad" ? "asc" : "desc";
    }
    updateHash();
    draw();
    headRow.querySelector(`[data-sort="${key}"]`).focus();
    if (key === "trend") {
      // Sorting by trend needs every trend: load the rest, then sort again.
      await Promise.allSettled(summaries.map((s) => loadTrend(s).then((t) => trends.set(s.dyad, t))));
      if (!closed && view.sort === "trend") {
        draw();
        headRow.querySelector('[data-sort="trend"]').focus();
      }
    }
  }

  function buildRow(s) {
    const trendCell = h("td", { class: "trend", "data-label": "Trend" }, h("span", { class: "muted" }, h("span", { "aria-hidden": "true" }, "…"), h("span", { class: "visually-hidden" }, "loading")));
    const row = h("tr", { "data-dyad": s.dyad },
      h("th", { scope: "row", "data-label": "Dyad", class: "nowrap" }, h("a", { href: `#/relationship/${s.dyad}` }, s.dyad.replace("-", "\u2013"))),
      h("td", { class: "num", "data-label": "Events" }, String(num(s.eventCount))),
      h("td", { "data-label": "First event" }, eventCell(s.firstEvent)),
      h("td", { "data-label": "Last event" }, eventCell(s.lastEvent)),
      h("td", { class: "index", "data-label": "Index", title: indexSentence(s.index) },
        s.index && s.index.endYear
          ? [h("strong", {}, score(s.index.meanTenths)), h("br"),
            h("span", { class: "small" }, h("span", { class: "nowrap" }, indexWindow(s.index)), ", ",
              h("span", { class: "nowrap" }, plural(num(s.index.eventCount), "event")))]
          : h("span", { class: "muted" }, "none")),
      trendCell,
      h("td", { "data-label": "Last meeting" }, meetingCell(s.lastMeeting)));
    row.summary = s;
    row.trendCell = trendCell;
    observer.observe(trendCell);
    return row;
  }

  function onVisible(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const row = entry.target.closest("tr");
      enqueue(() => fillTrend(row));
    }
  }

  async function fillTrend(row) {
    const s = row.summary;
    try {
      const trend = await loadTrend(s);
      trends.set(s.dyad, trend);
      if (closed || rows.get(s.dyad) !== row) return;
      const change = trend.change;
      replace(row.trendCell, sparkline(trend.months, trend.fromKey, trend.toKey),
        change === null || change === undefined ? null
          : h("span", { class: `small change ${change > 0 ? "up" : change < 0 ? "down" : ""}`, title: "change of the monthly mean, first to latest month shown" },
            h("span", { class: "visually-hidden" }, "change "), ` ${meanLabel(change)}`));
    } catch (err) {
      if (!closed) replace(row.trendCell, h("span", { class: "error-inline" }, "unavailable"));
    }
  }

  function drawActors() {
    const actors = new Set();
    for (const s of summaries) for (const a of s.dyad.split("-")) actors.add(a);
    if (view.actor) actors.add(view.actor);
    replace(actorSelect, h("option", { value: "" }, "All actors"),
      [...actors].sort().map((a) => h("option", { value: a, selected: a === view.actor }, a)));
  }

  function draw() {
    drawHeader();
    const column = COLUMNS.find((c) => c.key === view.sort);
    const shown = sortRows(summaries.filter((s) =>
      (!view.actor || s.dyad.split("-").includes(view.actor)) && matchesText(s, view.q)), column, view.dir, trends);
    replace(tbody, shown.map((s) => rows.get(s.dyad)));
    const what = shown.length === summaries.length
      ? plural(summaries.length, "relationship")
      : `${shown.length} of ${plural(summaries.length, "relationship")}`;
    status.textContent = `${what}, sorted by ${column.label.toLowerCase()}, ${view.dir === "asc" ? "ascending" : "descending"}.`;
    if (!shown.length && summaries.length) {
      tbody.append(h("tr", {}, h("td", { colspan: String(COLUMNS.length) }, "No relationship matches the filter.")));
    }
  }

  async function load(isUpdate) {
    let fresh;
    try {
      fresh = await relationships();
    } catch (err) {
      if (!closed) replace(body, errorBox(err, "the relationships"));
      return;
    }
    if (closed) return;
    const before = new Map(summaries.map((s) => [s.dyad, JSON.stringify(s)]));
    summaries = fresh;
    const changed = [];
    for (const s of summaries) {
      if (before.get(s.dyad) !== JSON.stringify(s) || !rows.has(s.dyad)) {
        const old = rows.get(s.dyad);
        if (old) observer.unobserve(old.trendCell);
        rows.set(s.dyad, buildRow(s));
        trends.delete(s.dyad);
        if (isUpdate) changed.push(s.dyad);
      }
    }
    if (!isUpdate) {
      replace(body, h("div", { class: "table-wrap" }, table),
        h("p", { class: "note" }, "Index: the mean Goldstein score (\u221210 conflict \u2026 +10 cooperation) of the ",
          "twelve months ending with the dyad's latest month. Trend: the monthly mean over the ten years up to ",
          "that month, and its change from the first to the latest month with events."));
    }
    drawActors();
    draw();
    for (const dyad of changed) highlight(rows.get(dyad));
  }

  const refresh = debounce(() => load(true), 250);
  const stream = subscribe({}, () => refresh());
  load(false);

  return () => {
    closed = true;
    refresh.cancel();
    stream.close();
    observer.disconnect();
  };
}
