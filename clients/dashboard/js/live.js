// The live connection shown in the page header: pages open their
// subscriptions here, and the header says whether updates are flowing.

import { LiveStream } from "./api.js";

const LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Not live",
};

function show(state, detail) {
  const el = document.getElementById("connection");
  if (!el) return;
  el.dataset.state = state;
  el.querySelector(".connection-text").textContent =
    detail ? `${LABELS[state]} (${detail})` : LABELS[state];
}

// Subscribes to the events recorded from now on that match `filter`
// (SubscriptionFilter fields: dyad, actor, kinds, …); onEvent(recorded)
// for each. Returns the stream; close() it when the page goes.
export function subscribe(filter, onEvent) {
  const params = {};
  for (const [k, v] of Object.entries(filter)) params[`filter.${k}`] = v;
  return new LiveStream("subscribe", params, { event: onEvent }, show);
}
