// The page of one relationship (#/relationship/JPN-PRK): its index over
// time, its state's panels and its timeline, now or at a point in time,
// kept up to date live.
//
// The hash carries the view, so that it can be linked:
//   asOfDate=2018-12      what had certainly happened by then (GetRelationship
//                         as_of_date; timeline and chart to= that date)
//   asOfPosition=40       what the log knew at position 40 (GetRelationship
//                         as_of_position; timeline and chart keep the
//                         entries recorded up to it, corrections recorded
//                         later shown applied)
//   kinds=meeting,statement  tag=abductions  from=2002  to=2019-06
//   text=summit  order=asc   the timeline's filters (QueryTimeline)

import { errorBox, get, num, timeline } from "./api.js";
import { monthlyChart, monthlySeries } from "./chart.js";
import { debounce, h, highlight, loading, replace, section } from "./dom.js";
import { earlierEnd, formatOccurred, KINDS, kindLabel, kindOf, plural } from "./format.js";
import { subscribe } from "./live.js";
import {
  agreementsPanel, meetingPanel, policiesPanel, resolutionsPanel, sanctionsPanel, statementsPanel,
  summaryPanel,
} from "./panels.js";
import { timelineTable } from "./timeline_table.js";

// Live events listed at the top of the page.
const FEED_LENGTH = 10;

function parseView(params) {
  const position = params.get("asOfPosition");
  return {
    asOfDate: params.get("asOfDate") || "",
    asOfPosition: position !== null && /^\d+$/.test(position) ? position : "",
    kinds: (params.get("kinds") || "").split(",").filter((k) => KINDS.includes(k)),
    tag: params.get("tag") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    text: params.get("text") || "",
    order: params.get("order") === "asc" ? "asc" : "desc",
  };
}

function hashFor(dyad, view) {
  const q = new URLSearchParams();
  if (view.asOfDate) q.set("asOfDate", view.asOfDate);
  if (view.asOfPosition) q.set("asOfPosition", view.asOfPosition);
  if (view.kinds.length) q.set("kinds", view.kinds.join(","));
  for (const key of ["tag", "from", "to", "text"]) if (view[key]) q.set(key, view[key]);
  if (view.order === "asc") q.set("order", "asc");
  const s = q.toString();
  return `#/relationship/${dyad}${s ? `?${s}` : ""}`;
}

function filtered(view) {
  return view.kinds.length || view.tag || view.from || view.to || view.text;
}

function field(id, label, input, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("span", { class: "hint", id: hintId }, hint) : null);
}

// Renders the page of `dyadParam` into `main`; returns {update(params),
// close()}.
export function renderRelationship(main, dyadParam, params) {
  let dyad = dyadParam.toUpperCase();
  let view = parseView(params);
  let generation = 0;
  let chart = null;
  let closed = false;
  const fresh = new Set(); // event ids recorded live, highlighted on the next load

  const page = h("div", { id: "relationship-page", "data-state": "loading", "data-dyad": dyad });
  const heading = h("h1", { tabindex: "-1" });
  const showHeading = () => {
    const [a, b] = dyad.split("-");
    replace(heading, b ? [h("a", { href: `#/actor/${a}` }, a), " \u2013 ", h("a", { href: `#/actor/${b}` }, b)] : dyad);
  };
  showHeading();

  // Point in time.
  const asOfDate = h("input", { id: "asof-date", name: "asOfDate", type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "YYYY-MM" });
  const asOfPosition = h("input", { id: "asof-position", name: "asOfPosition", type: "number", min: "0", step: "1", inputmode: "numeric" });
  const timeError = h("p", { class: "error-inline", role: "alert", hidden: true });
  const timeForm = h("form", { class: "controls", id: "asof-form", "aria-labelledby": "asof-legend" },
    h("fieldset", {},
      h("legend", { id: "asof-legend" }, "Point in time"),
      h("div", { class: "field-row" },
        field("asof-date", "As of date", asOfDate, "YYYY, YYYY-MM or YYYY-MM-DD"),
        h("span", { class: "or", "aria-hidden": "true" }, "or"),
        field("asof-position", "As the log knew it at position", asOfPosition, "0 \u2026 the log's head"),
        h("div", { class: "buttons" },
          h("button", { type: "submit", id: "asof-apply" }, "Show"),
          h("button", { type: "button", id: "asof-now", onclick: () => navigate({ ...view, asOfDate: "", asOfPosition: "" }) }, "Now"))),
      timeError));
  timeForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const date = asOfDate.value.trim();
    const position = asOfPosition.value.trim();
    if (date && position) {
      timeError.textContent = "Choose either a date or a log position, not both.";
      timeError.hidden = false;
      return;
    }
    if (position && !/^\d+$/.test(position)) {
      timeError.textContent = "A log position is a whole number, 0 or more.";
      timeError.hidden = false;
      return;
    }
    timeError.hidden = true;
    navigate({ ...view, asOfDate: date, asOfPosition: position });
  });
  const timeNote = h("p", { class: "note", id: "asof-note", role: "status" });

  // Live feed.
  const feedList = h("ul", { class: "feed" });
  const feed = h("section", { id: "live-feed", class: "panel live-feed", "aria-labelledby": "live-feed-heading", hidden: true },
    h("h2", { id: "live-feed-heading" }, "Just recorded"),
    h("div", { "aria-live": "polite" }, feedList));

  // State panels, the chart and the timeline: filled by load().
  const summary = h("div");
  const meeting = h("div");
  const chartBox = h("div");
  const resolutions = h("div");
  const agreements = h("div");
  const sanctions = h("div");
  const statements = h("div");
  const policies = h("div");
  const timelineBox = h("div");

  // Timeline filters.
  const kindBoxes = KINDS.map((k) => h("input", { type: "checkbox", id: `kind-${k}`, name: "kinds", value: k }));
  const tagSelect = h("select", { id: "tl-tag", name: "tag" });
  const fromInput = h("input", { id: "tl-from", name: "from", type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "YYYY" });
  const toInput = h("input", { id: "tl-to", name: "to", type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "YYYY-MM" });
  const textInput = h("input", { id: "tl-text", name: "text", type: "search", autocomplete: "off" });
  const orderSelect = h("select", { id: "tl-order", name: "order" },
    h("option", { value: "desc" }, "Newest first"), h("option", { value: "asc" }, "Oldest first"));
  const filterForm = h("form", { class: "controls", id: "timeline-filters", "aria-label": "Timeline filters" },
    h("fieldset", { class: "kinds" }, h("legend", {}, "Kinds"),
      KINDS.map((k, i) => h("label", { class: "check", for: `kind-${k}` }, kindBoxes[i], ` ${kindLabel(k)}`))),
    h("div", { class: "field-row" },
      field("tl-tag", "Tag", tagSelect),
      field("tl-from", "From", fromInput, "YYYY, YYYY-MM or YYYY-MM-DD"),
      field("tl-to", "To", toInput, "YYYY, YYYY-MM or YYYY-MM-DD"),
      field("tl-text", "Text in summary", textInput),
      field("tl-order", "Order", orderSelect),
      h("div", { class: "buttons" },
        h("button", { type: "submit" }, "Apply"),
        h("button", { type: "button", onclick: () => navigate({ ...view, kinds: [], tag: "", from: "", to: "", text: "" }) }, "Clear filters"))));
  filterForm.addEventListener("submit", (e) => {
    e.preventDefault();
    navigate({
      ...view,
      kinds: kindBoxes.filter((box) => box.checked).map((box) => box.value),
      tag: tagSelect.value,
      from: fromInput.value.trim(),
      to: toInput.value.trim(),
      text: textInput.value.trim(),
      order: orderSelect.value,
    });
  });

  const pageError = h("div");
  const panels = h("div", {},
    h("div", { class: "grid" },
      section("summary-panel", "Index and counts", summary),
      section("meeting-panel", "Last meeting", meeting)),
    section("chart-panel", "Cooperation and conflict by month", chartBox),
    section("resolutions-panel", "UN resolution record", resolutions),
    h("div", { class: "grid" },
      section("agreements-panel", "Agreements", agreements),
      section("sanctions-panel", "Sanctions in force", sanctions)),
    h("div", { class: "grid" },
      section("statements-panel", "Recent statements", statements),
      section("policies-panel", "Policy changes", policies)),
    section("timeline-panel", "Timeline", filterForm, timelineBox));
  replace(page, heading, timeForm, timeNote, feed, pageError, panels);
  replace(main, page);

  function navigate(next) {
    // The router calls update() for a change of this page's hash.
    location.hash = hashFor(dyad, next);
  }

  function showControls() {
    asOfDate.value = view.asOfDate;
    asOfPosition.value = view.asOfPosition;
    for (const box of kindBoxes) box.checked = view.kinds.includes(box.value);
    fromInput.value = view.from;
    toInput.value = view.to;
    textInput.value = view.text;
    orderSelect.value = view.order;
    page.dataset.asOfDate = view.asOfDate;
    page.dataset.asOfPosition = view.asOfPosition;
  }

  function showTags(tags) {
    const current = view.tag;
    const all = new Set(tags);
    if (current) all.add(current);
    replace(tagSelect, h("option", { value: "" }, "Any tag"),
      [...all].sort().map((t) => h("option", { value: t, selected: t === current }, t)));
  }

  function describeTime(response, corrected) {
    const head = num(response.head);
    if (view.asOfPosition) {
      return `As the log knew it at position ${view.asOfPosition}: the state, the chart and the ` +
        `timeline hold the events recorded up to that position. The state applies only the ` +
        `corrections recorded by then; the chart and the timeline show corrections recorded ` +
        `later applied${corrected ? ` (${plural(corrected, "event")} here)` : ""}.`;
    }
    if (view.asOfDate) {
      const uncertain = num(response.uncertainEventCount);
      return `As of ${view.asOfDate}: the events that had certainly happened by its last day, ` +
        `as the log knows them now (head position ${head}).` +
        (uncertain ? ` ${plural(uncertain, "more event")} might have happened by then (dated to ` +
          `periods that end later) and ${uncertain === 1 ? "is" : "are"} not counted.` : "");
    }
    return `Now: everything the log holds (head position ${head}).`;
  }

  // Draws the panels of a GetRelationship answer.
  function showState(response, current, corrected) {
    const state = response.state || {};
    if (state.dyad && state.dyad !== dyad) {
      // Another spelling of the dyad ("PRK-JPN"): show the canonical one.
      dyad = state.dyad;
      page.dataset.dyad = dyad;
      showHeading();
      history.replaceState(null, "", hashFor(dyad, current));
    }
    document.title = `${dyad.replace("-", "\u2013")} \u2014 annals`;
    replace(summary, summaryPanel(response));
    replace(meeting, meetingPanel(state));
    replace(resolutions, resolutionsPanel(state));
    replace(agreements, agreementsPanel(state));
    replace(sanctions, sanctionsPanel(state));
    replace(statements, statementsPanel(state));
    replace(policies, policiesPanel(state));
    showTags(state.tags || []);
    timeNote.textContent = describeTime(response, corrected);
  }

  // Fetches the state and both timelines for the current view and draws
  // every panel. Later calls win over earlier ones still in flight.
  async function load() {
    const mine = ++generation;
    const current = view;
    page.dataset.state = "loading";
    const position = current.asOfPosition ? Number(current.asOfPosition) : null;
    const keep = (entries) => (position === null ? entries : entries.filter((e) => num(e.position) <= position));

    const stateParams = current.asOfPosition ? { asOfPosition: current.asOfPosition }
      : current.asOfDate ? { asOfDate: current.asOfDate } : {};
    const statePromise = get(`relationships/${encodeURIComponent(dyad)}`, stateParams);
    const chartPromise = timeline({ dyad, to: current.asOfDate });
    const listPromise = filtered(current)
      ? timeline({
        dyad, kinds: current.kinds, tags: current.tag ? [current.tag] : [], from: current.from,
        to: earlierEnd(current.to, current.asOfDate), text: current.text,
        descending: current.order === "desc" ? "true" : "",
      })
      : null;
    const [stateResult, chartResult, listResult] = await Promise.allSettled([statePromise, chartPromise, listPromise]);
    if (closed || mine !== generation) return;

    if (stateResult.status === "rejected") {
      // Nothing of the view can be shown: say why, in place of the panels.
      replace(pageError, errorBox(stateResult.reason, `the relationship ${dyad}`));
      panels.hidden = true;
      timeNote.textContent = "";
      page.dataset.state = "ready";
      return;
    }
    replace(pageError);
    panels.hidden = false;
    const corrected = chartResult.status === "fulfilled" && position !== null
      ? keep(chartResult.value.items).filter((e) => num(e.amendedAt) > position).length : 0;
    showState(stateResult.value, current, corrected);

    if (chart) chart.destroy();
    chart = null;
    if (chartResult.status === "rejected") {
      replace(chartBox, errorBox(chartResult.reason, "the timeline for the chart"));
    } else {
      replace(chartBox);
      const series = monthlySeries(keep(chartResult.value.items));
      chart = monthlyChart(chartBox, "monthly-chart", series, `${dyad.replace("-", "\u2013")}, cooperation and conflict by month`);
    }

    let entries = null;
    let error = null;
    if (listResult.status === "rejected") error = listResult.reason;
    else if (listResult.value) entries = keep(listResult.value.items);
    else if (chartResult.status === "rejected") error = chartResult.reason;
    else {
      entries = keep(chartResult.value.items);
      if (current.order === "desc") entries = [...entries].reverse();
    }
    if (error) {
      replace(timelineBox, errorBox(error, "the timeline"));
    } else {
      replace(timelineBox,
        h("p", { class: "note", id: "timeline-count" }, `${plural(entries.length, "event")}${filtered(current) ? " match the filters" : ""}.`),
        timelineTable(entries, { caption: `Timeline of ${dyad}`, asOfPosition: position, fresh }));
      fresh.clear();
    }
    page.dataset.state = "ready";
    page.dataset.loads = String(num(page.dataset.loads) + 1);
  }

  function addToFeed(recorded) {
    const e = recorded.event || {};
    const item = h("li", { "data-event-id": e.id || "" },
      h("span", { class: "small" }, `position ${num(recorded.position)} \u00b7 `),
      h("span", { class: "date" }, formatOccurred(e.occurred)), " ",
      h("span", { class: `kind kind-${kindOf(e)}` }, kindLabel(kindOf(e))), " ",
      e.summary || "");
    feedList.prepend(item);
    while (feedList.children.length > FEED_LENGTH) feedList.lastChild.remove();
    feed.hidden = false;
    highlight(item);
  }

  const refresh = debounce(load, 200);
  let stream = null;
  function listen() {
    stream = subscribe({ dyad }, (recorded) => {
      const e = recorded.event || {};
      if (e.id) fresh.add(e.id);
      if (e.correction && e.correction.correctsEventId) fresh.add(e.correction.correctsEventId);
      addToFeed(recorded);
      refresh();
    });
  }

  showControls();
  replace(summary, loading("the relationship"));
  replace(chartBox, loading("the chart"));
  replace(timelineBox, loading("the timeline"));
  listen();
  load();

  return {
    update(nextParams) {
      view = parseView(nextParams);
      showControls();
      load();
    },
    close() {
      closed = true;
      refresh.cancel();
      if (stream) stream.close();
      if (chart) chart.destroy();
    },
  };
}
