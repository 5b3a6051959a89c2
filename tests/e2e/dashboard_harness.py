"""What the dashboard's browser test stands on: annalsd on a temporary data
directory, the annals CLI, headless Chromium driven by Selenium, a relay
that can drop the browser's connections, and Run, which holds them and
waits for what the page shows."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

START_TIMEOUT = 30.0  # seconds for annalsd to listen
PAGE_TIMEOUT = 15.0  # seconds for a page to show what it loads
LIVE_TIMEOUT = 2.0  # seconds for an appended event to appear
DYAD = "JPN-PRK"


class CheckFailed(Exception):
    pass


class Annalsd:
    """annalsd on a temporary data directory: gRPC and HTTP on free ports of
    127.0.0.1, read from their port files; its log goes to `log_path`.
    extra_args: more flags (--auth-tokens FILE)."""

    def __init__(self, program, work_dir, log_path, assets, extra_args=()):
        self.program = program
        self.work_dir = pathlib.Path(work_dir)
        self.log_path = log_path
        self.assets = assets
        self.extra_args = list(extra_args)
        self.process = None
        self.grpc_address = None
        self.http_base = None

    def start(self):
        port_file = self.work_dir / "port"
        http_port_file = self.work_dir / "http_port"
        argv = [self.program,
                "--data-dir", str(self.work_dir / "data"),
                "--listen", "127.0.0.1:0", "--port-file", str(port_file),
                "--http-listen", "127.0.0.1:0", "--http-port-file", str(http_port_file)]
        if self.assets:
            argv += ["--http-assets", str(pathlib.Path(self.assets).resolve())]
        argv += self.extra_args
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            grpc_port = read_port(port_file)
            http_port = read_port(http_port_file)
            if grpc_port and http_port:
                self.grpc_address = f"127.0.0.1:{grpc_port}"
                self.http_base = f"http://127.0.0.1:{http_port}/"
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"annalsd exited with status {self.process.returncode}; "
                                   f"its log is {self.log_path}:\n{tail(self.log_path)}")
            time.sleep(0.02)
        raise RuntimeError(f"annalsd wrote no port files within {START_TIMEOUT:.0f} s; "
                           f"its log is {self.log_path}:\n{tail(self.log_path)}")

    def stop(self):
        """SIGTERM, then SIGKILL after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_port(path):
    """The port in a port file once it is written whole (ends with a
    newline); None before."""
    try:
        text = pathlib.Path(path).read_text()
    except FileNotFoundError:
        return None
    return text.strip() if text.endswith("\n") and text.strip().isdigit() else None


def tail(path, lines=30):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_cli(annals, address, *args, token=None):
    """Runs `annals --server ADDRESS [--token TOKEN] ARGS…`; its output.
    Errors name ARGS only, never the token."""
    argv = [annals, "--server", address]
    if token:
        argv += ["--token", token]
    result = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"annals {' '.join(args)} exited with {result.returncode}: "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def write_statement(work_dir, event_id, summary):
    """Writes a JPN-PRK statement of 2019-05-20 for `annals append`; its path."""
    event = {
        "id": event_id,
        "statement": {"speaker": "Dashboard browser test", "stance": "STANCE_NEUTRAL"},
        "source": ["JPN"], "target": ["PRK"],
        "occurred": {"start": {"year": 2019, "month": 5, "day": 20}},
        "summary": summary,
        "tags": ["dialogue"],
        "sources": [{"publisher": "annals tests", "title": "dashboard_browser_test.py"}],
    }
    path = pathlib.Path(work_dir) / f"{event_id}.json"
    path.write_text(json.dumps(event))
    return path


def create_token(annals, name, role):
    """`annals admin token create NAME ROLE`: (the token, its line for
    annalsd's --auth-tokens file)."""
    result = subprocess.run([annals, "admin", "token", "create", name, role],
                            capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) < 2:
        raise RuntimeError(f"annals admin token create {name} {role} exited with "
                           f"{result.returncode}: {result.stderr.strip()}")
    return lines[0].strip(), lines[1].strip()


class Relay:
    """A TCP relay on a free port of 127.0.0.1 to an HTTP port, between the
    browser and annalsd. It keeps the bytes the browser sends, to tell
    which request carried which headers, and drops the connections on
    demand, as a network would: cut() closes every open one, and the
    connections made until restore() wait unanswered (so that a retry in
    that time fails neither sooner nor otherwise than a slow network)."""

    def __init__(self, target_base):
        self.target = ("127.0.0.1", int(target_base.rstrip("/").rsplit(":", 1)[1]))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.lock = threading.Lock()
        self.sockets = set()  # open, both sides
        self.sent = []  # a bytearray per connection: what the browser sent
        self.held = []  # connections made while cut off
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # stop()
                return
            with self.lock:
                if self.down:
                    self.held.append(client)
                    self.sockets.add(client)
                    continue
            self._relay(client)

    def _relay(self, client):
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            self._drop(client)
            return
        sent = bytearray()
        with self.lock:
            self.sent.append(sent)
            self.sockets.update((client, upstream))
        threading.Thread(target=self._pump, args=(client, upstream, sent), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, source, sink, keep):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if keep is not None:
                    keep.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(sink)

    def _drop(self, sock):
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv
        except OSError:
            pass
        sock.close()

    def cut(self):
        with self.lock:
            self.down = True
            sockets = list(self.sockets)
        for sock in sockets:
            self._drop(sock)

    def restore(self):
        with self.lock:
            self.down = False
            held, self.held = self.held, []
        for client in held:
            if client.fileno() != -1:
                self._relay(client)

    def requests(self):
        """Every request the browser sent, in order per connection: (its
        request line, {lower-case header name: value})."""
        with self.lock:
            sent = [bytes(b) for b in self.sent]
        found = []
        for data in sent:
            # The dashboard sends GETs only: no bodies between the heads.
            for head in data.split(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                if not lines[0]:
                    continue
                fields = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
                found.append((lines[0], fields))
        return found

    def stop(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.listener.close()
        self.cut()


def start_browser(args, tmp_dir):
    """Chromium under chromedriver; its temporary files (with
    --disable-dev-shm-usage, its shared memory too) go to `tmp_dir`, which
    the caller removes: Chromium leaves a directory behind in TMPDIR."""
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--no-sandbox", "--headless=new", "--window-size=1280,900",
                 "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(args.chromedriver, env=dict(os.environ, TMPDIR=tmp_dir))
    return webdriver.Chrome(service=service, options=options)


class Run:
    """The browser, the server and what the checks collect."""

    def __init__(self, args, driver, server):
        self.args = args
        self.driver = driver
        self.server = server
        self.artifacts = pathlib.Path(args.artifacts)
        self.console = []  # every browser log entry of the run
        # The SEVERE console entries a check caused on purpose, each to be
        # logged once: (what the message starts with, what it holds).
        self.expected_severe = []

    def expect_severe(self, url, text):
        """Chrome logs a failed request as a SEVERE "network" entry, "URL -
        Failed to load resource: …": one for `url` (the whole URL) holding
        `text` is to come."""
        self.expected_severe.append((url, text))

    def wait(self, condition, what, timeout=PAGE_TIMEOUT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                lambda d: condition(d))
        except TimeoutException:
            raise CheckFailed(f"{what}: not within {timeout:g} s") from None

    def find(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def collect_console(self):
        self.console.extend(self.driver.get_log("browser"))

    def page_ready(self, extra=""):
        """Waits until the relationship page has finished loading its view."""
        return self.wait(lambda d: self.find(f'#relationship-page[data-state="ready"]{extra}'),
                         f"the {DYAD} page finished loading{extra}")

    def screenshot(self, name, full_page=True, pending_css=None):
        """Writes NAME.png; with full_page, the whole page's height, once
        nothing matches pending_css (what the page loads as it comes into
        view)."""
        path = self.artifacts / f"{name}.png"
        driver = self.driver
        if full_page:
            size = driver.get_window_size()
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(size["width"], min(max(height, 600) + 140, 12000))
            if pending_css:
                self.wait(lambda d: not self.find(pending_css), f"{pending_css} loaded for {name}.png")
            driver.save_screenshot(str(path))
            driver.set_window_size(size["width"], size["height"])
        else:
            driver.save_screenshot(str(path))
        return path
