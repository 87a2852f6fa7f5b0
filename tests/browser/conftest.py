"""Browser tests: the app as a real HTTP server, driven by Debian's Chromium through Playwright.

Fixtures:
- ``live_server``: base URL of the app served by werkzeug in a thread (one per xdist worker),
  on a fresh SQLite file, in demo mode so that ``/demo/mailbox`` shows the outbox.
- ``short_idle_server``: the same with ``IDLE_TIMEOUT`` (and the back office's
  ``STAFF_IDLE_TIMEOUT``) of ``SHORT_IDLE_TIMEOUT`` seconds (its own
  SQLite file), so that the idle warning comes after seconds, not minutes.
- ``browser``: one Chromium per session (per worker). A missing Chromium is a failure, never a
  skip: in CI a skipped browser test counts as a failed one.
- ``page``: a fresh context (own cookies) per test, with htmx active.
- ``nojs_page``: the same, with htmx blocked, so every form posts and redirects like in a
  browser without JavaScript. JavaScript itself stays on: axe needs it.
- ``short_idle_page``: a fresh context with htmx active on ``short_idle_server``.
- ``assert_accessible``: ``assert_accessible(page)`` runs axe-core and asserts zero violations.
- ``unique_email``: a fresh e-mail address for each call.
- ``flow`` (parametrized: htmx active and blocked) and ``js_flow`` (htmx active): an
  ``applicant.Flow`` on ``page`` / ``nojs_page`` with its own e-mail address.
"""

import itertools
import os
import sys
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("AANSLUITEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000

# `from app import create_app` needs the project root on sys.path, however pytest was started.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from applicant import SHORT_IDLE_TIMEOUT, Flow  # noqa: E402 - tests/browser is on sys.path like this conftest

# Each context comes from its own client address (ProxyFix trusts one X-Forwarded-For hop), so
# the per-client rate limits on e-mail and look-ups count per test, not for the whole suite.
_client_numbers = itertools.count(1)


def _serve(tmp_path_factory, name: str, **config):
    """Serve a fresh demo app on its own SQLite file in a thread; yield its base URL."""
    from app import create_app

    database = tmp_path_factory.mktemp(name) / "aansluiten.db"
    app = create_app({
        "TESTING": False,
        "DATABASE": str(database),
        "SECRET_KEY": "browser-tests",
        "DEMO": True,
        "PROXIES": 1,  # each context plays a client behind a proxy, see _new_context
        **config,
    })
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, "browser-live-server")


@pytest.fixture(scope="session")
def short_idle_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, "browser-short-idle-server", IDLE_TIMEOUT=SHORT_IDLE_TIMEOUT,
                      STAFF_IDLE_TIMEOUT=SHORT_IDLE_TIMEOUT)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    # Assertions wait as long as actions do (Playwright's default for expect is 5 s).
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's Chromium: "
            "install it with `apt-get install chromium` (Playwright's own browser download "
            "does not work here). A skipped browser test counts as a failure in CI.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as error:  # noqa: BLE001 - report any launch failure as a test failure
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


def _new_context(browser, base_url):
    client = next(_client_numbers)
    context = browser.new_context(
        base_url=base_url,
        locale="nl-NL",
        extra_http_headers={"X-Forwarded-For": f"10.{os.getpid() % 250}.{client // 250 % 250}.{client % 250 + 1}"},
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def new_context(browser):
    """``new_context(base_url, js=True)``: another browser of the test's (own cookies, own client
    address; htmx blocked when ``js`` is false), closed after the test."""
    contexts = []

    def make(base_url, js: bool = True):
        context = _new_context(browser, base_url)
        if not js:
            context.route("**/htmx*.js", lambda route: route.abort())
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser, live_server):
    context = _new_context(browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser, live_server):
    context = _new_context(browser, live_server)
    context.route("**/htmx*.js", lambda route: route.abort())
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def short_idle_page(browser, short_idle_server):
    context = _new_context(browser, short_idle_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def unique_email():
    def make(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}@praktijk.example"
    return make


def _describe(violations: list[dict], url: str) -> str:
    lines = [f"{len(violations)} axe violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        for node in violation["nodes"][:3]:
            lines.append(f"    target {', '.join(map(str, node.get('target', [])))}")
            lines.append(f"    html   {node.get('html', '').strip()}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("    " + summary.replace("\n", "\n    "))
        if len(violation["nodes"]) > 3:
            lines.append(f"    ... and {len(violation['nodes']) - 3} more node(s)")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def assert_accessible():
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page) -> None:
        results = axe.run(page)
        violations = results.response["violations"]
        assert not violations, _describe(violations, page.url)

    return check


@pytest.fixture(params=["js", "nojs"])
def flow(request, live_server, assert_accessible, unique_email):
    """The applicant with htmx active ("js") and with htmx blocked ("nojs")."""
    js = request.param == "js"
    page = request.getfixturevalue("page" if js else "nojs_page")
    return Flow(page, js, live_server, assert_accessible, unique_email(request.param))


@pytest.fixture
def js_flow(page, live_server, assert_accessible, unique_email):
    return Flow(page, True, live_server, assert_accessible, unique_email("js"))
