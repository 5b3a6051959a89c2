// The page of one actor (#/actor/PRK): its relationships with their
// index against each partner, its events per year, its latest events;
// kept up to date live.

import { errorBox, num, relationships, timeline } from "./api.js";
import { yearlyBars } from "./chart.js";
import { debounce, h, highlight, loading, replace, section } from "./dom.js";
import { formatOccurred, indexSentence, indexWindow, partnerOf, plural, score } from "./format.js";
import { subscribe } from "./live.js";
import { timelineTable } from "./timeline_table.js";

// Latest events listed under the chart.
const RECENT = 20;

function partnersTable(actor, summaries) {
  if (!summaries.length) return h("p", { class: "empty" }, `${actor} has no relationship with events.`);
  return h("div", { class: "table-wrap" }, h("table", { class: "cards", id: "partners" },
    h("caption", { class: "visually-hidden" }, `Relationships of ${actor}, most recent activity first`),
    h("thead", {}, h("tr", {}, ["Partner", "Events", "Index", "Last event"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, summaries.map((s) => {
      const partner = partnerOf(s.dyad, actor);
      const index = s.index || {};
      const mean = num(index.meanTenths);
      return h("tr", { "data-dyad": s.dyad },
        h("th", { scope: "row", "data-label": "Partner" },
          h("a", { href: `#/relationship/${s.dyad}` }, partner),
          h("br"), h("a", { href: `#/actor/${partner}`, class: "small" }, `${partner}'s page`)),
        h("td", { class: "num", "data-label": "Events" }, String(num(s.eventCount))),
        h("td", { "data-label": "Index", title: indexSentence(index) },
          index.endYear
            ? h("span", { class: "index-bar" },
              h("span", { class: "bar-track", "aria-hidden": "true" },
                h("span", { class: `bar ${mean >= 0 ? "up" : "down"}`, style: `width:${Math.abs(mean) / 2}%;${mean >= 0 ? "left:50%" : `left:${50 - Math.abs(mean) / 2}%`}` })),
              h("strong", {}, score(mean)),
              h("span", { class: "small" }, h("span", { class: "nowrap" }, indexWindow(index)), ", ",
                h("span", { class: "nowrap" }, plural(num(index.eventCount), "event"))))
            : h("span", { class: "muted" }, "none")),
        h("td", { "data-label": "Last event" }, s.lastEvent
          ? [h("span", { class: "date" }, formatOccurred(s.lastEvent.occurred)), " ", s.lastEvent.summary] : "none"));
    }))));
}

function yearCounts(entries) {
  const counts = new Map();
  for (const entry of entries) {
    const start = entry.event && entry.event.occurred && entry.event.occurred.start;
    if (!start || !start.year) continue;
    counts.set(start.year, (counts.get(start.year) || 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([year, count]) => ({ year, count }));
}

// Renders the page of `actorParam` into `main`; returns {close()}.
export function renderActor(main, actorParam) {
  const actor = actorParam.toUpperCase();
  let closed = false;
  let chart = null;
  let generation = 0;
  const fresh = new Set();
  const page = h("div", { id: "actor-page", "data-state": "loading", "data-actor": actor });
  const partners = h("div", {}, loading("the relationships"));
  const chartBox = h("div", {}, loading("the events"));
  const recent = h("div");
  const pageError = h("div");
  const panels = h("div", {},
    section("partners-panel", "Relationships and index against each partner", partners),
    section("years-panel", "Events per year", chartBox),
    section("recent-panel", "Latest events", recent));
  replace(page,
    h("h1", { tabindex: "-1" }, actor),
    h("p", { class: "lede" }, `The relationships of ${actor} and its events, `,
      h("a", { href: `#/?actor=${encodeURIComponent(actor)}` }, "or its rows in the overview"), "."),
    pageError, panels);
  replace(main, page);
  document.title = `${actor} \u2014 annals`;

  async function load() {
    const mine = ++generation;
    page.dataset.state = "loading";
    const [listResult, eventsResult] = await Promise.allSettled([
      relationships({ actor }),
      timeline({ actor }),
    ]);
    if (closed || mine !== generation) return;
    if (listResult.status === "rejected") {
      // The timeline fails for the same reason (an unknown actor): say it once.
      replace(pageError, errorBox(listResult.reason, `the relationships of ${actor}`));
      panels.hidden = true;
      page.dataset.state = "ready";
      return;
    }
    replace(pageError);
    panels.hidden = false;
    replace(partners, partnersTable(actor, listResult.value));
    for (const row of partners.querySelectorAll("tr[data-dyad]")) {
      if (fresh.has(row.dataset.dyad)) highlight(row);
    }
    if (chart) chart.destroy();
    chart = null;
    if (eventsResult.status === "rejected") {
      replace(chartBox, errorBox(eventsResult.reason, `the events of ${actor}`));
      replace(recent);
    } else {
      const entries = eventsResult.value.items;
      replace(chartBox);
      chart = yearlyBars(chartBox, "years-chart", yearCounts(entries), `Events of ${actor} per year (by the year each starts in)`);
      const latest = entries.slice(-RECENT).reverse();
      replace(recent,
        h("p", { class: "note" }, entries.length > RECENT ? `The ${RECENT} latest of ${plural(entries.length, "event")}.` : plural(entries.length, "event")),
        timelineTable(latest, { caption: `Latest events of ${actor}`, fresh }));
    }
    fresh.clear();
    page.dataset.state = "ready";
  }

  const refresh = debounce(load, 250);
  const stream = subscribe({ actor }, (recorded) => {
    const e = recorded.event || {};
    if (e.id) fresh.add(e.id);
    for (const s of e.source || []) for (const t of e.target || []) fresh.add([s, t].sort().join("-"));
    refresh();
  });
  load();

  return {
    close() {
      closed = true;
      refresh.cancel();
      stream.close();
      if (chart) chart.destroy();
    },
  };
}
