"""Benchmarks of SPEC §8, the whole of it. Prints each figure beside its target (with by
how much it misses) and, last, "bench: N/M targets met".

Over HTTP, on loopback, every server under gunicorn with 2 sync workers and the same
environment (database and registry in a temporary directory, secret key "bench", demo
mode), the load driven by wrk with one thread and bench/check.lua, which counts as an
error every answer with an unexpected status, any HX-Redirect header, or a page other
than the one asked for (checked by its <h1>, or a POST's Location). Every URL is first
checked once with http.client. Drafts are made directly in the database with the domain
layer at any step, up to submitted (bench/fixtures.py), and held by a session cookie
signed in-process, never through the e-mail link; before every load the cookie's
last-seen time is re-signed as of now, as a browser holds it (the app would otherwise
resend a cookie a minute old on every answer). Two drafts per size: one with steps 1-8
done (every step 1-9 may be opened) and one submitted with the method of step 10 chosen
(step 10 and the status page).

1. Throughput of the htmx fragments (HX-Request: true) of step 1 (anonymous, with the
   cookie a browser has after its first page), of steps 2 to 10 and of the status page,
   for a one-code practice and a 1,000-code organisation, against a Flask hello world
   that reads the same signed session cookie (target: at least 0.5x); a bare hello
   world is printed for reference, and so is the stack's least page (bench/hello.py: the
   same session, one SQLite row, a Flask-WTF form of one field and a Jinja template).
   Each of ROUNDS rounds loads (wrk -t1 -c8, ROUND_S seconds each) the bare hello world,
   then the floor, and then the least page and every fragment, each followed by the floor
   again (A, B, A, B ...): a ratio is taken against the mean of the floor just before and
   just after it, and the median over the rounds is printed.
2. Latency under load: 50 connections without think time, LATENCY_S seconds, p99 of the
   GET (whole page) of every step and the status page, and of the POST of every step
   whose POST can be sent again and again: the page's form as it stands (the same
   answer saved again, 303 to the next step), on POSTERS drafts in turn, each with its
   own cookie and CSRF token and the version counting up with every save (a stale
   version with the same answers is saved again too: routes/wizard.py), and step 6's
   htmx save of one contact row, with the row's own version; the saves in the database
   must be at least the answers that said saved. Step 1 posts a new address each time,
   and steps 1 and 2 (their rate limits count per client; step 2's also per draft:
   POSTERS drafts hold enough) go to a second app server behind ProxyFix, each request
   from a client address of its own. Step 9's POST submits and the status page's
   reopens: GET only. After each load the server finishes what it has in hand before
   the next begins. Target p99 < 100 ms, no error, and nothing in the server's log (no
   traceback, no "database is locked").
3. 50 applicants at once through the whole flow, steps 1 to 9, with think time, each on
   a draft of its own, driven by locust (bench/applicants.py) against the server behind
   ProxyFix: 0 errors, every draft submitted in the database at the end, no "database
   is locked" in the server's log; locust's p99 printed.
4. Memory: resident memory (VmRSS) of each worker of a fresh server after 10,000 GETs
   of every page of 1. in turn, fragments and whole pages: < 100 MB.
5. In-process (Flask test client): the server time of the flow of steps 1 to 9 (< 150
   ms, the agreement PDF's share printed); the weight of every page, HTML + its CSS and
   JavaScript, gzip-compressed (< 30 KB; a page that depends on the organisation's size
   is weighed at 1 and 1,000 codes, the heavier counts); steps 3, 6, 8 and 9 for an
   organisation of 1,000 codes against one of 10 codes (<= 2x) and one contact row
   saved on step 6 (<= 1.2x).
6. Back office, in-process: 100,000 applications made with direct INSERTs
   (bench/backoffice.py), a staff user logged in through the test client; the server
   time (the WSGI call) of the list, a status filter, searches on a KvK number, a
   company-name prefix (narrow and broad) and a reference, and a deep page: each < 50 ms
   (median of 11 after a warm-up; each a target of its own; a missed one is profiled);
   and the list's page weight.

7. Step 6's spreadsheet, in-process: one upload of 1,000 rows (.xlsx and .csv) up to its
   preview, and its confirmation (bench/upload.py); printed, SPEC §8 names no target.

`bench/run.py --only SECTION` (repeatable) runs some sections: throughput, latency,
applicants, memory (or http: all four), in-process, backoffice, upload.
"""

import contextlib
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench import fixtures, upload  # noqa: E402
from bench.loadgen import Expect, Server, Target, fetch, resident_mb, run_wrk  # noqa: E402

ROUNDS = 3
ROUND_S = 2
WARM_UP_S = 1
THROUGHPUT_CONNECTIONS = 8
LATENCY_CONNECTIONS = 50
LATENCY_S = 3
POSTERS = 300  # drafts per size that a POST load takes in turn (step 2 allows 20 look-ups per draft per 10 minutes)
POSTERS_SUBMITTED = LATENCY_CONNECTIONS  # submitted drafts per size, for step 10's POST (each takes a PDF to make)
APPLICANTS = 50
THINK_S = (0.5, 1.5)
APPLICANTS_TIMEOUT_S = 240
MEMORY_REQUESTS = 10_000
MEMORY_BURST_S = 2
MEMORY_MAX_BURSTS = 60
FLOWS = 5
SCALING_SAMPLES = 41
FRAGMENT = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

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

# The two sizes every step is measured at: key, name, number of AGB codes.
SIZES = (("small", "1-code practice", 1), ("large", "1,000-code organisation", 1000))
STATUS = "status"  # the status page's key among the step numbers


@dataclass(frozen=True)
class Page:
    """A page of the application with a draft: its label, path, heading (a step number or
    STATUS) and the draft it needs ("open": steps 1-8 done; "submitted")."""

    label: str
    path: str
    heading: int | str
    state: str


PAGES = [Page(f"step {number}", f"/stap/{number}", number, "open") for number in range(2, 10)] + [
    Page("step 10", "/stap/10", 10, "submitted"), Page("status page", "/aanmelding", STATUS, "submitted")]
# The POSTs measured under load: step, the form's action, where its 303 goes, what is
# typed (on top of the form as it stands). Step 2 last: it asks for step 3 again.
POSTS = [(3, "/stap/4", {}), (4, "/stap/5", {}), (5, "/stap/6", {}), (6, "/stap/7", {}), (7, "/stap/8", {}),
         (8, "/stap/9", {}), (2, "/stap/3", {})]
NOT_REPEATABLE = {9: "its POST submits the application (once)", STATUS: "its POST reopens the application (once)"}


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
        print(f"  {label:<48} {text}", flush=True)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        value = "-" if figure.value is None else _amount(figure.value, figure.unit)
        target = f"{figure.op} {_amount(figure.target, figure.unit)}"
        note = f"  [{figure.note}]" if figure.note else ""
        print(f"  {figure.label:<48} {value:>10}  target {target:<10} {figure.verdict()}{note}", flush=True)

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

    @property
    def proxied_env(self) -> dict:
        """The environment of the app server behind ProxyFix (one trusted X-Forwarded-For hop)."""
        return {**self.env, "AANSLUITEN_PROXIES": "1"}


def prepare(tmp: str) -> Setup:
    from app import create_app

    registry_path = fixtures.write_registry(tmp)
    database = os.path.join(tmp, "servers.db")
    env = {**os.environ, "AANSLUITEN_DATABASE": database, "AANSLUITEN_SECRET_KEY": "bench",
           "AANSLUITEN_DEMO": "true", "AANSLUITEN_REGISTRY": registry_path, "PYTHONPATH": ROOT}
    env.pop("AANSLUITEN_PROXIES", None)
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True, "REGISTRY": registry_path})
    env["BENCH_SESSION_COOKIE"] = app.config["SESSION_COOKIE_NAME"]
    from routes.pages import SESSION_DRAFT
    env["BENCH_SESSION_KEY"] = SESSION_DRAFT
    return Setup(tmp, env, app, _titles(app), registry_path, database)


def _titles(app) -> dict:
    """Each step's heading, and the status page's, as the app renders them in Dutch."""
    from flask_babel import gettext

    from routes.wizard import TITLES

    with app.test_request_context():
        titles = {number: str(title) for number, title in TITLES.items()}
        titles[STATUS] = gettext("Status van uw aanmelding")
    return titles


def open_db(path: str):
    from onboarding import store

    db = store.connect(path)
    store.migrate(db)
    return db


def make_drafts(setup: Setup, db, count: int, kvk: str | None, label: str, confirmed: bool = False,
                done: int | None = None) -> list[str]:
    from onboarding.registry import Registry

    registry = Registry.from_file(setup.registry_path)
    return [fixtures.create_draft(db, registry, f"{label}-{index}@bench.example", kvk, confirmed, done)
            for index in range(count)]


def visit(port: int, cookie: str, path: str, expect: Expect, action: str | None = None) -> Visitor:
    """A browser's first page with ``cookie``: the cookie it holds afterwards (with its
    CSRF token) and the hidden inputs of the page's form that posts to ``action`` (by
    default ``path``). Raises when the page is not right."""
    answer = fetch(port, path, headers={"Cookie": cookie} if cookie else {})
    if problem := expect.problem(answer):
        raise RuntimeError(f"GET {path}: {problem}")
    form = fixtures.post_form(answer.text, action or path)
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


def throughput(report: Report, app, hello: Server, floor: Server, stack: Server, visitor: Visitor,
               subjects: list[Subject]) -> None:
    """Rounds of: bare, floor, the stack's least page, floor, fragment 1, floor, fragment 2,
    floor, ...; each ratio is taken against the mean of the floor loaded just before and
    just after it."""
    report.section(f"1. Throughput of htmx fragments (wrk -t1 -c{THROUGHPUT_CONNECTIONS}, {ROUNDS} rounds of "
                   f"{ROUND_S} s per load, each fragment between two loads of the floor; medians)")
    bare = Subject("hello world (bare)", hello, "/", {}, Expect(text="Hello, World!"))
    reference = floor_subject(floor, visitor, app)
    least = Subject("the stack's least page (bench/hello.py)", stack, "/",
                    reference.headers, Expect(text=f"Hello, {visitor.key}!"), app)
    for subject in (bare, reference, least):
        if problem := check(subject.server.port, subject.path, subject.headers, subject.expect):
            raise RuntimeError(f"{subject.label}: {problem}")
    fragments = []
    for subject in subjects:
        if problem := check(subject.server.port, subject.path, fresh(app, subject.headers), subject.expect):
            report.missed(subject.label, "x", ">=", TARGET_RATIO, f"not loaded: {problem}")
        else:
            fragments.append(subject)
    for subject in (bare, reference, least, *fragments):
        subject.load(WARM_UP_S)
        subject.rps.clear()
    for _round in range(ROUNDS):
        bare.load(ROUND_S)
        before = reference.load(ROUND_S)
        for subject in (least, *fragments):
            rps = subject.load(ROUND_S)
            after = reference.load(ROUND_S)
            subject.ratios.append(rps / ((before + after) / 2))
            before = after
    report.info(bare.label, f"{bare.median():8.0f} req/s  (reference){_errors_suffix(bare)}")
    report.info(reference.label, f"{reference.median():8.0f} req/s  (the floor){_errors_suffix(reference)}")
    report.info(least.label, f"{least.median():8.0f} req/s  {statistics.median(least.ratios):.2f}x the floor "
                             f"(reference: what the stack costs before a step's own work){_errors_suffix(least)}")
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


def fragment_subjects(setup: Setup, app_server: Server, visitors: dict) -> list[Subject]:
    """Step 1 (anonymous), then every page of PAGES for each size."""
    titles = setup.titles
    subjects = [Subject("step 1 fragment, anonymous", app_server, "/stap/1",
                        {**FRAGMENT, "Cookie": visitors["anonymous"].cookie}, Expect(heading=titles[1]), setup.app)]
    for size, name, _codes in SIZES:
        for page in PAGES:
            headers = {**FRAGMENT, "Cookie": visitors[size, page.state].cookie}
            subjects.append(Subject(f"{page.label} fragment, {name}", app_server, page.path, headers,
                                    Expect(heading=titles[page.heading]), setup.app))
    return subjects


# --------------------------------------------------------------------------- 2. latency


def latency(report: Report, setup: Setup, server: Server, proxied: Server, visitors: dict, posters: dict) -> None:
    """Every step's GET, then the POSTs (on ``posters``: size -> state -> visitors)."""
    report.section(f"2. Latency under load (wrk -t1 -c{LATENCY_CONNECTIONS}, {LATENCY_S} s, no think time, p99)")
    titles = setup.titles
    gets = [("GET step 1, anonymous", "/stap/1", visitors["anonymous"], 1)]
    for size, name, _codes in SIZES:
        gets += [(f"GET {page.label}, {name}", page.path, visitors[size, page.state], page.heading) for page in PAGES]
    for label, path, visitor, heading in gets:
        target = Target(path, fresh(setup.app, {"Cookie": visitor.cookie}))
        _latency_figure(report, server, label, [target], Expect(heading=titles[heading]))

    # Step 1: a new address each time, from a client of its own (the server behind ProxyFix).
    anonymous = visitors["anonymous"]
    body = urlencode({"csrf_token": anonymous.hidden["csrf_token"]}) + "&email=latency-{n}%40bench.example"
    target = Target("/stap/1", fresh(setup.app, {"Cookie": anonymous.cookie, **FORM}), "POST", body, vary=True)
    _latency_figure(report, proxied, "POST step 1, anonymous (a new address)", [target],
                    Expect(status=303, location="/stap/1/verstuurd"),
                    note="behind ProxyFix, each request from a client address of its own")
    db = open_db(setup.database)
    try:
        for number, then, typed in POSTS:
            for size, name, _codes in SIZES:
                _post_figure(report, setup, db, proxied if number in (1, 2) else server, f"POST step {number}, {name}",
                             posters[size]["open"], f"/stap/{number}", f"/stap/{number}", then, typed, number)
            if number == 6:
                for size, name, _codes in SIZES:
                    _row_save_figure(report, setup, db, server, f"POST step 6 one contact row (htmx), {name}",
                                     posters[size]["open"])
        for size, name, _codes in SIZES:
            _post_figure(report, setup, db, server, f"POST step 10, {name}", posters[size]["submitted"], "/stap/10",
                         "/stap/10", "/stap/10", {}, 10)
    finally:
        db.close()
    for number, why in NOT_REPEATABLE.items():
        label = "status page" if number == STATUS else f"step {number}"
        report.info(f"POST {label}", f"GET only: {why}")


def _post_figure(report: Report, setup: Setup, db, server: Server, label: str, visitors: list[Visitor], page: str,
                 action: str, then: str, typed: dict, number: int | str) -> None:
    """POST ``action`` on every draft of ``visitors`` in turn: the form of ``page`` as it
    stands (read once: every draft of the group holds the same answers) plus ``typed``,
    with each draft's own CSRF token and its version as stored now, counting up; the
    answer a 303 to ``then``."""
    _load_saves(report, setup, db, server, label, visitors, page, Expect(heading=setup.titles[number]), action,
                typed, Expect(status=303, location=then), {}, "SELECT key, version FROM drafts WHERE key IN ({keys})")


def _row_save_figure(report: Report, setup: Setup, db, server: Server, label: str, visitors: list[Visitor]) -> None:
    """Step 6's htmx POST of one contact row (the last code of the draft), saved again
    with the row's own version counting up: the row answers (200)."""
    code = db.conn.execute("SELECT c.agb_code FROM draft_agb_codes c JOIN drafts d ON d.id = c.draft_id "
                           "WHERE d.key = ? ORDER BY c.position DESC LIMIT 1", (visitors[0].key,)).fetchone()[0]
    path = f"/stap/6/code/{code}/1"
    _load_saves(report, setup, db, server, label, visitors, path, Expect(text=f'action="{path}"'), path, {},
                Expect(status=200, text=f'id="row-{code}"'), {**FRAGMENT, "HX-Target": f"row-{code}"},
                "SELECT d.key, c.version FROM draft_agb_codes c JOIN drafts d ON d.id = c.draft_id "
                f"WHERE c.agb_code = '{code}' AND d.key IN ({{keys}})")


def _load_saves(report: Report, setup: Setup, db, server: Server, label: str, visitors: list[Visitor], page: str,
                page_expect: Expect, action: str, typed: dict, expect: Expect, headers: dict,
                versions_sql: str) -> None:
    """The POST loads of 2.: the form of ``page`` (the whole page) sent again and again
    by every visitor in turn, each with its version (``versions_sql``: key, version of
    the drafts ``{keys}``) counting up; afterwards the saves in the database (the sum of
    those versions) must be at least the answers that said saved."""
    answer = fetch(server.port, page, headers=fresh(setup.app, {"Cookie": visitors[0].cookie}))
    if problem := page_expect.problem(answer):
        report.missed(label, "ms", "<", TARGET_P99_MS, f"not loaded: GET {page}: {problem}")
        return
    fields = {name: value for name, value in fixtures.post_form(answer.text, action)["fields"].items()
              if name not in ("csrf_token", "version")}
    keys = [visitor.key for visitor in visitors]
    sql = versions_sql.format(keys=", ".join("?" * len(keys)))
    proxied = "AANSLUITEN_PROXIES" in server.env

    def versions() -> dict:
        return dict(db.conn.execute(sql, keys).fetchall())

    before = versions()
    targets = [Target(action, fresh(setup.app, {"Cookie": visitor.cookie, **FORM, **headers}), "POST",
                      urlencode({**fields, **typed, "csrf_token": visitor.hidden["csrf_token"]}),
                      version=before[visitor.key], vary=proxied) for visitor in visitors]
    note = f"{len(targets)} drafts in turn" + ("; behind ProxyFix, each request from a client address of its own"
                                               if proxied else "")
    _latency_figure(report, server, label, targets, expect, note=note,
                    after=lambda load: _lost_saves(load, sum(versions().values()) - sum(before.values()),
                                                   expect.status))


def _lost_saves(load, saved: int, status: int) -> tuple[str, str]:
    """Whether every right answer the load counted is a save in the database (a note, an error)."""
    answered = load.requests - sum(load.errors.get(name, 0) for name in ("wrong_status", "hx_redirect", "wrong_page"))
    note = f"{saved} saves in the database for {answered} answers {status}"
    return note, (f"{answered - saved} answers {status} without a save" if saved < answered else "")


def _latency_figure(report: Report, server: Server, label: str, targets: list[Target], expect: Expect,
                    note: str = "", after=None) -> None:
    """Load ``targets`` in turn; ``after(load)`` may add a note and an error."""
    if targets[0].method == "GET" and (problem := check(server.port, targets[0].path, targets[0].headers, expect)):
        report.missed(label, "ms", "<", TARGET_P99_MS, f"not loaded: {problem}")
        return
    load = run_wrk(server.port, targets, expect, os.path.dirname(server.log_path),
                   connections=LATENCY_CONNECTIONS, duration_s=LATENCY_S)
    server.settle()  # what it still had in hand when wrk stopped: done before the next load, and saved
    details = f"p50 {load.p50_ms:.1f} ms, {load.rps:.0f} req/s" + (f"; {note}" if note else "")
    errors = load.error_text()
    if after:
        more, lost = after(load)
        details += f"; {more}"
        errors = "; ".join(text for text in (errors, lost) if text)
    report.add(Figure(label, load.p99_ms, "ms", "<", TARGET_P99_MS, note=details, errors=errors))


def server_log(report: Report, server: Server) -> None:
    """A figure: tracebacks and "database is locked" in the server's stderr (target 0)."""
    text = server.stderr()
    tracebacks = text.count("Traceback (most recent call last)")
    locked = text.count("database is locked")
    note = f"{tracebacks} traceback(s), {locked} 'database is locked', {len(text.splitlines())} line(s)"
    if tracebacks:
        last = text[text.rindex("Traceback (most recent call last)"):].strip().splitlines()
        note += f"; last traceback ends with: {last[-1][:200]}"
    report.add(Figure(f"{server.name} server log: tracebacks, 'locked'", tracebacks + locked, "", "<=", 0, note=note))


# --------------------------------------------------------------------------- 3. applicants


# The organisations the applicants apply for, in turn: the one-code practice, the 10-code
# organisation and the demo registry's hospital group (177 codes).
APPLICANT_COMPANIES = (fixtures.ORGANISATIONS[1], fixtures.ORGANISATIONS[10], "50000004")


def applicants(report: Report, setup: Setup, server: Server, subjects: list[Subject]) -> None:
    """APPLICANTS applicants at once through steps 1-9, driven by locust in a process of
    its own (bench/applicants.py), against ``server`` (behind ProxyFix), warmed up first
    with every page of ``subjects`` (as a server that has run a while is)."""
    from onboarding import people
    from onboarding.registry import Registry

    report.section(f"3. {APPLICANTS} applicants at once through steps 1-9 (locust, think time "
                   f"{THINK_S[0]}-{THINK_S[1]} s, each on a draft of its own)")
    registry = Registry.from_file(setup.registry_path)
    companies = [{"kvk": kvk, "agb": registry.active_agb_codes(kvk)[0].code,
                  "officer": next(officer.id for officer in registry.company(kvk).officers if people.may_sign(officer))}
                 for kvk in APPLICANT_COMPANIES]
    warm_up(setup, server, subjects)
    run = f"run{int(time.time())}"
    config = {"host": f"http://127.0.0.1:{server.port}", "users": APPLICANTS, "run": run, "companies": companies,
              "titles": {number: title for number, title in setup.titles.items() if isinstance(number, int)},
              "think_s": list(THINK_S), "timeout_s": APPLICANTS_TIMEOUT_S}
    locked_before = server.stderr().count("database is locked")
    completed = subprocess.run([sys.executable, os.path.join(HERE, "applicants.py")], cwd=ROOT,
                               env={**setup.env, "BENCH_APPLICANTS": json.dumps(config)}, capture_output=True,
                               text=True, timeout=APPLICANTS_TIMEOUT_S + 60)
    match = re.search(r"^bench-applicants (.*)$", completed.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"bench/applicants.py printed no result (exit {completed.returncode}):\n"
                           f"{(completed.stdout + completed.stderr)[-3000:]}")
    result = json.loads(match.group(1))
    complete = _complete_drafts(setup, f"%@{run}.flow.bench.example")
    locked = server.stderr().count("database is locked") - locked_before
    errors = result["failures"] + len(result["problems"]) + result["timed_out"]
    label = f"{APPLICANTS} applicants at once"
    report.info("locust", f"{result['requests']} requests in {result['seconds']:.0f} s, {result['failures']} failed; "
                f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms")
    report.info("  slowest (p99)", "; ".join(f"{name} {p99:.0f} ms ({count})"
                                             for name, p99, count in result["slowest"]))
    for name, p99, count in result["demo_tool"]:
        report.info("  the demo mailbox (how the links are read)", f"{name}: p99 {p99:.0f} ms ({count})")
    for problem in result["problems"][:5]:
        report.info("  error", problem[:300])
    report.add(Figure(f"{label}: errors", errors, "", "<=", 0,
                      note=f"{result['failures']} failed request(s), {len(result['problems'])} applicant(s) stopped"
                           + (", timed out" if result["timed_out"] else "")
                           + f"; locust p99 {result['p99_ms']:.0f} ms"))
    report.add(Figure(f"{label}: drafts submitted at the end", complete, "", ">=", APPLICANTS,
                      note=f"{result['finished']} applicant(s) saw step 10; in the database: submitted, every step "
                           "done, the agreement made"))
    report.add(Figure(f"{label}: 'database is locked' in the log", locked, "", "<=", 0))


def warm_up(setup: Setup, server: Server, subjects: list[Subject], seconds: int = 2) -> None:
    """Every page of ``subjects`` (fragment and whole page) in turn for ``seconds``: both
    workers have compiled the templates and read the registry."""
    targets = [Target(subject.path, fresh(setup.app, headers)) for subject in subjects
               for headers in (subject.headers, {k: v for k, v in subject.headers.items() if k != "HX-Request"})]
    run_wrk(server.port, targets, Expect(text="</h1>"), setup.tmp, connections=THROUGHPUT_CONNECTIONS,
            duration_s=seconds)


def _complete_drafts(setup: Setup, email_pattern: str) -> int:
    """Drafts whose address matches, submitted with every answer in the database."""
    db = open_db(setup.database)
    try:
        return db.conn.execute(
            "SELECT count(*) FROM drafts d WHERE d.email LIKE ? AND d.status = 'submitted' AND d.reference IS NOT NULL "
            "AND d.data_correct = 'yes' AND d.contacts_done_at IS NOT NULL AND d.ict_done_at IS NOT NULL "
            "AND d.services_ok_at IS NOT NULL "
            "AND (SELECT count(*) FROM persons p WHERE p.draft_id = d.id) = 2 "
            "AND NOT EXISTS (SELECT 1 FROM draft_agb_codes c WHERE c.draft_id = d.id AND c.contacts = 0) "
            "AND EXISTS (SELECT 1 FROM draft_agb_codes c WHERE c.draft_id = d.id) "
            "AND EXISTS (SELECT 1 FROM agreements a WHERE a.draft_id = d.id)", (email_pattern,)).fetchone()[0]
    finally:
        db.close()


# --------------------------------------------------------------------------- 4. memory


def memory(report: Report, setup: Setup, subjects: list[Subject]) -> None:
    """A fresh server, loaded with wrk in bursts, every page of ``subjects`` as fragment and
    as whole page in turn in one load (each checked on its own first), until it has
    answered MEMORY_REQUESTS; then each worker's VmRSS."""
    report.section(f"4. Memory of a worker after {MEMORY_REQUESTS:,} GETs of every page (fresh server)")
    variants = [(subject.path, headers, subject.expect) for subject in subjects
                for headers in (subject.headers, {k: v for k, v in subject.headers.items() if k != "HX-Request"})]
    requests, errors = 0, []
    with Server("memory", "app:create_app()", setup.env, setup.tmp) as server:
        for path, headers, expect in variants:
            if problem := check(server.port, path, fresh(setup.app, headers), expect):
                errors.append(f"{path}: {problem}")
        for _burst in range(MEMORY_MAX_BURSTS):
            if requests >= MEMORY_REQUESTS:
                break
            targets = [Target(path, fresh(setup.app, headers)) for path, headers, _expect in variants]
            # One load sends every page in turn: an answer is checked by its status and
            # for a heading (which page it is was checked above, page by page).
            load = run_wrk(server.port, targets, Expect(text="</h1>"), setup.tmp,
                           connections=THROUGHPUT_CONNECTIONS, duration_s=MEMORY_BURST_S)
            requests += load.requests
            if load.error_text():
                errors.append(load.error_text())
        sizes = {pid: resident_mb(pid) for pid in server.worker_pids()}
        server_log(report, server)
    if not sizes:
        report.missed("worker resident memory (largest)", "MB", "<", TARGET_RSS_MB, "no worker found")
        return
    note = (f"{requests} requests of {len(variants)} pages in turn{'' if requests >= MEMORY_REQUESTS else ' ONLY'}; "
            "workers " + ", ".join(f"{pid}: {size:.1f} MB" for pid, size in sizes.items()))
    report.add(Figure("worker resident memory (largest)", max(sizes.values()), "MB", "<", TARGET_RSS_MB,
                      note=note, errors="; ".join(errors)))


# --------------------------------------------------------------------------- 5. in-process


# The flow in-process: the demo registry's hospital group (177 codes).
FLOW_KVK = "50000004"


def in_process(report: Report, setup: Setup) -> None:
    from app import create_app

    database = os.path.join(setup.tmp, "in-process.db")
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True, "REGISTRY": setup.registry_path})
    report.section("5. In-process (Flask test client)")
    with contextlib.suppress(Exception):
        _flow(app, "warm-up@bench.example")  # templates compiled, registry loaded, fonts of the PDF read
    guarded(report, "flow steps 1-9", lambda: flow_figure(report, app))
    db = open_db(database)
    try:
        guarded(report, "page weights", lambda: page_weights(report, app, setup, db))
        guarded(report, "step 3 at 1,000 codes", lambda: page_scaling(report, app, setup, db, 3, "/stap/3",
                                                                      done=2, reference=1))
        guarded(report, "step 6 at 1,000 codes", lambda: step_6_scaling(report, app, setup, db))
        guarded(report, "step 8 at 1,000 codes", lambda: page_scaling(report, app, setup, db, 8, "/stap/8", done=7))
        guarded(report, "step 9 at 1,000 codes", lambda: page_scaling(report, app, setup, db, 9, "/stap/9", done=8))
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


@contextlib.contextmanager
def _timing(module, name: str, into: list):
    """Time every call of ``module.name`` (seconds, appended to ``into``)."""
    original = getattr(module, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


def _flow(app, email: str):
    """Steps 1 to 9 as a browser without JavaScript goes through them (every page opened,
    its form sent as it stands with what a person types); the client, the time of every
    request (label, seconds) and the time spent making the agreement PDF."""
    from onboarding import agreement, people
    from onboarding.registry import Registry

    registry = Registry.from_file(app.config["REGISTRY"])
    officer = next(officer.id for officer in registry.company(FLOW_KVK).officers if people.may_sign(officer))
    client = app.test_client()
    timings = []

    def timed(method: str, url: str, **kwargs):
        started = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        timings.append((f"{method.upper()} {url.split('?')[0]}", time.perf_counter() - started))
        return response

    def submit(url: str, data: dict, page=None, action: str | None = None):
        """Post the form of ``page`` (by default: GET ``url``) that posts to ``action``
        (by default ``url``; None: the first form of the page that posts)."""
        page = page or timed("get", url)
        if page.status_code != 200:
            raise RuntimeError(f"GET {url}: status {page.status_code}")
        form = fixtures.post_form(page.get_data(as_text=True), action)
        action = form["action"] or url
        response = timed("post", action, data={**form["fields"], **data})
        if response.status_code != 303:
            raise RuntimeError(f"POST {action}: status {response.status_code}, expected 303")
        return response

    pdf: list[float] = []
    with _timing(agreement, "render", pdf):
        submit("/stap/1", {"email": email}, action="/stap/1")
        link_page = timed("get", _link_from_outbox(app, email), follow_redirects=True)
        submit(link_page.request.path, {}, page=link_page)  # the link page's own form, wherever it posts
        submit("/stap/2", {"kvk_number": FLOW_KVK, "agb_code": registry.active_agb_codes(FLOW_KVK)[0].code},
               action="/stap/2")
        submit("/stap/3", {"data_correct": "yes"}, action="/stap/3")
        timed("get", "/stap/4")
        submit("/stap/4", {"birth_date": "09-03-1971", "email": "tekenbevoegde@example.nl", "mobile": "06-12345678"},
               page=timed("get", f"/stap/4?signatory={officer}"), action="/stap/4")
        submit("/stap/5", {"initials": "J.", "prefix": "", "surname": "Jansen", "birth_date": "01-05-1980",
                           "email": "hoofdcontact@example.nl", "mobile": "06-87654321", "employed": "y"},
               action="/stap/5")
        page = timed("get", "/stap/6")
        if any(form["action"] == "/stap/6/aanvullen" for form in fixtures.forms(page.get_data(as_text=True))):
            submit("/stap/6", {}, page=page, action="/stap/6/aanvullen")
            page = None
        submit("/stap/6", {}, page=page, action="/stap/6")
        submit("/stap/7", {}, action="/stap/7")
        submit("/stap/8", {"services_ok": "y"}, action="/stap/8")
        response = submit("/stap/9", {"declaration": "y"}, action="/stap/9")
    if not response.headers.get("Location", "").endswith("/stap/10"):
        raise RuntimeError(f"POST /stap/9: Location {response.headers.get('Location')}, expected /stap/10")
    return client, timings, sum(pdf)


def flow_figure(report: Report, app) -> None:
    totals, pdfs, submits = [], [], []
    for index in range(FLOWS):
        _client, timings, pdf = _flow(app, f"flow-{index}@bench.example")
        totals.append(sum(seconds for _label, seconds in timings) * 1000)
        submits.append(sum(seconds for label, seconds in timings if label == "POST /stap/9") * 1000)
        pdfs.append(pdf * 1000)
    total, pdf = statistics.median(totals), statistics.median(pdfs)
    report.add(Figure("flow steps 1-9, server time", total, "ms", "<", TARGET_FLOW_MS,
                      note=f"median of {FLOWS} flows of {len(timings)} requests; hospital group, 177 codes; "
                           f"of which the agreement PDF {pdf:.0f} ms ({pdf / total:.0%})"))
    slowest = sorted(timings, key=lambda item: item[1], reverse=True)[:4]
    report.info("  submitting (POST /stap/9) / its PDF", f"{statistics.median(submits):.1f} / {pdf:.1f} ms (median)")
    report.info("  steps 1-9 without the PDF", f"{total - pdf:.1f} ms")
    report.info("  slowest requests (last flow)", ", ".join(f"{label} {seconds * 1000:.1f} ms"
                                                         for label, seconds in slowest))


# Pages that do not depend on the organisation: the anonymous ones. The others are weighed
# for a draft of each size (PAGES, and the extra pages of steps 3 and 7).
ANONYMOUS_PAGES = ("/", "/stap/1", "/stap/1/verstuurd")
EXTRA_PAGES = (("/stap/3/onjuist", "open"), ("/stap/7/toevoegen", "open"))


def page_weights(report: Report, app, setup: Setup, db) -> None:
    """Each page, HTML + the CSS and JavaScript it links, gzip-compressed."""
    anonymous = app.test_client()
    for path in ANONYMOUS_PAGES:
        weight = _weigh(anonymous, path)
        report.add(Figure(f"page {path}", weight.kb if weight.kb else None, "KB", "<", TARGET_PAGE_KB,
                          note=weight.note))
    clients = {}
    for size, _name, codes in SIZES:
        for state, done in (("open", 8), ("submitted", fixtures.METHOD_CHOSEN)):
            clients[size, state] = app.test_client()
            key = make_drafts(setup, db, 1, fixtures.ORGANISATIONS[codes], f"weight-{size}-{state}", done=done)[0]
            _set_cookie(app, clients[size, state], key)
    for path, state in [(page.path, page.state) for page in PAGES] + list(EXTRA_PAGES):
        weights = {codes: _weigh(clients[size, state], path) for size, _name, codes in SIZES}
        heaviest = max(weights.values(), key=lambda weight: weight.kb or 1e9)
        report.add(Figure(f"page {path}", heaviest.kb, "KB", "<", TARGET_PAGE_KB,
                          note="; ".join(f"{codes:,} code(s): {weight.note}" for codes, weight in weights.items())))


def _set_cookie(app, client, key: str) -> None:
    name, _, value = fixtures.session_cookie(app, key).partition("=")
    client.set_cookie(name, value)


@dataclass
class Weight:
    kb: float | None  # None: the page did not answer 200
    note: str


def _weigh(client, path: str) -> Weight:
    response = client.get(path)
    if response.status_code != 200:
        return Weight(None, f"status {response.status_code}")
    html = response.get_data()
    assets = re.findall(rb'<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"', html)
    asset_bytes = sum(len(gzip.compress(client.get(url.decode()).get_data())) for url in assets)
    page_bytes = len(gzip.compress(html))
    return Weight((page_bytes + asset_bytes) / 1024,
                  f"{(page_bytes + asset_bytes) / 1024:.1f} KB = HTML {page_bytes / 1024:.1f} KB + "
                  f"{len(assets)} assets {asset_bytes / 1024:.1f} KB")


def page_scaling(report: Report, app, setup: Setup, db, number: int, path: str, done: int,
                 reference: int | None = None) -> None:
    """Server time of GET ``path`` for a draft at step ``number`` (steps up to ``done``
    finished) at 1,000 codes against 10 (<= 2x); ``reference``: another size printed too."""
    counts = [count for count in (reference, 10, 1000) if count]
    clients = {}
    for count in counts:
        clients[count] = app.test_client()
        _set_cookie(app, clients[count], make_drafts(setup, db, 1, fixtures.ORGANISATIONS[count],
                                                     f"scaling-{number}-{count}", done=done)[0])
    samples: dict[int, list[float]] = {count: [] for count in counts}
    heading = re.compile(rf"<h1[^>]*>\s*{re.escape(str(_escape(setup.titles[number])))}\s*</h1>")
    for index in range(SCALING_SAMPLES + 5):
        shift = index % len(counts)
        for count in counts[shift:] + counts[:shift]:  # each size first in turn
            started = time.perf_counter()
            response = clients[count].get(path)
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or not heading.search(response.get_data(as_text=True)):
                raise RuntimeError(f"GET {path} ({count} codes): status {response.status_code}, "
                                   f"not the page of step {number}")
            if index >= 5:  # the first ones warm up
                samples[count].append(elapsed * 1000)
    medians = {count: statistics.median(values) for count, values in samples.items()}
    report.add(Figure(f"step {number} page at 1,000 codes vs 10 codes", medians[1000] / medians[10], "x", "<=",
                      TARGET_SCALING, note=" / ".join(f"{count} codes {median:.2f} ms" for count, median in
                                                      medians.items()) + f"; median of {SCALING_SAMPLES}"))


def _escape(text: str) -> str:
    from markupsafe import escape

    return escape(text)


def step_6_scaling(report: Report, app, setup: Setup, db) -> None:
    """Step 6 at 1,000 codes against 10: the page (<= 2x) and one contact row saved with htmx
    (<= 1.2x), server time in-process, sizes alternating."""
    from onboarding import drafts

    clients, codes = {}, {}
    for count in (10, 1000):
        clients[count] = app.test_client()
        key = make_drafts(setup, db, 1, fixtures.ORGANISATIONS[count], f"step6-{count}", done=5)[0]
        _set_cookie(app, clients[count], key)
        draft = drafts.by_key(db, key)
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


# --------------------------------------------------------------------------- 6. back office


def backoffice_list(report: Report, setup: Setup) -> None:
    """The back office's list at BACKOFFICE_APPLICATIONS applications (bench/backoffice.py
    makes them with direct INSERTs in a database of its own): server time of each GET, the
    WSGI call of the app in-process with the logged-in staff user's cookie, median of
    BACKOFFICE_RUNS after one warm-up (< 50 ms each). A missed figure is profiled."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from app import create_app
    from bench import backoffice

    report.section(f"6. Back office at {BACKOFFICE_APPLICATIONS:,} applications (in-process, WSGI call)")
    database = os.path.join(setup.tmp, "backoffice.db")
    db = open_db(database)
    try:
        made = backoffice.generate(db, BACKOFFICE_APPLICATIONS)
        report.info("applications made", f"{made.count:,} in {made.seconds:.1f} s: "
                    + ", ".join(f"{status} {count:,}" for status, count in made.by_status.items())
                    + f"; {made.manual_checks} manual checks")
        app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True,
                          "REGISTRY": setup.registry_path})
        staff = backoffice.staff_client(app, db)
        cookie = backoffice.staff_cookie(staff)
    finally:
        db.close()
    weight = _weigh(staff, "/beheer")
    report.add(Figure(f"page /beheer ({made.count:,} applications)", weight.kb, "KB", "<", TARGET_PAGE_KB,
                      note=weight.note))
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
    gets: dict  # (size, state) -> key: the drafts whose pages are loaded ("open": steps 1-8 done; "submitted")
    posters: dict  # size -> {"open": POSTERS keys, "submitted": POSTERS_SUBMITTED keys}


def make_all_drafts(setup: Setup, posting: bool) -> DraftKeys:
    db = open_db(setup.database)
    try:
        gets, posters = {}, {}
        for size, _name, codes in SIZES:
            kvk = fixtures.ORGANISATIONS[codes]
            gets[size, "open"] = make_drafts(setup, db, 1, kvk, f"get-{size}-open", done=8)[0]
            gets[size, "submitted"] = make_drafts(setup, db, 1, kvk, f"get-{size}-submitted",
                                                  done=fixtures.METHOD_CHOSEN)[0]
            if posting:
                posters[size] = {
                    "open": make_drafts(setup, db, POSTERS, kvk, f"post-{size}-open", done=8),
                    "submitted": make_drafts(setup, db, POSTERS_SUBMITTED, kvk, f"post-{size}-submitted",
                                             done=fixtures.METHOD_CHOSEN),
                }
        return DraftKeys(gets, posters)
    finally:
        db.close()


# The page a browser holding a draft in each state opens first (for its cookie and CSRF token).
FIRST_PAGE = {"open": 9, "submitted": 10}


def _visitor(setup: Setup, server: Server, key: str, state: str) -> Visitor:
    number = FIRST_PAGE[state]
    visitor = visit(server.port, fixtures.session_cookie(setup.app, key), f"/stap/{number}",
                    Expect(heading=setup.titles[number]))
    visitor.key = key
    return visitor


def over_http(report: Report, setup: Setup, chosen) -> None:
    started = time.monotonic()
    keys = make_all_drafts(setup, "latency" in chosen)
    print(f"  (drafts made: {time.monotonic() - started:.0f} s)", flush=True)
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(Server("hello", "bench.hello:app", setup.env, setup.tmp))
        floor = stack.enter_context(Server("hello-session", "bench.hello:session_app", setup.env, setup.tmp))
        least = stack.enter_context(Server("stack-least-page", "bench.hello:stack_app", setup.env, setup.tmp))
        app_server = stack.enter_context(Server("app", "app:create_app()", setup.env, setup.tmp))
        proxied = stack.enter_context(Server("app-behind-proxy", "app:create_app()", setup.proxied_env, setup.tmp))
        visitors = {"anonymous": visit(app_server.port, "", "/stap/1", Expect(heading=setup.titles[1]))}
        for (size, state), key in keys.gets.items():
            visitors[size, state] = _visitor(setup, app_server, key, state)
        subjects = fragment_subjects(setup, app_server, visitors)
        if "throughput" in chosen:
            guarded(report, "fragment throughput", lambda: throughput(
                report, setup.app, hello, floor, least, visitors["small", "open"], subjects))
        if "latency" in chosen:
            def run_latency():
                posters = {size: {state: [_visitor(setup, app_server, key, state) for key in group]
                                  for state, group in groups.items()} for size, groups in keys.posters.items()}
                latency(report, setup, app_server, proxied, visitors, posters)
            guarded(report, "latency under load", run_latency)
            server_log(report, app_server)
        if "applicants" in chosen:
            guarded(report, "applicants", lambda: applicants(report, setup, proxied, subjects))
        if "latency" in chosen or "applicants" in chosen:
            server_log(report, proxied)
    if "memory" in chosen:
        guarded(report, "memory", lambda: memory(report, setup, subjects))


def machine_load() -> str:
    """Other work on the machine skews every figure: how busy it is."""
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    warning = "  BUSY: other work skews the figures" if load > cores else ""
    return f"{load:.1f} on {cores} cores{warning}"


HTTP_SECTIONS = ("throughput", "latency", "applicants", "memory")
SECTIONS = (*HTTP_SECTIONS, "in-process", "backoffice", "upload")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The benchmarks of SPEC §8.")
    parser.add_argument("--only", action="append", choices=(*SECTIONS, "http"),
                        help="run only this section (repeatable): throughput (1), latency (2), applicants (3), "
                             "memory (4), or http (1-4); in-process (5), backoffice (6), upload (7)")
    only = parser.parse_args(argv).only or SECTIONS
    chosen = {section for name in only for section in (HTTP_SECTIONS if name == "http" else (name,))}
    started = time.monotonic()
    report = Report()
    report.info("load average (1 min)", machine_load())
    with tempfile.TemporaryDirectory(prefix="aansluiten-bench-") as tmp:
        setup = prepare(tmp)
        if chosen & set(HTTP_SECTIONS):
            guarded(report, "benchmarks over HTTP", lambda: over_http(report, setup, chosen))
        if "in-process" in chosen:
            guarded(report, "benchmarks in-process", lambda: in_process(report, setup))
        if "backoffice" in chosen:
            guarded(report, "back office at 100,000 applications", lambda: backoffice_list(report, setup))
        if "upload" in chosen:
            guarded(report, "spreadsheet upload", lambda: upload.figures(report, tmp, setup.registry_path))
    print()
    report.info("load average (1 min)", machine_load())
    print(f"(took {time.monotonic() - started:.0f} s)")
    print(report.last_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
