"""What the dashboard's browser test stands on: annalsd on a temporary data
directory, the annals CLI, headless Chromium driven by Selenium, and Run,
which holds them and waits for what the page shows."""

import pathlib
import signal
import subprocess
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
    127.0.0.1, read from their port files; its log goes to `log_path`."""

    def __init__(self, program, work_dir, log_path, assets):
        self.program = program
        self.work_dir = pathlib.Path(work_dir)
        self.log_path = log_path
        self.assets = assets
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


def run_cli(annals, address, *args):
    result = subprocess.run([annals, "--server", address, *args],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"annals {' '.join(args)} exited with {result.returncode}: "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def start_browser(args):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--no-sandbox", "--headless=new", "--window-size=1280,900",
                 "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(args.chromedriver), options=options)


class Run:
    """The browser, the server and what the checks collect."""

    def __init__(self, args, driver, server):
        self.args = args
        self.driver = driver
        self.server = server
        self.artifacts = pathlib.Path(args.artifacts)
        self.console = []  # every browser log entry of the run

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
