"""The dashboard's browser test on an annalsd started with --auth-tokens.

A second annalsd checks bearer tokens: a reader token for the dashboard
and a writer token for the CLI, made with `annals admin token create`;
the seed is imported with the writer token. The browser reaches it
through a Relay, which shows what each request carried (the token in the
Authorization header, never in a request line).

  - without a token the overview shows the server's 401 message, and the
    token form is open with the focus in it;
  - a reader token given in the form loads the overview, with JPN-PRK;
  - on JPN-PRK's page, an event appended with the writer token appears
    within 2 s without a reload: the event stream (read with fetch)
    carries the token;
  - the token is in no URL the browser asked for, in no console entry and
    not in localStorage;
  - "Forget token" brings the 401 state back.

Each request answered 401 makes Chrome log a SEVERE "network" entry; the
checks that cause them say so with Run.expect_severe, and the console
check allows those and nothing else.
"""

import os
import pathlib
import time

from dashboard_harness import (DYAD, LIVE_TIMEOUT, Annalsd, CheckFailed, Relay, create_token,
                               run_cli, write_statement)

# The requests a page without a token makes, each answered 401 once (the
# event stream is not retried after a 401): the overview's relationships,
# the footer's server information and the overview's event stream.
UNAUTHENTICATED_REQUESTS = ("v1/relationships?pageSize=1000", "v1/server-info", "v1/subscribe")


class Secured:
    """annalsd with --auth-tokens, its two tokens, and the relay the
    browser reaches its HTTP port through."""

    def __init__(self, args, work_dir, artifacts):
        self.args = args
        self.reader, reader_line = create_token(args.annals, "dashboard", "reader")
        self.writer, writer_line = create_token(args.annals, "ingest", "writer")
        directory = pathlib.Path(work_dir) / "secured"
        directory.mkdir()
        tokens = directory / "tokens"
        tokens.write_text(f"{reader_line}\n{writer_line}\n")
        tokens.chmod(0o600)
        self.server = Annalsd(args.annalsd, directory, pathlib.Path(artifacts) / "annalsd-secured.log",
                              args.assets, ["--auth-tokens", str(tokens)])
        self.relay = None
        self.work_dir = directory

    def start(self):
        self.server.start()
        run_cli(self.args.annals, self.server.grpc_address, "import", self.args.seed, token=self.writer)
        self.relay = Relay(self.server.http_base)

    def stop(self):
        if self.relay is not None:
            self.relay.stop()
        self.server.stop()

    def stream_requests(self, dyad):
        """The headers of every GET /v1/subscribe for `dyad` the browser sent."""
        return [fields for line, fields in self.relay.requests()
                if line.startswith(f"GET /v1/subscribe?filter.dyad={dyad} ")]


def text_of(run, css):
    element = run.find(css)
    return element.get_attribute("textContent") if element is not None else ""


def wait_unauthenticated(run, secured, what):
    """Waits for the page without a token: the 401 message in the page, in
    the footer and in the header's live state, and the token form open
    with the focus on its input. Declares the 401s Chrome logs for it."""
    run.wait(lambda d: "UNAUTHENTICATED (HTTP 401)" in text_of(run, "#main .error"),
             f"the 401 message in the page {what}")
    run.wait(lambda d: "UNAUTHENTICATED" in text_of(run, "#server-info"), f"the 401 in the footer {what}")
    run.wait(lambda d: run.find('#connection[data-state="stopped"]')
             and "HTTP 401" in text_of(run, "#connection"), f"the stream's 401 in the header {what}")
    for path in UNAUTHENTICATED_REQUESTS:
        run.expect_severe(secured.relay.base + path, "status of 401")
    run.wait(lambda d: run.find("#token-panel:not([hidden])"), f"the token form {what}")
    run.wait(lambda d: d.switch_to.active_element.get_attribute("id") == "token-input",
             f"the focus on the token's input {what}")
    if text_of(run, "#token-toggle") != "Token: none":
        raise CheckFailed(f"the header's button says {text_of(run, '#token-toggle')!r} {what}")
    if run.driver.execute_script("return sessionStorage.getItem('annals.token')") is not None:
        raise CheckFailed(f"sessionStorage still holds a token {what}")


def check_asks_for_token(run, secured):
    run.driver.get(secured.relay.base)
    wait_unauthenticated(run, secured, "without a token")
    field = run.find("#token-input")
    label = run.find('label[for="token-input"]')
    if field.get_attribute("type") != "password" or label is None:
        raise CheckFailed(f"the token's input is of type {field.get_attribute('type')!r}, label {label}")
    buttons = [b.get_attribute("textContent") for b in run.all("#token-form button")]
    if buttons != ["Use token", "Forget token"]:
        raise CheckFailed(f"the form's buttons are {buttons}")
    reason = text_of(run, "#token-reason")
    if "UNAUTHENTICATED" not in reason:
        raise CheckFailed(f"the form says {reason!r}")
    return f"{text_of(run, '#main .error').strip()[:90]}…; the form open, its input focused"


def check_token_loads_overview(run, secured):
    run.find("#token-input").send_keys(secured.reader)
    run.find("#token-use").click()
    run.wait(lambda d: run.find(f'#relationships tbody tr[data-dyad="{DYAD}"]'),
             f"the overview's row of {DYAD} with the reader token")
    rows = len(run.all("#relationships tbody tr[data-dyad]"))
    if text_of(run, "#token-toggle") != "Token: set":
        raise CheckFailed(f"the header's button says {text_of(run, '#token-toggle')!r}")
    if run.find("#token-input").get_attribute("value"):
        raise CheckFailed("the form's input still holds the token")
    if run.find("#token-panel:not([hidden])"):
        raise CheckFailed(f"the form is offered again: {text_of(run, '#token-reason')}")
    if run.driver.execute_script("return sessionStorage.getItem('annals.token')") != secured.reader:
        raise CheckFailed("sessionStorage does not hold the token given")
    run.wait(lambda d: "annalsd" in text_of(run, "#server-info"), "the server information with the token")
    return f"{rows} relationships listed; the token in sessionStorage"


def check_live_with_token(run, secured):
    run.find(f'#relationships tbody tr[data-dyad="{DYAD}"] a').click()
    run.page_ready()
    state = run.wait(lambda d: (run.find('#connection[data-state="live"]')
                                or run.find('#connection[data-state="stopped"]')),
                     "the live connection with the token").get_attribute("data-state")
    # The page's stream requests, all sent with the token given.
    carried = [f.get("authorization") == f"Bearer {secured.reader}" for f in secured.stream_requests(DYAD)]
    if state != "live":
        said = text_of(run, "#connection").strip()
        if carried and carried[-1] and "HTTP 401" in said:
            raise CheckFailed("annalsd answered the event stream 401 although the request carried the reader "
                              f"token (seen by the relay), which its other calls were served with: {said}")
        raise CheckFailed(f"the stream did not open: {said}")
    if not carried or not all(carried):
        raise CheckFailed(f"{carried.count(False)} of {len(carried)} stream requests lacked the token")
    count_before = int(run.find("#summary-panel dd[data-count]").get_attribute("data-count"))
    event_id = f"jpn-prk-2019-05-dashboard-token-{os.getpid()}"
    path = write_statement(secured.work_dir, event_id, "A statement appended with a writer token.")
    run.driver.execute_script("window.annalsTestMarker = 'not reloaded';")
    run_cli(run.args.annals, secured.server.grpc_address, "append", str(path), token=secured.writer)
    appended = time.monotonic()

    def within_limit(css, what):
        run.wait(lambda d: run.find(css), what, timeout=max(LIVE_TIMEOUT - (time.monotonic() - appended), 0.05))
        return (time.monotonic() - appended) * 1000

    feed_ms = within_limit(f'#live-feed li[data-event-id="{event_id}"]', "the appended event under 'Just recorded'")
    count_ms = within_limit(f'#summary-panel dd[data-count="{count_before + 1}"]', f"the event count {count_before + 1}")
    if run.driver.execute_script("return window.annalsTestMarker") != "not reloaded":
        raise CheckFailed("the page was reloaded")
    return (f"after `annals --token … append` returned: listed in {feed_ms:.0f} ms, count {count_before} -> "
            f"{count_before + 1} in {count_ms:.0f} ms; {len(carried)} stream request(s), each with the token")


def check_token_not_leaked(run, secured):
    urls = run.driver.execute_script("""
      return [location.href,
              ...performance.getEntriesByType('navigation').map((e) => e.name),
              ...performance.getEntriesByType('resource').map((e) => e.name)];""")
    lines = [line for line, _ in secured.relay.requests()]
    run.collect_console()
    stored = run.driver.execute_script("return JSON.stringify(Object.entries(localStorage))")
    for token, name in ((secured.reader, "reader"), (secured.writer, "writer")):
        if any(token in u for u in urls):
            raise CheckFailed(f"the {name} token is in a URL the page knows")
        if any(token in line for line in lines):
            raise CheckFailed(f"the {name} token is in a request line the browser sent")
        if any(token in str(e.get("message", "")) for e in run.console):
            raise CheckFailed(f"the {name} token is in the console")
        if token in stored:
            raise CheckFailed(f"the {name} token is in localStorage")
    # Each API request carried the reader token as Authorization, or
    # nothing (before it was given).
    api = [fields for line, fields in secured.relay.requests() if " /v1/" in line]
    other = [f["authorization"][:7] for f in api if f.get("authorization", f"Bearer {secured.reader}")
             != f"Bearer {secured.reader}"]
    if other:
        raise CheckFailed(f"API requests carried other Authorization headers: {other}")
    carried = sum(1 for f in api if "authorization" in f)
    return (f"{len(urls)} URLs, {len(lines)} request lines, {len(run.console)} console entries and "
            f"localStorage clean; the token went as Authorization on {carried} of {len(api)} API requests")


def check_forget_token(run, secured):
    run.find('nav a[href="#/"]').click()
    run.wait(lambda d: run.find(f'#relationships tbody tr[data-dyad="{DYAD}"]'), "the overview with the token")
    if not run.find("#token-panel:not([hidden])"):
        run.find("#token-toggle").click()
    run.wait(lambda d: run.find("#token-panel:not([hidden])"), "the form opened from the header")
    run.find("#token-forget").click()
    wait_unauthenticated(run, secured, "after 'Forget token'")
    if run.find("#relationships tbody tr[data-dyad]"):
        raise CheckFailed("the overview still lists relationships")
    return "the 401 message, the form open and focused, sessionStorage empty"


def secured_checks(run, secured, first_number):
    """(number, title, check) for the scenario's checks, numbered from
    first_number."""
    checks = [
        ("without a token the overview shows the 401 and focuses the token form",
         lambda: check_asks_for_token(run, secured)),
        (f"a reader token given in the form loads the overview with {DYAD}",
         lambda: check_token_loads_overview(run, secured)),
        (f"with the token, an event appended with a writer token shows on {DYAD}'s page within "
         f"{LIVE_TIMEOUT:g} s", lambda: check_live_with_token(run, secured)),
        ("the token is in no URL, no console entry and not in localStorage",
         lambda: check_token_not_leaked(run, secured)),
        ("'Forget token' brings the 401 back", lambda: check_forget_token(run, secured)),
    ]
    return [(first_number + i, title, check) for i, (title, check) in enumerate(checks)]
