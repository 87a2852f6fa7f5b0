"""Servers under test and the load on them: gunicorn on a loopback port, one request
with http.client to check a URL, and wrk driven by bench/check.lua for the load."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from markupsafe import escape

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
CHECK_LUA = os.path.join(HERE, "check.lua")
HOST = "127.0.0.1"
START_TIMEOUT_S = 20
WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """A gunicorn master with WORKERS sync workers on a free loopback port.

    Its stderr goes to a file, read afterwards for errors such as "database is locked".
    A context manager: the server is stopped on leaving, also on an error.
    """

    def __init__(self, name: str, app_spec: str, env: dict, log_dir: str):
        self.name = name
        self.app_spec = app_spec
        self.env = env
        self.log_path = os.path.join(log_dir, f"{name}.stderr")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [GUNICORN, "--workers", str(WORKERS), "--bind", f"{HOST}:{self.port}", "--log-level", "warning",
                 self.app_spec],
                cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log,
            )
        self._wait_until_listening()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server {self.name} ({self.app_spec}) did not start:\n{self.stderr()[-2000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def stderr(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def worker_pids(self) -> list[int]:
        """The master's child processes, read from /proc."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                    ppid = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.process.pid:
                children.append(int(entry))
        return sorted(children)


    def cpu_ticks(self) -> int:
        """The CPU time (user + system, in clock ticks) its workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, ValueError, IndexError):
                continue
        return total

    def settle(self, quiet_s: float = 0.2, timeout_s: float = 10) -> None:
        """Wait until the workers have finished what a load left them (requests still queued
        when wrk stopped): their CPU time stands still for ``quiet_s``. So that the next
        load, on this server or another, does not share the CPU with this one's tail."""
        deadline = time.monotonic() + timeout_s
        last = self.cpu_ticks()
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self.cpu_ticks()
            if now == last:
                return
            last = now


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        kilobytes = re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.MULTILINE).group(1)
    return int(kilobytes) / 1024


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str


def fetch(port: int, path: str, method: str = "GET", headers: dict | None = None, body: str | None = None) -> Answer:
    connection = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


@dataclass
class Expect:
    """What a right answer looks like: its status, and a heading (the page's ``<h1>``),
    a literal text in the body, or a literal text in the Location header."""

    status: int = 200
    heading: str | None = None
    text: str | None = None
    location: str | None = None

    def problem(self, answer: Answer) -> str | None:
        """Why ``answer`` is not the one asked for, or None."""
        if answer.status != self.status:
            return f"status {answer.status}, expected {self.status}"
        if answer.headers.get("HX-Redirect"):
            return f"HX-Redirect to {answer.headers['HX-Redirect']}"
        if self.heading and not re.search(rf"<h1[^>]*>\s*{re.escape(self._html_heading)}\s*</h1>", answer.text):
            return f"no heading {self.heading!r}"
        if self.text and self.text not in answer.text:
            return f"no text {self.text!r}"
        if self.location and self.location not in (answer.headers.get("Location") or ""):
            return f"Location {answer.headers.get('Location')!r}, expected {self.location!r}"
        return None

    @property
    def _html_heading(self) -> str:
        return str(escape(self.heading))

    def lua_page_pattern(self) -> str | None:
        if self.heading:
            return "<h1[^>]*>%s*" + _lua_pattern_escape(self._html_heading) + "%s*</h1>"
        if self.text:
            return _lua_pattern_escape(self.text)
        return None


@dataclass
class Target:
    """One request of a load: sent as is, or with "&version=<n>" counting up (a save);
    with ``vary``, from a client address of its own each time and every "{n}" in the
    body replaced by the number of the send (bench/check.lua)."""

    path: str
    headers: dict
    method: str = "GET"
    body: str | None = None
    version: int | None = None
    vary: bool = False


@dataclass
class Load:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: dict = field(default_factory=dict)
    statuses: str = ""  # the unexpected statuses and their counts, "409:12,500:1"

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error_text(self) -> str:
        text = ", ".join(f"{name} {count}" for name, count in self.errors.items() if count)
        return f"{text} (status:count {self.statuses})" if self.statuses else text


def run_wrk(port: int, targets: list[Target], expect: Expect, script_dir: str, *, connections: int,
            duration_s: int) -> Load:
    """wrk with one thread (it leaves the CPU to the server), the targets sent in turn."""
    script = os.path.join(script_dir, "wrk-script.lua")
    with open(script, "w", encoding="ascii") as handle:
        handle.write(_prelude(targets, expect))
        with open(CHECK_LUA, encoding="ascii") as check:
            handle.write(check.read())
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--timeout", "5s", "--latency", "-s", script,
               f"http://{HOST}:{port}/"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration_s + 30).stdout
    match = re.search(r"^bench-result (.*)$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    values = dict(pair.split("=") for pair in match.group(1).split())
    unexpected = values.pop("unexpected")
    values = {name: int(value) for name, value in values.items()}
    return Load(
        requests=values["requests"],
        duration_s=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        errors={name: values[name] for name in ("socket_errors", "wrong_status", "hx_redirect", "wrong_page")},
        statuses="" if unexpected == "-" else unexpected,
    )


def _prelude(targets: list[Target], expect: Expect) -> str:
    specs = [
        {"method": t.method, "path": t.path, "headers": t.headers, "body": t.body, "version": t.version,
         "vary": t.vary or None}
        for t in targets
    ]
    expected = {"status": expect.status, "page": expect.lua_page_pattern(), "location": expect.location}
    return f"targets = {_lua(specs)}\nexpect = {_lua(expected)}\n\n"


def _lua(value) -> str:
    """A Lua literal for a Python value (str, int, None, list, dict)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(
            chr(byte) if 32 <= byte < 127 and chr(byte) not in '"\\' else f"\\{byte:03d}"
            for byte in value.encode("utf-8")
        ) + '"'
    if isinstance(value, list):
        return "{" + ", ".join(_lua(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(key)}] = {_lua(item)}" for key, item in value.items() if item is not None) + "}"
    raise TypeError(type(value))


def _lua_pattern_escape(text: str) -> str:
    return re.sub(r"([\^$()%.\[\]*+\-?])", r"%\1", text)
