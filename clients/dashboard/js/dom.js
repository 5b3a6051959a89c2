// Building DOM nodes without HTML strings: every text the server sends
// goes in as a text node, never as markup.

// h("a", {href: "#/", class: "x"}, "text", child, [more]) -> element.
// Attributes whose value is false, null or undefined are left out; true
// sets an empty attribute; "on…" keys add event listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.append(child);
    } else {
      el.append(document.createTextNode(String(child)));
    }
  }
}

// Replaces el's children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A section with a heading (h2) and an id for aria-labelledby.
export function section(id, title, ...children) {
  const headingId = `${id}-heading`;
  return h("section", { id, class: "panel", "aria-labelledby": headingId },
    h("h2", { id: headingId }, title), ...children);
}

// A note for an empty panel.
export function empty(text) {
  return h("p", { class: "empty" }, text);
}

// "Loading…" placeholder, announced politely.
export function loading(what) {
  return h("p", { class: "loading", role: "status" }, `Loading ${what}…`);
}

// Marks el as new for a few seconds (CSS fades the highlight).
export function highlight(el) {
  el.classList.remove("fresh");
  // Restart the animation when the element was highlighted already.
  void el.offsetWidth;
  el.classList.add("fresh");
  setTimeout(() => el.classList.remove("fresh"), 6000);
}

// Calls fn at most once per `ms`, after the calls stop for that long.
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
