// The token form under the page header (index.html's #token-panel): give
// this tab a bearer token, or forget it. The header's "Token" button opens
// and closes it at any time; an answer of 401 opens it with the server's
// message and moves the focus to its input.

import { errorText } from "./api.js";
import { forgetToken, isTokenLike, onTokenChange, onTokenNeeded, setToken, token } from "./token.js";

export function setUpTokenForm() {
  const toggle = document.getElementById("token-toggle");
  const panel = document.getElementById("token-panel");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const forget = document.getElementById("token-forget");
  const reason = document.getElementById("token-reason");
  const status = document.getElementById("token-status");

  function showState() {
    const set = Boolean(token());
    toggle.textContent = set ? "Token: set" : "Token: none";
    status.textContent = set
      ? "A token is set for this tab; it is forgotten when the tab closes."
      : "No token is set.";
  }

  function open(focus) {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    // Not while the token is being typed: a second refusal would move
    // the caret.
    if (focus && document.activeElement !== input) input.focus();
  }

  function close() {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
  }

  function clearReason() {
    reason.hidden = true;
    reason.textContent = "";
  }

  toggle.addEventListener("click", () => {
    if (panel.hidden) open(true);
    else close();
  });

  panel.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    close();
    toggle.focus();
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!isTokenLike(value)) {
      input.setAttribute("aria-invalid", "true");
      status.textContent = value
        ? "A token is one word of printable ASCII characters, as annals admin token create prints it."
        : "Enter a token first.";
      input.focus();
      return;
    }
    // Out of the page as soon as it is stored.
    input.value = "";
    input.removeAttribute("aria-invalid");
    clearReason();
    close();
    setToken(value);
  });

  forget.addEventListener("click", () => {
    input.value = "";
    input.removeAttribute("aria-invalid");
    clearReason();
    forgetToken();
  });

  onTokenChange(showState);
  onTokenNeeded((error) => {
    reason.textContent = token()
      ? `The server refused the token: ${errorText(error)}`
      : `The server needs a token: ${errorText(error)}`;
    reason.hidden = false;
    open(true);
  });
  showState();
}
