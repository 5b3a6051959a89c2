// Charts: the monthly cooperation-conflict series of a timeline (uPlot,
// vendor/uPlot/uPlot.iife.min.js, loaded as the global `uPlot`), counts per
// year, and the overview's sparklines (inline SVG). Every chart comes with
// a text alternative: a sentence describing it and its data as a table.
//
// The monthly series places an event in the month its occurred interval
// lies in; events known only to the year, or spanning months, are counted
// apart and left out, as the server's index does (query.proto).

import { h } from "./dom.js";
import { meanLabel, monthLabel, monthOf, plural } from "./format.js";

// Gathers timeline entries into months: {months: [{year, month, count,
// sum, mean}] sorted by month, unplaced: number of entries left out}.
// `mean` is in Goldstein points (-10 ... +10).
export function monthlySeries(entries) {
  const byMonth = new Map();
  let unplaced = 0;
  for (const entry of entries) {
    const month = monthOf(entry.event && entry.event.occurred);
    if (!month) {
      unplaced += 1;
      continue;
    }
    const key = month.year * 12 + (month.month - 1);
    const bucket = byMonth.get(key) || { ...month, key, count: 0, sum: 0 };
    bucket.count += 1;
    bucket.sum += entry.goldsteinTenths || 0;
    byMonth.set(key, bucket);
  }
  const months = [...byMonth.values()].sort((a, b) => a.key - b.key);
  for (const m of months) m.mean = m.sum / m.count / 10;
  return { months, unplaced };
}

function monthSeconds(key) {
  return Date.UTC(Math.floor(key / 12), key % 12, 1) / 1000;
}

// Every month from the first to the last of the series, with null where
// a month has no events: uPlot's aligned columns [x, mean, count].
function monthlyColumns(months) {
  const xs = [];
  const means = [];
  const counts = [];
  if (!months.length) return [xs, means, counts];
  const byKey = new Map(months.map((m) => [m.key, m]));
  for (let key = months[0].key; key <= months[months.length - 1].key; key += 1) {
    const m = byKey.get(key);
    xs.push(monthSeconds(key));
    means.push(m ? Number(m.mean.toFixed(2)) : null);
    counts.push(m ? m.count : null);
  }
  return [xs, means, counts];
}

// A uPlot chart inside `holder`, sized to it and resized with it.
function plot(holder, options, data) {
  const width = Math.max(holder.clientWidth, 280);
  const chart = new uPlot({ ...options, width, height: options.height || 260 }, data, holder);
  const observer = new ResizeObserver(() => {
    const w = Math.max(holder.clientWidth, 280);
    if (Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height: chart.height });
  });
  observer.observe(holder);
  return {
    chart,
    destroy() {
      observer.disconnect();
      chart.destroy();
    },
  };
}

// Axis steps for counts: whole numbers only.
const COUNT_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

// A figure: the chart (an image to assistive technology, described by the
// caption), the caption, and the data as a table behind a toggle.
function figure(id, caption, table, points) {
  const captionId = `${id}-caption`;
  const canvas = h("div", { class: "chart-canvas", role: "img", "aria-labelledby": captionId });
  const fig = h("figure", { class: "chart", id, "data-points": String(points) },
    canvas,
    h("figcaption", { id: captionId }, caption),
    h("details", { class: "chart-data" },
      h("summary", {}, "Show the chart's data as a table"), table));
  return { fig, canvas };
}

// The monthly mean Goldstein score as a line (left axis) and the number of
// events per month as bars (right axis), from monthlySeries(). Appends the
// figure to `container` (its caption counts the events left out) and
// returns {destroy()}.
export function monthlyChart(container, id, series, title) {
  const { months, unplaced } = series;
  const [xs, means, counts] = monthlyColumns(months);
  const points = means.filter((v) => v !== null).length;

  let caption;
  if (!months.length) {
    caption = `${title}: no event is dated to a single month, so there is nothing to chart.`;
  } else {
    const lo = Math.min(...months.map((m) => m.mean));
    const hi = Math.max(...months.map((m) => m.mean));
    const first = months[0];
    const last = months[months.length - 1];
    caption = `${title}: monthly mean Goldstein score (line, left axis, \u221210 conflict to +10 ` +
      `cooperation) and events per month (bars, right axis), ${monthLabel(first.year, first.month)} ` +
      `to ${monthLabel(last.year, last.month)}: ${plural(points, "month")} with events, means from ` +
      `${meanLabel(lo)} to ${meanLabel(hi)}, latest ${meanLabel(last.mean)}.`;
  }
  if (unplaced) {
    caption += ` ${plural(unplaced, "event")} dated only to a year or spanning months ` +
      `${unplaced === 1 ? "is" : "are"} left out of the chart.`;
  }

  const table = h("table", { class: "data-table" },
    h("caption", {}, title),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Month"),
      h("th", { scope: "col" }, "Mean score"),
      h("th", { scope: "col" }, "Events"))),
    h("tbody", {}, months.map((m) => h("tr", {},
      h("th", { scope: "row" }, monthLabel(m.year, m.month)),
      h("td", { class: "num" }, meanLabel(m.mean, 2)),
      h("td", { class: "num" }, String(m.count))))));

  const { fig, canvas } = figure(id, caption, table, points);
  container.append(fig);
  if (!months.length) {
    canvas.remove();
    return { destroy() {} };
  }
  return plot(canvas, {
    tzDate: utc,
    scales: {
      x: { time: true },
      y: { range: [-10, 10] },
      n: { range: (u, min, max) => [0, Math.max(2, max + 1)] },
    },
    axes: [
      { stroke: "#1f2933", grid: { stroke: "#e4e7eb" } },
      { scale: "y", label: "mean score", stroke: "#1f2933", grid: { stroke: "#e4e7eb" } },
      { scale: "n", side: 1, label: "events", stroke: "#52606d", grid: { show: false }, incrs: COUNT_INCREMENTS },
    ],
    series: [
      { label: "month", value: (u, v) => (v === null ? "" : monthLabel(utc(v).getFullYear(), utc(v).getMonth() + 1)) },
      {
        label: "events", scale: "n", stroke: "#7b8794", fill: "rgba(123,135,148,0.35)", width: 1,
        paths: uPlot.paths.bars({ size: [0.8, 12] }), points: { show: false },
      },
      {
        label: "mean score", scale: "y", stroke: "#1d4ed8", width: 2, spanGaps: true,
        points: { show: true, size: 6, fill: "#1d4ed8" },
        value: (u, v) => (v === null ? "" : meanLabel(v, 2)),
      },
    ],
  }, [xs, counts, means]);
}

// Bars of counts per year ([{year, count}], sorted), e.g. an actor's
// events. Appends the figure to `container`; returns {destroy()}.
export function yearlyBars(container, id, years, title) {
  const points = years.length;
  const total = years.reduce((s, y) => s + y.count, 0);
  const caption = points
    ? `${title}: ${plural(total, "event")} from ${years[0].year} to ${years[points - 1].year}, ` +
      `at most ${Math.max(...years.map((y) => y.count))} in one year.`
    : `${title}: no events.`;
  const table = h("table", { class: "data-table" },
    h("caption", {}, title),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Year"), h("th", { scope: "col" }, "Events"))),
    h("tbody", {}, years.map((y) => h("tr", {},
      h("th", { scope: "row" }, String(y.year)), h("td", { class: "num" }, String(y.count))))));
  const { fig, canvas } = figure(id, caption, table, points);
  container.append(fig);
  if (!points) {
    canvas.remove();
    return { destroy() {} };
  }
  const xs = [];
  const counts = [];
  for (let year = years[0].year; year <= years[points - 1].year; year += 1) {
    const y = years.find((item) => item.year === year);
    xs.push(year);
    counts.push(y ? y.count : null);
  }
  return plot(canvas, {
    height: 220,
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (u, min, max) => [0, Math.max(2, max + 1)] } },
    axes: [
      { stroke: "#1f2933", grid: { show: false }, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
      { label: "events", stroke: "#1f2933", grid: { stroke: "#e4e7eb" }, incrs: COUNT_INCREMENTS },
    ],
    series: [
      { label: "year" },
      {
        label: "events", stroke: "#1d4ed8", fill: "rgba(29,78,216,0.35)", width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false },
      },
    ],
  }, [xs, counts]);
}

// A small line of monthly means over the months from `fromKey` to `toKey`
// (year * 12 + month - 1), as inline SVG with a text alternative.
export function sparkline(months, fromKey, toKey) {
  const width = 120;
  const height = 28;
  const span = Math.max(toKey - fromKey, 1);
  const inWindow = months.filter((m) => m.key >= fromKey && m.key <= toKey);
  const x = (key) => ((key - fromKey) / span) * (width - 4) + 2;
  const y = (mean) => ((10 - mean) / 20) * (height - 4) + 2;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  const from = monthLabel(Math.floor(fromKey / 12), (fromKey % 12) + 1);
  const to = monthLabel(Math.floor(toKey / 12), (toKey % 12) + 1);
  const label = inWindow.length
    ? `Monthly mean score ${from} to ${to}: ${plural(inWindow.length, "month")} with events, ` +
      `first ${meanLabel(inWindow[0].mean)}, latest ${meanLabel(inWindow[inWindow.length - 1].mean)}`
    : `No events dated to a month between ${from} and ${to}`;
  svg.setAttribute("aria-label", label);
  svg.dataset.points = String(inWindow.length);
  const title = document.createElementNS(ns, "title");
  title.textContent = label;
  svg.append(title);
  const zero = document.createElementNS(ns, "line");
  zero.setAttribute("x1", "0");
  zero.setAttribute("x2", String(width));
  zero.setAttribute("y1", String(y(0)));
  zero.setAttribute("y2", String(y(0)));
  zero.setAttribute("class", "zero");
  svg.append(zero);
  if (inWindow.length > 1) {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", inWindow.map((m) => `${x(m.key).toFixed(1)},${y(m.mean).toFixed(1)}`).join(" "));
    line.setAttribute("class", "trend");
    svg.append(line);
  }
  for (const m of inWindow) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x(m.key).toFixed(1));
    dot.setAttribute("cy", y(m.mean).toFixed(1));
    dot.setAttribute("r", "1.8");
    dot.setAttribute("class", m.mean >= 0 ? "dot up" : "dot down");
    svg.append(dot);
  }
  return svg;
}
