"""What the Python client's tests share: the real annalsd and annals
programs, whose paths come from $ANNALSD_PATH and $ANNALS_PATH
(tests/python_client/CMakeLists.txt sets them), and reading test data."""

import json
import os
import pathlib
import subprocess
import time

ANNALSD = os.environ["ANNALSD_PATH"]
ANNALS = os.environ["ANNALS_PATH"]
_START_TIMEOUT = 20.0  # seconds


class Annalsd:
    """An annalsd over `directory`/data, logging to `directory`/annalsd.log.

    start() launches it on `listen` (by default a free port of 127.0.0.1,
    read from --port-file) with `flags` added and waits until it serves;
    stop() ends it with SIGTERM and waits. `address` is "127.0.0.1:PORT"
    once it has started; starting again reuses that port, so that clients
    can reconnect to it."""

    def __init__(self, directory: pathlib.Path, flags=()):
        self.directory = pathlib.Path(directory)
        self.flags = list(flags)
        self.address = None
        self._process = None

    def start(self) -> None:
        """Starts annalsd; raises RuntimeError (with its log) when it exits
        or does not serve within 20 s."""
        port_file = self.directory / "port"
        port_file.unlink(missing_ok=True)
        log = self.directory / "annalsd.log"
        argv = [ANNALSD, "--listen", self.address or "127.0.0.1:0",
                "--data-dir", str(self.directory / "data"),
                "--port-file", str(port_file), *self.flags]
        with open(log, "ab") as out:
            self._process = subprocess.Popen(argv, stdout=out, stderr=out)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            port = port_file.read_text() if port_file.exists() else ""
            if port.endswith("\n"):
                self.address = f"127.0.0.1:{port.strip()}"
                return
            if self._process.poll() is not None:
                code = self._process.returncode
                raise RuntimeError(f"annalsd exited with {code}: {log.read_text()}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"annalsd did not start within {_START_TIMEOUT} s: {log.read_text()}")

    def stop(self) -> None:
        """Stops annalsd (SIGTERM: it finishes what is in flight) and waits."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


def read_jsonl(path) -> list:
    """The objects of a JSON-lines file (deploy/seed/timeline.jsonl)."""
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines() if line]


def create_token(name: str, role: str) -> dict:
    """A new token from `annals admin token create --json`: {"name", "role",
    "token", "tokensFileLine"}."""
    result = subprocess.run([ANNALS, "--json", "admin", "token", "create", name, role],
                            check=True, capture_output=True, text=True)
    return json.loads(result.stdout)
