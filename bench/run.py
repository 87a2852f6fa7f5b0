"""Benchmarks of SPEC §8 that apply to steps 1 to 3 (written when 4 to 10 were placeholders).
Prints each figure beside its target and, last, "bench: N/M targets met".

Over HTTP, on loopback, every server under gunicorn with 2 sync workers and the same
environment (database and registry in a temporary directory, secret key "bench", demo
mode), the load driven by wrk with one thread and bench/check.lua, which counts as an
error every answer with an unexpected status, any HX-Redirect header, or a page other
than the one asked for (checked by its <h1>). Every URL is first checked once with
http.client. Drafts are made directly in the database with the domain layer and held
by a session cookie signed in-process (bench/fixtures.py), never through the e-mail link;
before every load the cookie's last-seen time is re-signed as of now, as a browser holds
it (the app would otherwise resend a cookie a minute old on every answer).

1. Throughput of the htmx fragments (HX-Request: true) of step 1 (anonymous, with the
   cookie a browser has after its first page) and of steps 2 and 3 for a one-code
   practice and a 1,000-code organisation, against a Flask hello world that reads the
   same signed session cookie (target: at least 0.5x); a bare hello world is printed
   for reference. All servers run throughout. Each of ROUNDS rounds loads (wrk -t1 -c8,
   ROUND_S seconds each) the bare hello world, then the floor, and then every fragment
   followed by the floor again (A, B, A, B ...): a fragment's ratio is taken against the
   mean of the floor just before and just after it, and the median over the rounds is
   printed, so that the noise of a busy machine cancels.
2. Latency under load: 50 connections without think time, p99 of the GET (whole page)
   of steps 1, 2 and 3 and of the POST of step 3 (data_correct=yes on 50 drafts whose
   step 3 is saved already, in turn, each with its own cookie and CSRF token and the
   version counting up with every save: 303), target p99 < 100 ms and no error. Then 50 applicants at once (Python threads), each
   saving step 3 on its own draft again and again with the version read from the page:
   no error, and no "database is locked" in the server's stderr.
3. Memory: resident memory (VmRSS) of each worker of a fresh server after 10,000 mixed
   step GETs (fragments and whole pages in turn, wrk bursts of a second): < 100 MB.
4. In-process (Flask test client): the server time of the flow of steps 1 to 3 (target
   for steps 1 to 9: < 150 ms, printed as partial); the weight of every page so far,
   HTML + its CSS and JavaScript, gzip-compressed (< 30 KB); the time of step 3 for an
   organisation of 1,000 codes against one of 10 codes (<= 2x).
5. Back office, in-process: 100,000 applications made with direct INSERTs
   (bench/backoffice.py), a staff user logged in through the test client; the server
   time (the WSGI call) of the list, a status filter, searches on a KvK number, a
   company-name prefix (narrow and broad) and a reference, and a deep page: each < 50 ms
   (median of 11 after a warm-up; each a target of its own). A missed one is profiled.

`bench/run.py --only backoffice` (repeatable; http, in-process, backoffice) runs some sections.
"""

import contextlib
import gzip
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench import fixtures  # noqa: E402
from bench.loadgen import Expect, Server, Target, fetch, resident_mb, run_wrk  # noqa: E402

ROUNDS = 3
ROUND_S = 2
WARM_UP_S = 1
THROUGHPUT_CONNECTIONS = 8
LATENCY_CONNECTIONS = 50
LATENCY_S = 5
APPLICANTS = 50
SAVES_PER_APPLICANT = 4
MEMORY_REQUESTS = 10_000
MEMORY_MAX_BURSTS = 300
FLOWS = 5
SCALING_SAMPLES = 41
FRAGMENT = {"HX-Request": "true"}

TARGET_RATIO = 0.5
TARGET_P99_MS = 100
TARGET_FLOW_MS = 150
TARGET_PAGE_KB = 30
TARGET_SCALING = 2.0
TARGET_ROW_SAVE = 1.2
TARGET_RSS_MB = 100
BACKOFFICE_APPLICATIONS = 100_000
BACKOFFICE_RUNS = 11  # after one warm-up each, in rounds that take every URL in turn
TARGET_BACKOFFICE_MS = 50


# --------------------------------------------------------------------------- report


@dataclass
class Figure:
    label: str
    value: float | None  # None: could not be measured
    unit: str
    op: str  # ">=", "<", "<="
    target: float
    note: str = ""
    errors: str = ""

    def met(self) -> bool:
        if self.value is None or self.errors:
            return False
        return {">=": self.value >= self.target, "<": self.value < self.target,
                "<=": self.value <= self.target}[self.op]

    def verdict(self) -> str:
        if self.value is None:
            return "MISSED (not measured)"
        if self.errors:
            return f"MISSED by errors ({self.errors})"
        if self.met():
            return "met"
        return f"MISSED by {_amount(abs(self.value - self.target), self.unit)}"


def _amount(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "":
        return f"{value:g}"
    return f"{value:.1f} {unit}"


class Report:
    def __init__(self):
        self.figures: list[Figure] = []

    def section(self, title: str) -> None:
        print(f"\n== {title}", flush=True)

    def info(self, label: str, text: str) -> None:
        print(f"  {label:<44} {text}", flush=True)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        value = "-" if figure.value is None else _amount(figure.value, figure.unit)
        target = f"{figure.op} {_amount(figure.target, figure.unit)}"
        note = f"  [{figure.note}]" if figure.note else ""
        print(f"  {figure.label:<44} {value:>10}  target {target:<10} {figure.verdict()}{note}", flush=True)

    def missed(self, label: str, unit: str, op: str, target: float, reason: str) -> None:
        self.add(Figure(label, None, unit, op, target, note=reason))

    def last_line(self) -> str:
        met = sum(figure.met() for figure in self.figures)
        return f"bench: {met}/{len(self.figures)} targets met"


# --------------------------------------------------------------------------- setup


@dataclass
class Visitor:
    """A browser on the servers' database: its Cookie header and, once it has seen a
    form, the hidden inputs (csrf_token, version)."""

    cookie: str
    hidden: dict = field(default_factory=dict)
    key: str | None = None


@dataclass
class Setup:
    tmp: str
    env: dict
    app: object  # the app in-process, with the servers' configuration
    titles: dict
    registry_path: str
    database: str


def prepare(tmp: str) -> Setup:
    from app import create_app

    registry_path = fixtures.write_registry(tmp)
    database = os.path.join(tmp, "servers.db")
    env = {**os.environ, "AANSLUITEN_DATABASE": database, "AANSLUITEN_SECRET_KEY": "bench",
           "AANSLUITEN_DEMO": "true", "AANSLUITEN_REGISTRY": registry_path, "PYTHONPATH": ROOT}
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True, "REGISTRY": registry_path})
    env["BENCH_SESSION_COOKIE"] = app.config["SESSION_COOKIE_NAME"]
    from routes.pages import SESSION_DRAFT
    env["BENCH_SESSION_KEY"] = SESSION_DRAFT
    return Setup(tmp, env, app, _titles(app), registry_path, database)


def _titles(app) -> dict:
    """Each step's heading, as the app renders it in Dutch."""
    from routes.wizard import TITLES

    with app.test_request_context():
        return {number: str(title) for number, title in TITLES.items()}


def open_db(path: str):
    from onboarding import store

    db = store.connect(path)
    store.migrate(db)
    return db


def make_drafts(setup: Setup, db, count: int, kvk: str | None, label: str, confirmed: bool = False) -> list[str]:
    from onboarding.registry import Registry

    registry = Registry.from_file(setup.registry_path)
    return [fixtures.create_draft(db, registry, f"{label}-{index}@bench.example", kvk, confirmed)
            for index in range(count)]


def visit(port: int, cookie: str, path: str, expect: Expect) -> Visitor:
    """A browser's first page with ``cookie``: the cookie it holds afterwards (with its
    CSRF token) and the page's hidden inputs. Raises when the page is not right."""
    answer = fetch(port, path, headers={"Cookie": cookie} if cookie else {})
    if problem := expect.problem(answer):
        raise RuntimeError(f"GET {path}: {problem}")
    form = fixtures.post_form(answer.text, path)
    return Visitor(fixtures.updated_cookie(cookie, answer.headers.get("Set-Cookie")), form["hidden"])


def fresh(app, headers: dict) -> dict:
    """``headers`` with the session cookie re-signed as of now (fixtures.refreshed)."""
    if "Cookie" not in headers:
        return headers
    return {**headers, "Cookie": fixtures.refreshed(app, headers["Cookie"])}


def check(port: int, path: str, headers: dict, expect: Expect) -> str | None:
    """Why one GET of ``path`` is not right, or None."""
    try:
        return expect.problem(fetch(port, path, headers=headers))
    except OSError as error:
        return f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------------- 1. throughput


@dataclass
class Subject:
    """One thing loaded in the throughput rounds."""

    label: str
    server: Server
    path: str
    headers: dict
    expect: Expect
    app: object = None  # to re-sign the session cookie before each load
    rps: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # against the floor loaded just before and after
    errors: dict = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)

    def load(self, seconds: int) -> float:
        headers = fresh(self.app, self.headers) if self.app else self.headers
        result = run_wrk(self.server.port, [Target(self.path, headers)], self.expect,
                         os.path.dirname(self.server.log_path), connections=THROUGHPUT_CONNECTIONS,
                         duration_s=seconds)
        self.rps.append(result.rps)
        for name, count in result.errors.items():
            self.errors[name] = self.errors.get(name, 0) + count
        if result.statuses:
            self.statuses.append(result.statuses)
        return result.rps

    def median(self) -> float:
        return statistics.median(self.rps)

    def error_text(self) -> str:
        text = ", ".join(f"{name} {count}" for name, count in self.errors.items() if count)
        return f"{text} (status:count {' '.join(self.statuses)})" if self.statuses else text


def throughput(report: Report, app, hello: Server, floor: Server, visitor: Visitor, subjects: list[Subject]) -> None:
    """Rounds of: bare, floor, fragment 1, floor, fragment 2, floor, ...; each fragment's
    ratio is taken against the mean of the floor loaded just before and just after it."""
    report.section(f"1. Throughput of htmx fragments (wrk -t1 -c{THROUGHPUT_CONNECTIONS}, {ROUNDS} rounds of "
                   f"{ROUND_S} s per load, each fragment between two loads of the floor; medians)")
    bare = Subject("hello world (bare)", hello, "/", {}, Expect(text="Hello, World!"))
    reference = floor_subject(floor, visitor, app)
    for subject in (bare, reference):
        if problem := check(subject.server.port, subject.path, subject.headers, subject.expect):
            raise RuntimeError(f"{subject.label}: {problem}")
    fragments = []
    for subject in subjects:
        if problem := check(subject.server.port, subject.path, subject.headers, subject.expect):
            report.missed(subject.label, "x", ">=", TARGET_RATIO, f"not loaded: {problem}")
        else:
            fragments.append(subject)
    for subject in (bare, reference, *fragments):
        subject.load(WARM_UP_S)
        subject.rps.clear()
    for _round in range(ROUNDS):
        bare.load(ROUND_S)
        before = reference.load(ROUND_S)
        for subject in fragments:
            rps = subject.load(ROUND_S)
            after = reference.load(ROUND_S)
            subject.ratios.append(rps / ((before + after) / 2))
            before = after
    report.info(bare.label, f"{bare.median():8.0f} req/s  (reference){_errors_suffix(bare)}")
    report.info(reference.label, f"{reference.median():8.0f} req/s  (the floor){_errors_suffix(reference)}")
    for subject in fragments:
        report.add(Figure(subject.label, statistics.median(subject.ratios), "x", ">=", TARGET_RATIO,
                          note=f"{subject.median():.0f} req/s; ratio per round "
                               + " ".join(f"{ratio:.2f}" for ratio in subject.ratios),
                          errors=subject.error_text() or _errors_of(reference)))


def _errors_of(floor: Subject) -> str:
    return f"the floor: {floor.error_text()}" if floor.error_text() else ""


def _errors_suffix(subject: Subject) -> str:
    return f"  ERRORS: {subject.error_text()}" if subject.error_text() else ""


def floor_subject(floor: Server, visitor: Visitor, app) -> Subject:
    """The hello world that reads the session cookie of ``visitor``'s draft."""
    return Subject("hello world reading the session", floor, "/", {"Cookie": visitor.cookie},
                   Expect(text=f"Hello, {visitor.key}!"), app)


def fragment_subjects(setup: Setup, app_server: Server, anonymous: Visitor, small: Visitor,
                      large: Visitor) -> list[Subject]:
    titles = setup.titles
    subjects = [Subject("step 1 fragment, anonymous", app_server, "/stap/1", {**FRAGMENT, "Cookie": anonymous.cookie},
                        Expect(heading=titles[1]), setup.app)]
    for name, visitor in (("1-code practice", small), ("1,000-code organisation", large)):
        for number in (2, 3):
            headers = {**FRAGMENT, "Cookie": visitor.cookie}
            subjects.append(Subject(f"step {number} fragment, {name}", app_server, f"/stap/{number}", headers,
                                    Expect(heading=titles[number]), setup.app))
    return subjects


# --------------------------------------------------------------------------- 2. latency


def latency(report: Report, setup: Setup, server: Server, visitors: dict, posters: dict) -> None:
    report.section(f"2. Latency under load (wrk -t1 -c{LATENCY_CONNECTIONS}, {LATENCY_S} s, no think time, p99)")
    titles = setup.titles
    gets = [("GET step 1, anonymous", "/stap/1", visitors["anonymous"], 1)]
    for name, size in (("1-code practice", "small"), ("1,000-code organisation", "large")):
        gets += [(f"GET step {number}, {name}", f"/stap/{number}", visitors[size], number) for number in (2, 3)]
    for label, path, visitor, number in gets:
        target = Target(path, fresh(setup.app, {"Cookie": visitor.cookie}))
        _latency_figure(report, server, label, [target], Expect(heading=titles[number]))
    for name, size in (("1-code practice", "small"), ("1,000-code organisation", "large")):
        targets = [_save_target(setup.app, visitor) for visitor in posters[size]]
        _latency_figure(report, server, f"POST step 3, {name}", targets, Expect(status=303, location="/stap/4"),
                        note=f"{len(targets)} drafts in turn")


def _save_target(app, visitor: Visitor) -> Target:
    """A save of step 3 by ``visitor``, based on the version its page showed and counting up."""
    fields = {name: value for name, value in visitor.hidden.items() if name != "version"}
    body = urlencode({**fields, "data_correct": "yes"})
    headers = fresh(app, {"Cookie": visitor.cookie, "Content-Type": "application/x-www-form-urlencoded"})
    return Target("/stap/3", headers, method="POST", body=body, version=int(visitor.hidden["version"]))


def _latency_figure(report: Report, server: Server, label: str, targets: list[Target], expect: Expect,
                    note: str = "") -> None:
    if targets[0].method == "GET" and (problem := check(server.port, targets[0].path, targets[0].headers, expect)):
        report.missed(label, "ms", "<", TARGET_P99_MS, f"not loaded: {problem}")
        return
    load = run_wrk(server.port, targets, expect, os.path.dirname(server.log_path),
                   connections=LATENCY_CONNECTIONS, duration_s=LATENCY_S)
    details = f"p50 {load.p50_ms:.1f} ms, {load.rps:.0f} req/s" + (f"; {note}" if note else "")
    report.add(Figure(label, load.p99_ms, "ms", "<", TARGET_P99_MS, note=details, errors=load.error_text()))


def concurrent_saves(report: Report, server: Server, visitors: list[Visitor]) -> None:
    """APPLICANTS threads, each saving step 3 on its own draft SAVES_PER_APPLICANT times."""
    start = threading.Barrier(len(visitors))
    with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
        problems = list(pool.map(lambda visitor: _applicant(server.port, visitor, start), visitors))
    errors = [problem for problem in problems if problem]
    locked = server.stderr().count("database is locked")
    label = f"{len(visitors)} applicants saving step 3 at once"
    detail = f"{len(visitors) * SAVES_PER_APPLICANT} saves; errors {len(errors)}, 'database is locked' {locked}"
    if errors:
        detail += f"; first: {errors[0]}"
    report.add(Figure(label, len(errors) + locked, "", "<=", 0, note=detail))


def _applicant(port: int, visitor: Visitor, start: threading.Barrier) -> str | None:
    """One applicant: read step 3, save it, SAVES_PER_APPLICANT times. The first problem."""
    cookie = visitor.cookie
    try:
        start.wait(timeout=30)
        for _ in range(SAVES_PER_APPLICANT):
            page = fetch(port, "/stap/3", headers={"Cookie": cookie})
            if page.status != 200:
                return f"GET /stap/3: status {page.status}"
            cookie = fixtures.updated_cookie(cookie, page.headers.get("Set-Cookie"))
            body = urlencode({**fixtures.post_form(page.text, "/stap/3")["hidden"], "data_correct": "yes"})
            saved = fetch(port, "/stap/3", "POST", {"Cookie": cookie,
                                                   "Content-Type": "application/x-www-form-urlencoded"}, body)
            if saved.status != 303 or not (saved.headers.get("Location") or "").endswith("/stap/4"):
                return f"POST /stap/3: status {saved.status}, Location {saved.headers.get('Location')}"
            cookie = fixtures.updated_cookie(cookie, saved.headers.get("Set-Cookie"))
    except (OSError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def server_errors(report: Report, server: Server) -> None:
    text = server.stderr()
    tracebacks = text.count("Traceback (most recent call last)")
    report.info(f"{server.name} server stderr", f"{tracebacks} traceback(s), "
                f"{text.count('database is locked')} 'database is locked', {len(text.splitlines())} line(s)")
    if tracebacks:
        last = text[text.rindex("Traceback (most recent call last)"):].strip().splitlines()
        report.info("  last traceback ends with", last[-1][:200])


# --------------------------------------------------------------------------- 3. memory


def memory(report: Report, setup: Setup, subjects: list[Subject]) -> None:
    """A fresh server, loaded with wrk in bursts of one second, every step subject as
    fragment and as whole page in turn, until it has answered MEMORY_REQUESTS; then
    each worker's VmRSS."""
    report.section(f"3. Memory of a worker after {MEMORY_REQUESTS:,} mixed step GETs (fresh server)")
    variants = [(subject.path, headers, subject.expect) for subject in subjects
                for headers in (subject.headers, {k: v for k, v in subject.headers.items() if k != "HX-Request"})]
    requests, errors = 0, []
    with Server("memory", "app:create_app()", setup.env, setup.tmp) as server:
        for burst in range(MEMORY_MAX_BURSTS):
            if requests >= MEMORY_REQUESTS:
                break
            path, headers, expect = variants[burst % len(variants)]
            load = run_wrk(server.port, [Target(path, fresh(setup.app, headers))], expect, setup.tmp,
                           connections=THROUGHPUT_CONNECTIONS, duration_s=1)
            requests += load.requests
            if load.error_text():
                errors.append(f"{path}: {load.error_text()}")
        sizes = {pid: resident_mb(pid) for pid in server.worker_pids()}
        server_errors(report, server)
    if not sizes:
        report.missed("worker resident memory (largest)", "MB", "<", TARGET_RSS_MB, "no worker found")
        return
    note = (f"{requests} requests{'' if requests >= MEMORY_REQUESTS else ' ONLY'}; workers "
            + ", ".join(f"{pid}: {size:.1f} MB" for pid, size in sizes.items()))
    report.add(Figure("worker resident memory (largest)", max(sizes.values()), "MB", "<", TARGET_RSS_MB,
                      note=note, errors="; ".join(errors)))


# --------------------------------------------------------------------------- 4. in-process


def in_process(report: Report, setup: Setup) -> None:
    from app import create_app

    database = os.path.join(setup.tmp, "in-process.db")
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True, "REGISTRY": setup.registry_path})
    report.section("4. In-process (Flask test client)")
    with contextlib.suppress(Exception):
        _flow(app, "warm-up@bench.example")  # templates compiled, registry loaded
    try:
        client = flow_figure(report, app)
    except Exception as error:  # noqa: BLE001 - the figure says what went wrong
        report.missed("flow steps 1-3, server time (partial)", "ms", "<", TARGET_FLOW_MS, _why(error))
        client = None
    db = open_db(database)
    try:
        guarded(report, "page weights", lambda: page_weights(report, app, setup, client, db))
        guarded(report, "step 3 at 1,000 codes", lambda: scaling(report, app, setup, db))
        guarded(report, "step 6 at 1,000 codes", lambda: step_6_scaling(report, app, setup, db))
        guarded(report, "step 8 at 1,000 codes", lambda: step_8_scaling(report, app, setup, db))
    finally:
        db.close()


def _link_from_outbox(app, email: str) -> str:
    """The path of the e-mail link just sent to ``email``. The one place that knows how
    the link reaches the applicant: adapt it when that changes. Today: the newest
    outbox row holds the body with a placeholder for the link, and the link itself
    sealed beside it; mail.bodies() puts them together as the sent mail has them."""
    from onboarding import mail
    from routes.pages import get_db

    with app.app_context():
        row = get_db().conn.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
        text, _html = mail.bodies(row, app.extensions["aansluiten.seal"])
    match = re.search(r"/bevestig/[\w.~-]+", text)
    if row["recipient"] != email or not match:
        raise RuntimeError(f"no /bevestig/<token> link in the newest outbox mail to {email}")
    return match.group(0)


def _flow(app, email: str):
    """Steps 1 to 3 as a browser without JavaScript goes through them; the client and
    the time of every request."""
    client = app.test_client()
    timings = []

    def timed(method: str, url: str, **kwargs):
        started = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        timings.append(time.perf_counter() - started)
        return response

    def submit(url: str, data: dict, page=None, action: str | None = None):
        """Post the form of ``page`` (by default: GET ``url``) that posts to ``action``
        (by default ``url``; None: the first form of the page that posts)."""
        page = page or timed("get", url)
        form = fixtures.post_form(page.get_data(as_text=True), action)
        action = form["action"] or url
        response = timed("post", action, data={**form["hidden"], **data})
        if response.status_code != 303:
            raise RuntimeError(f"POST {action}: status {response.status_code}, expected 303")
        return response

    submit("/stap/1", {"email": email}, action="/stap/1")
    link_page = timed("get", _link_from_outbox(app, email), follow_redirects=True)
    submit(link_page.request.path, {}, page=link_page)  # the link page's own form, wherever it posts
    kvk = "50000004"  # the demo hospital group, 177 codes
    submit("/stap/2", {"kvk_number": kvk, "agb_code": _first_code(app, kvk)}, action="/stap/2")
    submit("/stap/3", {"data_correct": "yes"}, action="/stap/3")
    return client, timings


def _first_code(app, kvk: str) -> str:
    from onboarding.registry import Registry

    return Registry.from_file(app.config["REGISTRY"]).active_agb_codes(kvk)[0].code


def flow_figure(report: Report, app):
    totals = []
    client = None
    for index in range(FLOWS):
        client, timings = _flow(app, f"flow-{index}@bench.example")
        totals.append(sum(timings) * 1000)
    report.add(Figure("flow steps 1-3, server time (partial)", statistics.median(totals), "ms", "<", TARGET_FLOW_MS,
                      note=f"median of {FLOWS} flows of {len(timings)} requests; hospital group, 177 codes; "
                           "the target is for steps 1-9"))
    return client


PAGES = ("/", "/stap/1", "/stap/1/verstuurd", "/stap/2", "/stap/3", "/stap/3/onjuist", "/stap/4")


def page_weights(report: Report, app, setup: Setup, client, db) -> None:
    """Each page, HTML + the CSS and JavaScript it links, gzip-compressed."""
    if client is None:  # the flow failed: a draft made directly, at step 4
        client = app.test_client()
        key = make_drafts(setup, db, 1, fixtures.ORGANISATIONS[1000], "weight")[0]
        _set_cookie(app, client, key)
        _confirm(client)
    for path in PAGES:
        _weigh(report, client, path, f"page {path}")
    large = app.test_client()
    _set_cookie(app, large, make_drafts(setup, db, 1, fixtures.ORGANISATIONS[1000], "weight-large")[0])
    _weigh(report, large, "/stap/3", "page /stap/3, 1,000-code organisation")


def _confirm(client) -> None:
    form = fixtures.post_form(client.get("/stap/3").get_data(as_text=True), "/stap/3")
    client.post("/stap/3", data={**form["hidden"], "data_correct": "yes"})


def _set_cookie(app, client, key: str) -> None:
    name, _, value = fixtures.session_cookie(app, key).partition("=")
    client.set_cookie(name, value)


def _weigh(report: Report, client, path: str, label: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        report.missed(label, "KB", "<", TARGET_PAGE_KB, f"status {response.status_code}")
        return
    html = response.get_data()
    assets = re.findall(rb'<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"', html)
    asset_bytes = sum(len(gzip.compress(client.get(url.decode()).get_data())) for url in assets)
    page_bytes = len(gzip.compress(html))
    report.add(Figure(label, (page_bytes + asset_bytes) / 1024, "KB", "<", TARGET_PAGE_KB,
                      note=f"HTML {page_bytes / 1024:.1f} KB + {len(assets)} assets {asset_bytes / 1024:.1f} KB"))


def scaling(report: Report, app, setup: Setup, db) -> None:
    """Server time of GET step 3 at 1,000 codes against 10 codes (and 1, for reference)."""
    clients = {}
    for count, kvk in fixtures.ORGANISATIONS.items():
        clients[count] = app.test_client()
        _set_cookie(app, clients[count], make_drafts(setup, db, 1, kvk, f"scaling-{count}")[0])
    samples: dict[int, list[float]] = {count: [] for count in clients}
    counts = list(clients)
    for index in range(SCALING_SAMPLES + 5):
        for count in counts[index % 3:] + counts[:index % 3]:  # each size first in turn
            started = time.perf_counter()
            response = clients[count].get("/stap/3")
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET /stap/3 ({count} codes): status {response.status_code}")
            if index >= 5:  # the first ones warm up
                samples[count].append(elapsed * 1000)
    medians = {count: statistics.median(values) for count, values in samples.items()}
    report.add(Figure("step 3 at 1,000 codes vs 10 codes", medians[1000] / medians[10], "x", "<=", TARGET_SCALING,
                      note=" / ".join(f"{count} codes {median:.1f} ms" for count, median in medians.items())
                           + f"; median of {SCALING_SAMPLES}"))


def _at_step_6(app, setup: Setup, db, count: int, label: str):
    """A client whose draft of the ``count``-code organisation has steps 1-5 done, and the draft."""
    from onboarding import drafts, people

    key = make_drafts(setup, db, 1, fixtures.ORGANISATIONS[count], f"{label}-{count}", confirmed=True)[0]
    for role in (people.SIGNATORY, people.MAIN_CONTACT):
        draft = drafts.by_key(db, key)
        signatory = next(officer for officer in draft.company.officers if people.may_sign(officer))
        people.save_person(db, draft, draft.version, role, people.Person(
            initials="B.", prefix="", surname="Bench", birth_date="1970-01-01", email="b@bench.example",
            mobile="+31612345678", officer_id=signatory.id, employed=True))
    client = app.test_client()
    _set_cookie(app, client, key)
    return client, drafts.by_key(db, key)


def step_8_scaling(report: Report, app, setup: Setup, db) -> None:
    """Step 8 at 1,000 codes against 10 (<= 2x): the services with the codes that give access."""
    clients = {}
    for count in (10, 1000):
        client, _ = _at_step_6(app, setup, db, count, "step8")
        for page, action in (("/stap/6", "/stap/6/aanvullen"), ("/stap/6", "/stap/6"), ("/stap/7", "/stap/7")):
            form = fixtures.post_form(client.get(page).get_data(as_text=True), action)
            client.post(action, data=form["hidden"])
        clients[count] = client
    samples: dict[int, list[float]] = {10: [], 1000: []}
    for index in range(SCALING_SAMPLES + 5):
        for count in ((10, 1000) if index % 2 else (1000, 10)):
            started = time.perf_counter()
            response = clients[count].get("/stap/8")
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET /stap/8 ({count} codes): status {response.status_code}")
            if index >= 5:
                samples[count].append(elapsed * 1000)
    medians = {count: statistics.median(values) for count, values in samples.items()}
    report.add(Figure("step 8 page at 1,000 codes vs 10 codes", medians[1000] / medians[10], "x", "<=",
                      TARGET_SCALING, note=" / ".join(f"{count} codes {median:.2f} ms" for count, median in
                                                      medians.items()) + f"; median of {SCALING_SAMPLES}"))


def step_6_scaling(report: Report, app, setup: Setup, db) -> None:
    """Step 6 at 1,000 codes against 10: the page (<= 2x) and one contact row saved with htmx
    (<= 1.2x), server time in-process, sizes alternating."""
    clients, codes = {}, {}
    for count in (10, 1000):
        clients[count], draft = _at_step_6(app, setup, db, count, "step6")
        codes[count] = (draft.id, db.conn.execute(
            "SELECT agb_code FROM draft_agb_codes WHERE draft_id = ? ORDER BY position DESC LIMIT 1",
            (draft.id,)).fetchone()[0])
    token = {count: fixtures.post_form(client.get("/stap/6").get_data(as_text=True), "/stap/6")["hidden"]
             ["csrf_token"] for count, client in clients.items()}
    pages: dict[int, list[float]] = {10: [], 1000: []}
    saves: dict[int, list[float]] = {10: [], 1000: []}
    for index in range(SCALING_SAMPLES + 5):
        for count in ((10, 1000) if index % 2 else (1000, 10)):
            client, (draft_id, code) = clients[count], codes[count]
            started = time.perf_counter()
            response = client.get("/stap/6")
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET /stap/6 ({count} codes): status {response.status_code}")
            version = db.conn.execute("SELECT version FROM draft_agb_codes WHERE draft_id = ? AND agb_code = ?",
                                      (draft_id, code)).fetchone()[0]
            started = time.perf_counter()
            saved = client.post(f"/stap/6/code/{code}/1", headers={**FRAGMENT, "HX-Target": f"row-{code}"}, data={
                "csrf_token": token[count], "version": version, "initials": "K.", "prefix": "",
                "surname": "Contact" + "abcdefghij"[index % 10], "email": "k@bench.example",
                "phone": "030-2345678"})
            save_elapsed = time.perf_counter() - started
            if saved.status_code != 200 or f'id="row-{code}"' not in saved.get_data(as_text=True):
                raise RuntimeError(f"POST row ({count} codes): status {saved.status_code}")
            if index >= 5:
                pages[count].append(elapsed * 1000)
                saves[count].append(save_elapsed * 1000)
    for label, samples, target in (("step 6 page at 1,000 codes vs 10 codes", pages, TARGET_SCALING),
                                   ("step 6 row save at 1,000 codes vs 10 codes", saves, TARGET_ROW_SAVE)):
        medians = {count: statistics.median(values) for count, values in samples.items()}
        report.add(Figure(label, medians[1000] / medians[10], "x", "<=", target,
                          note=" / ".join(f"{count} codes {median:.2f} ms" for count, median in medians.items())
                               + f"; median of {SCALING_SAMPLES}"))


# --------------------------------------------------------------------------- 5. back office


def backoffice_list(report: Report, setup: Setup) -> None:
    """The back office's list at BACKOFFICE_APPLICATIONS applications (bench/backoffice.py
    makes them with direct INSERTs in a database of its own): server time of each GET, the
    WSGI call of the app in-process with the logged-in staff user's cookie, median of
    BACKOFFICE_RUNS after one warm-up (< 50 ms each). A missed figure is profiled."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from app import create_app
    from bench import backoffice

    report.section(f"5. Back office at {BACKOFFICE_APPLICATIONS:,} applications (in-process, WSGI call)")
    database = os.path.join(setup.tmp, "backoffice.db")
    db = open_db(database)
    try:
        made = backoffice.generate(db, BACKOFFICE_APPLICATIONS)
        report.info("applications made", f"{made.count:,} in {made.seconds:.1f} s: "
                    + ", ".join(f"{status} {count:,}" for status, count in made.by_status.items())
                    + f"; {made.manual_checks} manual checks")
        app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True,
                          "REGISTRY": setup.registry_path})
        cookie = backoffice.staff_cookie(backoffice.staff_client(app, db))
    finally:
        db.close()
    # Each URL, its query and a text its answer must hold.
    subjects = [
        ("GET /beheer (first page)", {}, "Pagina 1 van"),
        ("GET /beheer?status=submitted", {"status": "submitted"}, "Pagina 1 van"),
        ("GET /beheer?q=<KvK number>", {"q": made.kvk_number}, f"<td>{made.kvk_number}</td>"),
        ("GET /beheer?q=<name prefix, narrow>", {"q": made.narrow_prefix}, made.narrow_prefix),
        ("GET /beheer?q=<name prefix, broad>", {"q": made.broad_prefix}, made.broad_prefix),
        ("GET /beheer?q=<reference>", {"q": made.reference}, f">{made.reference}</a>"),
        ("GET /beheer?pagina=1000 (deep page)", {"pagina": "1000"}, "Pagina 1000 van"),
    ]

    def call(query: dict) -> tuple[float, str, str]:
        environ = EnvironBuilder(path="/beheer", query_string=query, headers={"Cookie": cookie}).get_environ()
        started = time.perf_counter()
        body, status, _headers = run_wsgi_app(app, environ, buffered=True)
        body = b"".join(body)
        return (time.perf_counter() - started) * 1000, status, body.decode()

    found = {}
    for label, query, text in subjects:  # the warm-up, and what each answer shows
        _ms, status, html = call(query)
        count = re.search(r'id="applications-count">([\d.,]+) aanmelding', html)
        if not status.startswith("200") or not count or text not in html:
            raise RuntimeError(f"{label}: status {status}, count of applications {count and count.group(1)}, "
                               f"{text!r} {'found' if text in html else 'not found'}")
        found[label] = count.group(1)
    samples = {label: [] for label, _query, _text in subjects}
    for index in range(BACKOFFICE_RUNS):
        for label, query, _text in subjects[index % len(subjects):] + subjects[:index % len(subjects)]:
            samples[label].append(call(query)[0])
    missed = []
    for label, query, _text in subjects:
        figure = Figure(label, statistics.median(samples[label]), "ms", "<", TARGET_BACKOFFICE_MS,
                        note=f"{found[label]} found; median of {BACKOFFICE_RUNS}, "
                             f"min {min(samples[label]):.1f} max {max(samples[label]):.1f} ms")
        report.add(figure)
        if not figure.met():
            missed.append((label, query))
    for label, query in missed:
        _profile(report, label, lambda query=query: call(query))


def _profile(report: Report, label: str, run, entries: int = 8) -> None:
    """Where the time of a missed figure goes: cProfile over five calls, the functions
    with the most time of their own."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(5):
        run()
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    report.info(f"profile of {label}", f"{total / 5 * 1000:.1f} ms a call (profiled); own time:")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:entries]
    for (filename, line, name), (_calls, _ncalls, own, _cumulative, _callers) in rows:
        where = f"{os.path.relpath(filename, ROOT) if filename.startswith(ROOT) else os.path.basename(filename)}"
        report.info(f"    {own / total * 100:4.0f}%", f"{name} ({where}:{line})")


# --------------------------------------------------------------------------- main


def _why(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


def guarded(report: Report, section: str, run) -> None:
    """Run one section; an error there is reported and does not stop the others."""
    started = time.monotonic()
    try:
        run()
    except Exception as error:  # noqa: BLE001 - reported as a missed figure
        traceback.print_exc()
        report.missed(f"{section}", "", "<=", 0, f"failed: {_why(error)}")
    print(f"  ({section}: {time.monotonic() - started:.0f} s)", flush=True)


@dataclass
class DraftKeys:
    small: str  # GETs, 1-code practice
    large: str  # GETs, 1,000-code organisation
    posters: dict  # "small"/"large": LATENCY_CONNECTIONS drafts each, step 3 saved already
    applicants: list  # APPLICANTS drafts at step 3, half of each size


def make_all_drafts(setup: Setup) -> DraftKeys:
    small, large = fixtures.ORGANISATIONS[1], fixtures.ORGANISATIONS[1000]
    db = open_db(setup.database)
    try:
        return DraftKeys(
            small=make_drafts(setup, db, 1, small, "get-small")[0],
            large=make_drafts(setup, db, 1, large, "get-large")[0],
            # Saved already: a POST of a saved step answers 303 also when two of one draft cross.
            posters={size: make_drafts(setup, db, LATENCY_CONNECTIONS, kvk, f"post-{size}", confirmed=True)
                     for size, kvk in (("small", small), ("large", large))},
            applicants=[key for kvk in (small, large)
                        for key in make_drafts(setup, db, APPLICANTS // 2, kvk, f"save-{kvk}")],
        )
    finally:
        db.close()


def over_http(report: Report, setup: Setup) -> None:
    started = time.monotonic()
    keys = make_all_drafts(setup)
    print(f"  (drafts made: {time.monotonic() - started:.0f} s)", flush=True)
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(Server("hello", "bench.hello:app", setup.env, setup.tmp))
        floor = stack.enter_context(Server("hello-session", "bench.hello:session_app", setup.env, setup.tmp))
        app_server = stack.enter_context(Server("app", "app:create_app()", setup.env, setup.tmp))
        visitors = {"anonymous": visit(app_server.port, "", "/stap/1", Expect(heading=setup.titles[1])),
                    "small": _visitor(setup, app_server, keys.small),
                    "large": _visitor(setup, app_server, keys.large)}
        subjects = fragment_subjects(setup, app_server, visitors["anonymous"], visitors["small"], visitors["large"])
        guarded(report, "fragment throughput", lambda: throughput(
            report, setup.app, hello, floor, visitors["small"], subjects))
        guarded(report, "latency under load", lambda: latency(
            report, setup, app_server, visitors,
            {size: [_visitor(setup, app_server, key) for key in group] for size, group in keys.posters.items()}))
        guarded(report, "concurrent saves", lambda: concurrent_saves(
            report, app_server, [_visitor(setup, app_server, key) for key in keys.applicants]))
        server_errors(report, app_server)
    guarded(report, "memory", lambda: memory(report, setup, subjects))


def _visitor(setup: Setup, server: Server, key: str) -> Visitor:
    """A browser holding the draft ``key``, after its first page (step 3)."""
    visitor = visit(server.port, fixtures.session_cookie(setup.app, key), "/stap/3",
                    Expect(heading=setup.titles[3]))
    visitor.key = key
    return visitor


def machine_load(report: Report) -> None:
    """Other work on the machine skews every figure: say how busy it is."""
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    warning = "  BUSY: the figures below are skewed by other work" if load > cores else ""
    report.info("load average (1 min)", f"{load:.1f} on {cores} cores{warning}")


SECTIONS = ("http", "in-process", "backoffice")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The benchmarks of SPEC §8.")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable): http (1-3), in-process (4), backoffice (5)")
    chosen = parser.parse_args(argv).only or SECTIONS
    started = time.monotonic()
    report = Report()
    machine_load(report)
    with tempfile.TemporaryDirectory(prefix="aansluiten-bench-") as tmp:
        setup = prepare(tmp)
        if "http" in chosen:
            guarded(report, "benchmarks over HTTP", lambda: over_http(report, setup))
        if "in-process" in chosen:
            guarded(report, "benchmarks in-process", lambda: in_process(report, setup))
        if "backoffice" in chosen:
            guarded(report, "back office at 100,000 applications", lambda: backoffice_list(report, setup))
    print()
    machine_load(report)
    print(f"(took {time.monotonic() - started:.0f} s)")
    print(report.last_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
