// The panels of a relationship's state (RelationshipState in
// proto/annals/v1/relationship.proto): index and counts, last meeting, UN
// resolution record, agreements, sanctions, statements, policies. Each
// function takes the state (canonical JSON) and returns DOM nodes.

import { num } from "./api.js";
import { empty, h } from "./dom.js";
import { enumLabel, formatOccurred, indexSentence, kindLabel, plural, score } from "./format.js";

function dateOf(ref) {
  return ref && ref.occurred ? formatOccurred(ref.occurred) : "";
}

function actors(list) {
  return list && list.length ? list.join(", ") : "";
}

function eventLine(ref) {
  if (!ref) return null;
  return h("span", { class: "event-line" },
    h("span", { class: "date" }, dateOf(ref)), " ", ref.summary);
}

// Index, counts by kind, leaders' meetings and tags.
export function summaryPanel(response) {
  const state = response.state || {};
  const index = response.index || {};
  const counts = state.counts || [];
  const parts = [
    h("p", { class: "index-figure" },
      h("span", { class: "big", "data-index": String(num(index.meanTenths)) },
        index.endYear ? score(index.meanTenths) : "\u2014"),
      h("span", {}, " cooperation\u2013conflict index (mean Goldstein score, \u221210 \u2026 +10)")),
    h("p", {}, indexSentence(index)),
    h("dl", { class: "facts" },
      h("dt", {}, "Events"), h("dd", { "data-count": String(num(state.eventCount)) }, String(num(state.eventCount)),
        counts.length ? h("span", { class: "small" }, ": ", counts.map((c) => `${num(c.count)} ${kindLabel(c.kind)}`).join(", ")) : null),
      h("dt", {}, "Leaders' meetings"), h("dd", {}, String(num(state.leadersMeetingCount))),
      h("dt", {}, "First event"), h("dd", {}, eventLine(state.firstEvent) || "none"),
      h("dt", {}, "Last event"), h("dd", {}, eventLine(state.lastEvent) || "none")),
  ];
  // Each tag with the number of events carrying it; a server without tag
  // counts sends the tags alone.
  const tags = state.tagCounts && state.tagCounts.length
    ? state.tagCounts.map((t) => h("span", { class: "tag", "data-tag": t.tag, "data-count": String(num(t.count)) },
      `${t.tag} (${num(t.count)})`))
    : (state.tags || []).map((t) => h("span", { class: "tag", "data-tag": t }, t));
  if (tags.length) parts.push(h("p", { class: "tags" }, "Tags: ", tags));
  return parts;
}

export function meetingPanel(state) {
  const m = state.lastMeeting;
  if (!m) return empty("No meeting has taken place.");
  return h("dl", { class: "facts", id: "last-meeting" },
    h("dt", {}, "When"), h("dd", {}, dateOf(m.event)),
    h("dt", {}, "What"), h("dd", {}, [enumLabel(m.type), enumLabel(m.level) && `at ${enumLabel(m.level)} level`,
      enumLabel(m.format) && `(${enumLabel(m.format)})`].filter(Boolean).join(" ")),
    m.place ? [h("dt", {}, "Where"), h("dd", {}, m.place)] : null,
    m.participants && m.participants.length
      ? [h("dt", {}, "Participants"), h("dd", {}, m.participants.join(", "))] : null,
    enumLabel(m.outcome) ? [h("dt", {}, "Outcome"), h("dd", {}, enumLabel(m.outcome))] : null,
    h("dt", {}, "Summary"), h("dd", {}, m.event.summary));
}

function decision(record) {
  const action = enumLabel(record.decision);
  if (!action) return h("span", { class: "muted" }, "no decision recorded");
  let text = action;
  if (record.adoption === "ADOPTION_WITHOUT_VOTE") text += " without a vote";
  if (record.votes) {
    const v = record.votes;
    text += ` by ${v.yes || 0} to ${v.no || 0}, ${v.abstain || 0} abstaining`;
  }
  return [text, record.decidedBy ? h("span", { class: "small" }, ` (${dateOf(record.decidedBy)})`) : null];
}

// One row per (body, year): decision, who tabled, co-sponsored, declined
// to table.
export function resolutionsPanel(state) {
  const records = state.resolutions || [];
  if (!records.length) return empty("No action on a resolution is recorded.");
  return h("div", { class: "table-wrap" }, h("table", { class: "cards", id: "resolutions" },
    h("caption", { class: "visually-hidden" }, "UN resolution record by body and year"),
    h("thead", {}, h("tr", {},
      ["Body", "Year", "Resolution", "Decision", "Tabled by", "Co-sponsored by", "Declined to table", "Actions"]
        .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, records.map((r) => h("tr", { "data-body": r.body, "data-year": String(r.year) },
      h("th", { scope: "row", "data-label": "Body" }, r.body),
      h("td", { "data-label": "Year" }, String(r.year)),
      h("td", { "data-label": "Resolution" }, [...(r.titles || []), ...(r.symbols || [])].join("; ") || "\u2014"),
      h("td", { "data-label": "Decision" }, decision(r)),
      h("td", { "data-label": "Tabled by", class: "tabled" }, actors(r.tabledBy)),
      h("td", { "data-label": "Co-sponsored by", class: "co-sponsored" }, actors(r.coSponsoredBy)),
      h("td", { "data-label": "Declined to table", class: "declined" }, actors(r.declinedToTable)),
      h("td", { "data-label": "Actions", class: "num" }, String(num(r.actionCount))))))));
}

export function agreementsPanel(state) {
  const list = state.agreements || [];
  if (!list.length) return empty("No agreement is recorded.");
  const total = (state.counts || []).find((c) => c.kind === "agreement");
  const items = [...list].reverse(); // most recent first
  return [
    total && num(total.count) > list.length
      ? h("p", { class: "note" }, `The ${list.length} most recent of ${num(total.count)} agreements.`) : null,
    h("ul", { class: "records", id: "agreements" }, items.map((a) => h("li", { "data-title": a.title },
      h("h3", {}, a.title),
      h("p", { class: "small" }, dateOf(a.event), a.parties && a.parties.length ? ` \u00b7 parties ${a.parties.join(", ")}` : ""),
      a.suspendedBy
        ? h("p", { class: "badge-line" }, h("span", { class: "badge hostile" }, "suspended"), " ",
          eventLine(a.suspendedBy))
        : null,
      a.commitments && a.commitments.length
        ? h("details", {}, h("summary", {}, plural(a.commitments.length, "commitment")),
          h("ul", {}, a.commitments.map((c) => h("li", {}, c))))
        : null))),
  ];
}

function sanctionRows(list) {
  return h("table", { class: "cards" },
    h("thead", {}, h("tr", {}, ["Imposed by", "On", "Measure", "Last action", "Legal basis"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, list.map((s) => h("tr", {},
      h("td", { "data-label": "Imposed by" }, s.imposer),
      h("td", { "data-label": "On" }, s.target),
      h("th", { scope: "row", "data-label": "Measure" }, s.measure),
      h("td", { "data-label": "Last action" }, `${enumLabel(s.lastAction)} ${dateOf(s.lastEvent)}`),
      h("td", { "data-label": "Legal basis" }, s.legalBasis || "\u2014")))));
}

export function sanctionsPanel(state) {
  const all = state.sanctions || [];
  const inForce = all.filter((s) => s.inForce);
  const lifted = all.filter((s) => !s.inForce);
  if (!all.length) return empty("No sanction between the two is recorded.");
  return [
    inForce.length ? h("div", { class: "table-wrap", id: "sanctions-in-force" }, sanctionRows(inForce))
      : empty("No sanction is in force."),
    lifted.length ? h("details", {}, h("summary", {}, `${plural(lifted.length, "measure")} eased or lifted`),
      h("div", { class: "table-wrap" }, sanctionRows(lifted))) : null,
  ];
}

const STANCE_CLASS = {
  STANCE_SUPPORTIVE: "supportive", STANCE_CONCILIATORY: "conciliatory", STANCE_NEUTRAL: "neutral",
  STANCE_CRITICAL: "critical", STANCE_HOSTILE: "hostile",
};

export function statementsPanel(state) {
  const list = state.recentStatements || [];
  if (!list.length) return empty("No statement is recorded.");
  return h("ul", { class: "records", id: "statements" }, list.map((s) => h("li", {},
    h("p", {},
      h("span", { class: `badge ${STANCE_CLASS[s.stance] || "neutral"}` }, enumLabel(s.stance) || "stance not given"),
      " ", h("strong", {}, s.speaker),
      s.onBehalfOf ? ` for ${s.onBehalfOf}` : (s.source && s.source.length ? ` (${s.source.join(", ")})` : ""),
      s.channel ? `, ${s.channel}` : "",
      h("span", { class: "small" }, ` ${dateOf(s.event)}`)),
    s.quote ? h("blockquote", {}, `\u201c${s.quote}\u201d`) : null,
    h("p", { class: "small" }, s.event.summary))));
}

export function policiesPanel(state) {
  const list = state.policies || [];
  if (!list.length) return empty("No policy change is recorded.");
  return h("ul", { class: "records" }, list.map((p) => h("li", {},
    h("p", {}, h("span", { class: `badge ${p.direction === "DIRECTION_HARDENING" ? "hostile" : p.direction === "DIRECTION_SOFTENING" ? "conciliatory" : "neutral"}` },
      enumLabel(p.direction) || "direction not given"), " ", h("strong", {}, p.policy),
    h("span", { class: "small" }, ` ${dateOf(p.latest)}`)),
    p.latest ? h("p", { class: "small" }, p.latest.summary) : null)));
}
