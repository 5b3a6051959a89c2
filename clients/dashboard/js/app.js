// The dashboard's entry point: a hash router over three pages, the
// server's identity in the footer, and the token form (token_form.js).
//
//   #/                          the overview of every relationship
//   #/relationship/JPN-PRK?…    one relationship (see relationship.js)
//   #/actor/PRK                 one actor
//
// A page is {close(), update?(params)}: a change of the hash that keeps the
// page and its subject (only the query changes) goes to update() when the
// page has one, so that its live stream and its controls stay as they are.
// A token set or forgotten opens the page again: its data is fetched and
// its live stream opened anew, with the new token.

import { errorText, get, num } from "./api.js";
import { renderActor } from "./actor.js";
import { h, replace } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderRelationship } from "./relationship.js";
import { onTokenChange } from "./token.js";
import { setUpTokenForm } from "./token_form.js";

const main = document.getElementById("main");
let current = null; // {key, page}

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

function notFound(target) {
  document.title = "Not found \u2014 annals";
  replace(target,
    h("h1", { tabindex: "-1" }, "No such page"),
    h("p", {}, "The dashboard has the ", h("a", { href: "#/" }, "overview"),
      ", relationship pages (#/relationship/JPN-PRK) and actor pages (#/actor/PRK)."));
  return { close() {} };
}

function open(parts, params) {
  if (parts.length === 0) {
    document.title = "Relationships \u2014 annals";
    const close = renderOverview(main, params);
    return { close };
  }
  if (parts[0] === "relationship" && parts.length === 2) return renderRelationship(main, parts[1], params);
  if (parts[0] === "actor" && parts.length === 2) return renderActor(main, parts[1]);
  return notFound(main);
}

function markNavigation(parts) {
  for (const link of document.querySelectorAll("nav a")) {
    const here = link.getAttribute("href") === "#/" && parts.length === 0;
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Shows the page the hash names. reopen: open it afresh even when it is
// the page shown.
function route(firstTime, reopen = false) {
  const { parts, params } = parseHash();
  const key = parts.join("/");
  if (!reopen && current && current.key === key && current.page.update) {
    current.page.update(params);
    return;
  }
  if (current) current.page.close();
  current = { key, page: open(parts, params) };
  markNavigation(parts);
  if (!firstTime) {
    // Tell assistive technology that the page changed: focus its heading.
    const heading = main.querySelector("h1");
    if (heading) heading.focus();
    window.scrollTo(0, 0);
  }
}

async function showServer() {
  const footer = document.getElementById("server-info");
  try {
    const info = await get("server-info");
    footer.textContent = `annalsd ${info.version || "?"} (commit ${info.commit || "unknown"}), ` +
      `head position ${num(info.headPosition)}, ${info.writable ? "writable" : "not writable"}.`;
  } catch (err) {
    footer.textContent = `Server information unavailable: ${errorText(err)}`;
  }
}

window.addEventListener("hashchange", () => {
  // In-page anchors ("#main", the skip link) are not routes.
  if (location.hash && !location.hash.startsWith("#/")) return;
  route(false);
});
setUpTokenForm();
onTokenChange(() => {
  route(false, true);
  showServer();
});
route(true);
showServer();
