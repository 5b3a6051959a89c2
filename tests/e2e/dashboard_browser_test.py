#!/usr/bin/env python3
"""The dashboard in a real browser against the real annalsd.

Starts annalsd on a fresh data directory with its HTTP gateway on a free
port, imports the seed timeline with the annals CLI, and drives headless
Chromium (Selenium 4 and chromedriver, from Debian) through the pages the
dashboard serves at /:

  1. the overview lists JPN-PRK;
  2. JPN-PRK's page draws the monthly chart (uPlot's canvas) with points;
  3. the resolution record shows Japan declining to table at the UNHRC in
     2019, and the agreements panel the Stockholm agreement;
  4. "as of date" 2018-12 removes every 2019 entry;
  5. an event appended with `annals append` appears on the open page
     within 2 s, without a reload;
  6. event_stream.js's parser reads tricky text/event-stream input (line
     ends of every kind split between chunks, comments, several data
     lines, ids without events, an event cut off) as the SSE rules say;
  7. through a relay that drops every connection, the event stream
     reconnects with Last-Event-ID: an event appended while it was down
     shows once, and nothing seen before it shows again;
  8. screenshots of the overview and of JPN-PRK's page (also 375 px wide,
     where the page must not scroll sideways) are written to --artifacts;
  9-13. on a second annalsd started with --auth-tokens, the token form
     (dashboard_token_checks.py);
  14. the browser console has no error over the whole run but the failed
     requests the checks cause on purpose (each 401 without a token, the
     stream cut in 7), each logged once.

Every wait is an explicit WebDriverWait on what the page shows. Prints one
line per check ("ok" or "FAIL" with the reason and the time it took) and
exits 1 when a check fails. Both annalsd and the browser are stopped at the
end, also on failure.

  dashboard_browser_test.py --annalsd build/bin/annalsd --annals build/bin/annals \\
      --seed deploy/seed/timeline.jsonl --artifacts /tmp/dashboard-artifacts \\
      [--assets clients/dashboard]

--assets serves the dashboard from that directory (annalsd --http-assets)
instead of the copy built into annalsd: for working on the dashboard.
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time
import traceback

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from dashboard_harness import (DYAD, LIVE_TIMEOUT, Annalsd, CheckFailed, Relay, Run, run_cli,
                               start_browser, write_statement)
from dashboard_token_checks import Secured, secured_checks


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annalsd", required=True, help="the annalsd program")
    parser.add_argument("--annals", required=True, help="the annals CLI")
    parser.add_argument("--seed", required=True, help="deploy/seed/timeline.jsonl")
    parser.add_argument("--artifacts", required=True,
                        help="directory for screenshots, annalsd's log and the browser console")
    parser.add_argument("--assets", help="serve the dashboard from this directory (--http-assets)")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    return parser.parse_args()


# The checks. Each returns a short note for its "ok" line or raises
# CheckFailed.

def check_overview(run):
    run.driver.get(run.server.http_base)
    row = run.wait(lambda d: run.find(f'#relationships tbody tr[data-dyad="{DYAD}"]'),
                   f"the overview's row of {DYAD}")
    link = row.find_element(By.CSS_SELECTOR, "a")
    if link.get_attribute("href").split("#")[-1] != f"/relationship/{DYAD}":
        raise CheckFailed(f"the row's link goes to {link.get_attribute('href')}")
    rows = len(run.all("#relationships tbody tr[data-dyad]"))
    # Let the visible rows' sparklines load before the screenshot.
    run.wait(lambda d: run.find(f'#relationships tr[data-dyad="{DYAD}"] svg.sparkline'),
             f"the trend of {DYAD}")
    run.screenshot("overview", pending_css="#relationships td.trend > .muted")
    return f"{rows} relationships listed"


def check_chart(run):
    link = run.find(f'#relationships tbody tr[data-dyad="{DYAD}"] a')
    if link is not None:
        link.click()
    else:  # check 1 failed: go to the page directly, to check the rest
        run.driver.get(run.server.http_base + f"#/relationship/{DYAD}")
    run.wait(lambda d: d.current_url.endswith(f"#/relationship/{DYAD}"), "the link to the page")
    run.page_ready()
    canvas = run.wait(lambda d: run.find("#monthly-chart .uplot canvas"), "uPlot's canvas")
    figure = run.find("#monthly-chart")
    points = int(figure.get_attribute("data-points") or 0)
    if points <= 0:
        raise CheckFailed(f"the chart has {points} data points")
    table_rows = len(run.all("#monthly-chart .data-table tbody tr"))
    if table_rows != points:
        raise CheckFailed(f"the chart's table has {table_rows} rows for {points} points")
    if canvas.size["width"] < 200 or canvas.size["height"] < 100:
        raise CheckFailed(f"uPlot's canvas is {canvas.size}")
    # Marks this page: a reload would lose it.
    run.driver.execute_script("window.annalsTestMarker = 'not reloaded';")
    return f"{points} months with a mean, canvas {canvas.size['width']}x{canvas.size['height']}"


def check_resolutions_and_agreements(run):
    row = run.find('#resolutions tr[data-body="UNHRC"][data-year="2019"]')
    if row is None:
        raise CheckFailed("no UNHRC 2019 row in the resolution record")
    cells = row.find_elements(By.CSS_SELECTOR, "td.declined")
    if not cells:
        raise CheckFailed("the UNHRC 2019 row has no 'declined to table' cell (td.declined)")
    declined = cells[0].get_attribute("textContent")
    if "JPN" not in declined.split(", "):
        raise CheckFailed(f"UNHRC 2019 lists {declined!r} as declining to table, not JPN")
    headers = [th.get_attribute("textContent") for th in run.all("#resolutions thead th")]
    if "Declined to table" not in headers:
        raise CheckFailed(f"the resolution record's columns are {headers}")
    stockholm = run.find('#agreements li[data-title="Stockholm agreement"]')
    if stockholm is None:
        titles = [li.get_attribute("data-title") for li in run.all("#agreements li[data-title]")]
        raise CheckFailed(f"no Stockholm agreement among {titles}")
    if "2014-05" not in stockholm.get_attribute("textContent"):
        raise CheckFailed("the Stockholm agreement is not dated 2014-05")
    return "UNHRC 2019: declined to table by JPN; Stockholm agreement (2014-05)"


def entries_of_2019(run):
    return [tr.get_attribute("data-event-id") for tr in run.all("#timeline-panel tbody tr[data-date]")
            if tr.get_attribute("data-date").startswith("2019")]


def check_as_of_date(run):
    if not entries_of_2019(run):
        raise CheckFailed("the timeline had no 2019 entry to remove")
    loads = run.find("#relationship-page").get_attribute("data-loads")
    field = run.find("#asof-date")
    field.clear()
    field.send_keys("2018-12")
    run.find("#asof-apply").click()
    run.wait(lambda d: run.find(f'#relationship-page[data-state="ready"][data-as-of-date="2018-12"]'
                                f':not([data-loads="{loads}"])'), "the page as of 2018-12")
    if "asOfDate=2018-12" not in run.driver.current_url:
        raise CheckFailed(f"the URL does not hold the date: {run.driver.current_url}")
    left = entries_of_2019(run)
    if left:
        raise CheckFailed(f"2019 entries still in the timeline: {left}")
    if run.find('#resolutions tr[data-year="2019"]'):
        raise CheckFailed("the resolution record still has a 2019 row")
    months = [th.get_attribute("textContent") for th in run.all("#monthly-chart .data-table tbody th")]
    if any(m.startswith("2019") for m in months) or not months:
        raise CheckFailed(f"the chart's months are {months[:3]}…{months[-3:]}")
    note = run.find("#asof-note").get_attribute("textContent")
    if "As of 2018-12" not in note:
        raise CheckFailed(f"the time note says {note!r}")
    if run.driver.execute_script("return window.annalsTestMarker") != "not reloaded":
        raise CheckFailed("the page was reloaded")
    timeline_rows = len(run.all("#timeline-panel tbody tr[data-date]"))
    # Back to now for the next check.
    loads = run.find("#relationship-page").get_attribute("data-loads")
    run.find("#asof-now").click()
    run.wait(lambda d: run.find(f'#relationship-page[data-state="ready"][data-as-of-date=""]'
                                f':not([data-loads="{loads}"])'), "the page back at now")
    return f"{timeline_rows} entries up to 2018, chart up to {months[-1]}"


def check_live(run, work_dir):
    run.wait(lambda d: run.find('#connection[data-state="live"]'), "the live connection")
    count_before = int(run.find("#summary-panel dd[data-count]").get_attribute("data-count"))
    tagged = run.find('#summary-panel .tag[data-tag="dialogue"]')
    tag_before = int(tagged.get_attribute("data-count")) if tagged else 0
    event_id = f"jpn-prk-2019-05-dashboard-test-{os.getpid()}"
    path = write_statement(work_dir, event_id, "A statement appended by the dashboard's browser test.")
    run_cli(run.args.annals, run.server.grpc_address, "append", str(path))
    appended = time.monotonic()

    def within_limit(css, what):
        run.wait(lambda d: run.find(css), what, timeout=max(LIVE_TIMEOUT - (time.monotonic() - appended), 0.05))
        return (time.monotonic() - appended) * 1000

    feed_ms = within_limit(f'#live-feed li[data-event-id="{event_id}"]', "the appended event under 'Just recorded'")
    row_ms = within_limit(f'#timeline-panel tr[data-event-id="{event_id}"]', "the appended event in the timeline")
    count_ms = within_limit(f'#summary-panel dd[data-count="{count_before + 1}"]', f"the event count {count_before + 1}")
    within_limit(f'#summary-panel .tag[data-tag="dialogue"][data-count="{tag_before + 1}"]',
                 f"the tag 'dialogue' counted {tag_before + 1} times")
    if run.driver.execute_script("return window.annalsTestMarker") != "not reloaded":
        raise CheckFailed("the page was reloaded")
    return (f"after `annals append` returned: listed as just recorded in {feed_ms:.0f} ms, in the timeline "
            f"in {row_ms:.0f} ms, count {count_before} -> {count_before + 1} in {count_ms:.0f} ms, "
            f"tag 'dialogue' {tag_before} -> {tag_before + 1}")


# Chunks fed to event_stream.js's SseParser, and the events it must
# dispatch: [type, data, lastEventId]. Line ends of every kind, also split
# between chunks; comments; several data lines; an id with no data (no
# event, but the id counts); retry; an event cut off by the end of a
# connection (dropped, its id kept).
PARSER_CHUNKS = [
    ": heartbeat\n\n",
    'id: 7\r\nevent: caughtUp\r\ndata: {"position":"7"}\r\n\r\n',
    "data: first line\r", "\ndata:second line\r", "\n\r", "\n",
    "id: 8\nevent: event\ndata: a\ndata\ndata:  c\nunknown: x\n\n",
    "event: no data\n\nretry: 2500\nid: 9\n\n",
    "id: 10\nevent: lost\ndata: cut off",
    None,  # the connection ends: SseParser.reset()
    "data: after\rdata: the end\r\r",
]
PARSER_EXPECTED = {
    "events": [["caughtUp", '{"position":"7"}', "7"],
               ["message", "first line\nsecond line", "7"],
               ["event", "a\n\n c", "8"],
               ["message", "after\nthe end", "9"]],
    "retry": [2500],
    "lastEventId": "9",
}


def check_event_stream_parser(run):
    result = run.driver.execute_async_script("""
      const [chunks, done] = arguments;
      import(new URL('js/event_stream.js', document.baseURI).href).then(({ SseParser }) => {
        const events = [], retry = [];
        const parser = new SseParser((e) => events.push([e.type, e.data, e.lastEventId]), (ms) => retry.push(ms));
        for (const chunk of chunks) {
          if (chunk === null) parser.reset(); else parser.push(chunk);
        }
        done({ events, retry, lastEventId: parser.lastEventId });
      }).catch((err) => done({ error: String(err) }));""", PARSER_CHUNKS)
    if result != PARSER_EXPECTED:
        raise CheckFailed(f"parsed {json.dumps(result)}, expected {json.dumps(PARSER_EXPECTED)}")
    return f"{len(PARSER_CHUNKS)} chunks, {len(PARSER_EXPECTED['events'])} events as the SSE rules say"


def check_reconnect(run, work_dir):
    """The page through a relay that drops every connection: the stream
    reconnects with Last-Event-ID, and an event appended while it was down
    shows once, with nothing before it replayed."""
    relay = Relay(run.server.http_base)
    try:
        run.driver.get(relay.base + f"#/relationship/{DYAD}")
        run.page_ready()
        run.wait(lambda d: run.find('#connection[data-state="live"]'), "the live connection through the relay")
        relay.cut()
        run.expect_severe(relay.base + f"v1/subscribe?filter.dyad={DYAD}", "net::ERR_INCOMPLETE_CHUNKED_ENCODING")
        run.wait(lambda d: run.find('#connection[data-state="reconnecting"]'), "'Reconnecting' once cut off")
        event_id = f"jpn-prk-2019-05-dashboard-reconnect-{os.getpid()}"
        path = write_statement(work_dir, event_id, "A statement appended while the dashboard was cut off.")
        run_cli(run.args.annals, run.server.grpc_address, "append", str(path))
        relay.restore()
        restored = time.monotonic()
        # The first attempt comes 1 s after the cut.
        run.wait(lambda d: run.find(f'#live-feed li[data-event-id="{event_id}"]'),
                 "the event appended while cut off", timeout=LIVE_TIMEOUT + 1)
        shown_ms = (time.monotonic() - restored) * 1000
        feed = [li.get_attribute("data-event-id") for li in run.all("#live-feed li")]
        if feed != [event_id]:
            raise CheckFailed(f"'Just recorded' lists {feed}, not just {event_id}")
        position = int(run.find(f'#live-feed li[data-event-id="{event_id}"]')
                       .get_attribute("textContent").split("position ")[1].split()[0])
        streams = [fields for line, fields in relay.requests() if line.startswith("GET /v1/subscribe?")]
        resumed = [f.get("last-event-id") for f in streams[1:]]
        if len(streams) < 2 or resumed[-1] != str(position - 1):
            raise CheckFailed(f"the stream was asked for {len(streams)} times, with Last-Event-ID {resumed}; "
                              f"the event is at position {position}")
        run.wait(lambda d: run.find('#connection[data-state="live"]'), "live again")
    finally:
        # Away from the relay first: a stream the page closes is not an error.
        run.driver.get("about:blank")
        relay.stop()
    return (f"reconnected with Last-Event-ID {position - 1}; the event at {position} shown "
            f"{shown_ms:.0f} ms after the relay was restored, and nothing else")


def check_console(run):
    run.collect_console()
    with open(run.artifacts / "console.log", "w") as out:
        for entry in run.console:
            out.write(f"{entry.get('level')} {entry.get('source', '')} {entry.get('message')}\n")
    # Every SEVERE entry must be one a check caused on purpose (a request
    # answered 401 without a token, a stream whose connection was cut), and
    # each of those must be there, once.
    expected = list(run.expected_severe)
    unexpected = []
    for entry in (e for e in run.console if e.get("level") == "SEVERE"):
        message = entry.get("message", "")
        match = next((x for x in expected if entry.get("source") == "network"
                      and message.startswith(x[0] + " - ") and x[1] in message), None)
        if match is None:
            unexpected.append(message)
        else:
            expected.remove(match)
    if unexpected:
        raise CheckFailed(f"{len(unexpected)} console errors: " + "; ".join(unexpected[:5]))
    if expected:
        raise CheckFailed("expected but not logged: " + "; ".join(f"{url} ({text})" for url, text in expected))
    return (f"{len(run.console)} console entries; SEVERE only the {len(run.expected_severe)} "
            f"failed requests the checks caused")


def open_relationship_page(run):
    """Loads the relationship's page afresh (a reload: the live checks
    are over)."""
    run.driver.get(run.server.http_base + f"#/relationship/{DYAD}")
    run.driver.refresh()
    run.page_ready()
    run.wait(lambda d: run.find("#monthly-chart .uplot canvas"), "the chart")


def check_screenshots(run):
    driver = run.driver
    open_relationship_page(run)
    run.screenshot(f"relationship-{DYAD}")
    # A phone: 375 CSS pixels wide.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.refresh()
        run.page_ready()
        run.wait(lambda d: run.find("#monthly-chart .uplot canvas"), "the chart at 375 px")
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            wide = driver.execute_script("""
              const w = document.documentElement.clientWidth;
              return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-wrap'))
                .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);""")
            raise CheckFailed(f"at 375 px the page scrolls sideways by {overflow} px: {wide}")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 375, "height": min(height, 12000), "deviceScaleFactor": 1, "mobile": True})
        narrow = run.screenshot(f"relationship-{DYAD}-375px", full_page=False)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    run.collect_console()
    written = []
    for name in ("overview", f"relationship-{DYAD}"):
        written.append(run.artifacts / f"{name}.png")
    written.append(narrow)
    for path in written:
        data = path.read_bytes() if path.exists() else b""
        if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 5000:
            raise CheckFailed(f"{path} is not a screenshot ({len(data)} bytes)")
    return ", ".join(str(p) for p in written)


def main():
    args = parse_args()
    artifacts = pathlib.Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    work_dir = tempfile.mkdtemp(prefix="annals-dashboard-test-")
    # Beside work_dir, not in it: Chromium's socket path in it must stay
    # within a socket address's 108 bytes.
    browser_tmp = tempfile.mkdtemp(prefix="chromium-")
    server = Annalsd(args.annalsd, work_dir, artifacts / "annalsd.log", args.assets)
    secured = None
    driver = None
    failures = 0
    started = time.monotonic()
    try:
        server.start()
        run_cli(args.annals, server.grpc_address, "import", args.seed)
        secured = Secured(args, work_dir, artifacts)
        secured.start()
        print(f"annalsd: gRPC {server.grpc_address}, HTTP {server.http_base}"
              f"{' (assets from ' + args.assets + ')' if args.assets else ''}; with --auth-tokens: "
              f"gRPC {secured.server.grpc_address}, HTTP {secured.server.http_base} "
              f"through the relay {secured.relay.base}", flush=True)
        driver = start_browser(args, browser_tmp)
        run = Run(args, driver, server)
        checks = [
            (1, f"the overview lists {DYAD}", lambda: check_overview(run)),
            (2, f"{DYAD}'s page draws the monthly chart with data points", lambda: check_chart(run)),
            (3, "the resolution record shows 2019's 'declined to table'; agreements show Stockholm",
             lambda: check_resolutions_and_agreements(run)),
            (4, "as of date 2018-12 removes the 2019 entries", lambda: check_as_of_date(run)),
            (5, f"an event appended with the CLI appears within {LIVE_TIMEOUT:g} s without a reload",
             lambda: check_live(run, work_dir)),
            (6, "the event-stream parser follows the SSE rules", lambda: check_event_stream_parser(run)),
            (7, "a dropped stream resumes with Last-Event-ID: an event appended meanwhile shows once",
             lambda: check_reconnect(run, work_dir)),
            (8, "screenshots written, also at 375 px without sideways scrolling",
             lambda: check_screenshots(run)),
            *secured_checks(run, secured, 9),
            (14, "no error in the browser console over the whole run but the failed requests the checks "
             "caused", lambda: check_console(run)),
        ]
        for number, title, check in checks:
            t0 = time.monotonic()
            try:
                note = check()
                run.collect_console()
                print(f"ok {number} - {title} ({time.monotonic() - t0:.2f} s): {note}", flush=True)
            except Exception as err:  # a failed check; the next ones still run
                failures += 1
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                if not isinstance(err, CheckFailed):
                    reason = f"{type(err).__name__}: {reason}"

                print(f"FAIL {number} - {title} ({time.monotonic() - t0:.2f} s): {reason}", flush=True)
                try:
                    run.screenshot(f"failure-{number}", full_page=False)
                except WebDriverException:
                    pass
    except Exception:  # the run could not start: annalsd, the seed, the browser
        failures += 1
        print("FAIL - the test could not run:", flush=True)
        traceback.print_exc()
    finally:
        if driver is not None:
            try:
                driver.quit()
            except WebDriverException:
                pass
        if secured is not None:
            secured.stop()
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
        shutil.rmtree(browser_tmp, ignore_errors=True)
    print(f"{'FAILED' if failures else 'PASSED'}: {failures} failed, {time.monotonic() - started:.1f} s; "
          f"artifacts in {artifacts}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
