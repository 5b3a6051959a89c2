// How the dashboard writes what the server says: dates and intervals,
// enum names, Goldstein scores, index windows. The date rules are those of
// proto/annals/v1/query.proto: a date names every day it covers, an
// interval runs from its start's first day to its end's last day.

import { num } from "./api.js";

// The kinds of event, as the names of Event.what (and EventRef.kind).
export const KINDS = [
  "meeting", "agreement", "resolution", "statement", "sanction",
  "military", "humanitarian", "policy_change",
];

// The JSON names of those fields (camelCase) by kind name.
const KIND_FIELDS = {
  meeting: "meeting", agreement: "agreement", resolution: "resolution",
  statement: "statement", sanction: "sanction", military: "military",
  humanitarian: "humanitarian", policy_change: "policyChange",
  correction: "correction",
};

// The kind of an Event in JSON: the name of the `what` field it has set.
export function kindOf(event) {
  for (const [kind, field] of Object.entries(KIND_FIELDS)) {
    if (event && event[field]) return kind;
  }
  return "";
}

// The `what` part of an Event in JSON ({} when none).
export function whatOf(event) {
  const kind = kindOf(event);
  return kind ? event[KIND_FIELDS[kind]] : {};
}

export function kindLabel(kind) {
  return kind.replace(/_/g, " ");
}

// "TYPE_SUMMIT" -> "summit", "ACTION_DECLINED_TO_TABLE" -> "declined to
// table". Missing (the default) -> "".
export function enumLabel(value) {
  if (!value || /_UNSPECIFIED$/.test(value)) return "";
  return value.replace(/^[A-Z]+_/, "").toLowerCase().replace(/_/g, " ");
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

// A Date message -> "2019", "2019-03" or "2019-03-13".
export function formatDate(d) {
  if (!d || !d.year) return "";
  let s = pad(d.year, 4);
  if (d.month) s += `-${pad(d.month)}`;
  if (d.month && d.day) s += `-${pad(d.day)}`;
  return s;
}

// An Occurred message -> "2002-09", "2014-05-26..2014-05-28".
export function formatOccurred(occurred) {
  if (!occurred) return "";
  const start = formatDate(occurred.start);
  const end = formatDate(occurred.end);
  return end && end !== start ? `${start}..${end}` : start;
}

function daysIn(year, month) {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// yyyymmdd of a Date's first day.
export function firstDay(d) {
  return d.year * 10000 + (d.month || 1) * 100 + (d.month && d.day ? d.day : 1);
}

// yyyymmdd of a Date's last day.
export function lastDay(d) {
  const month = d.month || 12;
  const day = d.month && d.day ? d.day : daysIn(d.year, month);
  return d.year * 10000 + month * 100 + day;
}

// The occurred order of query.proto: first day, then last day.
export function occurredKey(occurred) {
  if (!occurred || !occurred.start) return [0, 0];
  const start = occurred.start;
  const end = occurred.end && occurred.end.year ? occurred.end : start;
  return [firstDay(start), lastDay(end)];
}

export function compareOccurred(a, b) {
  const ka = occurredKey(a);
  const kb = occurredKey(b);
  return ka[0] - kb[0] || ka[1] - kb[1];
}

// The month an occurred interval lies in, {year, month}; null when it is
// known only to the year or spans months (as the server's index places
// events: services/model/projection.h).
export function monthOf(occurred) {
  if (!occurred || !occurred.start || !occurred.start.month) return null;
  const start = occurred.start;
  const end = occurred.end && occurred.end.year ? occurred.end : start;
  if (!end.month || end.year !== start.year || end.month !== start.month) return null;
  return { year: start.year, month: start.month };
}

// Parses "YYYY", "YYYY-MM" or "YYYY-MM-DD" into a Date message; null when
// it is not of that form (the server checks the rest).
export function parseDate(text) {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec((text || "").trim());
  if (!m) return null;
  const d = { year: Number(m[1]) };
  if (m[2]) d.month = Number(m[2]);
  if (m[3]) d.day = Number(m[3]);
  return d;
}

// Of two date strings, the one whose last day comes first; either may be
// empty.
export function earlierEnd(a, b) {
  const da = parseDate(a);
  const db = parseDate(b);
  if (!da) return b || a;
  if (!db) return a;
  return lastDay(db) < lastDay(da) ? b : a;
}

// Goldstein tenths -> "+0.7", "-2.0", "0.0" (with a real minus sign).
export function score(tenths) {
  const v = num(tenths) / 10;
  const s = Math.abs(v).toFixed(1);
  if (v > 0) return `+${s}`;
  if (v < 0) return `\u2212${s}`;
  return s;
}

// A mean that need not be whole tenths -> "+0.73".
export function meanLabel(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "";
  const s = Math.abs(value).toFixed(digits);
  if (value > 0) return `+${s}`;
  if (value < 0) return `\u2212${s}`;
  return s;
}

// "2019-04" from year and month.
export function monthLabel(year, month) {
  return `${pad(year, 4)}-${pad(month)}`;
}

// The twelve-month window a GoldsteinIndex ends with: "2018-05..2019-04";
// "" when there is none.
export function indexWindow(index) {
  if (!index || !index.endYear) return "";
  const endYear = index.endYear;
  const endMonth = index.endMonth || 12;
  let startYear = endYear;
  let startMonth = endMonth - 11;
  if (startMonth < 1) {
    startMonth += 12;
    startYear -= 1;
  }
  return `${monthLabel(startYear, startMonth)}..${monthLabel(endYear, endMonth)}`;
}

// "+0.7 over 2018-05..2019-04 (9 events; 2 not dated to one month, left
// out)", as `annals relationship` says it.
export function indexSentence(index) {
  if (!index || !index.endYear) return "no index (no events)";
  const n = num(index.eventCount);
  let s = `${score(index.meanTenths)} over ${indexWindow(index)} (${plural(n, "event")}`;
  const unplaced = num(index.unplacedCount);
  if (unplaced) s += `; ${plural(unplaced, "event")} of its years not dated to one month, left out`;
  return `${s})`;
}

export function plural(n, word, words = `${word}s`) {
  return `${n} ${n === 1 ? word : words}`;
}

// The other actor of a dyad "A-B", seen from `actor`.
export function partnerOf(dyad, actor) {
  const [a, b] = dyad.split("-");
  return a === actor ? b : a;
}
