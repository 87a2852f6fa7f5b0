"""What every page shares: headers, htmx set-up, CSRF, sizes, configuration."""

import json
import os
import re
import subprocess
import sys

import pytest

from app import _secret_key, create_app

from .conftest import assert_htmx_posts_disable_their_button

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STATIC = os.path.join(os.path.dirname(__file__), "..", "static")


def test_htmx_is_vendored_at_the_pinned_version():
    path = os.path.join(STATIC, "htmx-2.0.11.min.js")
    with open(path, encoding="utf-8") as handle:
        assert 'version:"2.0.11"' in handle.read()


def test_the_page_loads_the_vendored_htmx_and_nothing_from_elsewhere(client):
    html = client.get("/").get_data(as_text=True)
    assert '/static/htmx-2.0.11.min.js' in html
    sources = re.findall(r'(?:src|href)="(https?:[^"]+)"', html)
    assert all(not re.search(r"\.(js|css)$", source) for source in sources)


def test_htmx_is_configured_without_eval_and_without_history_copies(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["selfRequestsOnly"] is True
    assert config["historyRestoreAsHxRequest"] is False
    assert config["historyCacheSize"] == 0
    codes = [rule["code"] for rule in config["responseHandling"]]
    assert codes.index("422") < codes.index("[45]..")
    # A page that answers what went wrong: a stale form, an invalid one, too many tries, a link's part
    # gone with a reopen (410), the store unavailable.
    swapped = {rule["code"] for rule in config["responseHandling"] if rule["swap"]}
    assert {"409", "410", "422", "429", "503"} <= swapped


@pytest.mark.parametrize("url", ["/", "/stap/1", "/stap/1/verstuurd", "/sessie-verlopen", "/demo/mailbox"])
def test_security_headers_on_every_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


PAGES_WITH_FORMS = ["/stap/1", "/stap/2", "/stap/3", "/stap/3/onjuist", "/sessie-verlopen", "/bevestig/onbekend"]


@pytest.fixture
def pages(looked_up):
    """Every page so far, as an applicant who is at step 3 sees it."""
    looked_up.confirm("no")
    return {url: looked_up.get(url, follow_redirects=True).get_data(as_text=True)
            for url in ["/", *PAGES_WITH_FORMS, "/stap/4"]}


def test_no_inline_script_or_style_anywhere(pages):
    for url, html in pages.items():
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "<style" not in html and " style=" not in html, url
        assert "hx-on" not in html and "javascript:" not in html, url


def test_every_form_carries_a_csrf_token_and_novalidate(pages):
    for url in PAGES_WITH_FORMS:
        forms = re.findall(r"<form[^>]*>.*?</form>", pages[url], re.S)
        assert forms, url
        for form in forms:
            assert 'name="csrf_token"' in form, url
            assert "novalidate" in form and 'method="post"' in form, url


def test_every_form_htmx_posts_disables_its_button_while_sending(pages):
    for url in PAGES_WITH_FORMS:
        assert_htmx_posts_disable_their_button(pages[url])


def test_a_post_without_csrf_token_is_refused_with_a_friendly_page(client, db):
    response = client.post("/stap/1", data={"email": "a@example.nl"})
    assert response.status_code == 400
    assert "te lang open" in response.get_data(as_text=True)
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_an_htmx_post_without_csrf_token_loads_the_friendly_page(client):
    response = client.post("/stap/1", data={"email": "a@example.nl"}, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/pagina-verlopen"


def test_the_csrf_token_is_accepted_from_the_htmx_header(applicant):
    html = applicant.get("/stap/1").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    response = applicant.client.post("/stap/1", data={"email": "a@example.nl"},
                                     headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/stap/1/verstuurd"


def test_an_oversized_request_is_refused(client):
    response = client.post("/stap/1", data={"email": "a" * 100_000})
    assert response.status_code == 413
    assert "Te veel gegevens" in response.get_data(as_text=True)


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.get_data(as_text=True)


def test_session_cookie_holds_only_a_random_key(confirmed):
    cookie = confirmed.client.get_cookie("aansluiten")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    with confirmed.client.session_transaction() as session:
        assert set(session) <= {"draft", "seen", "csrf_token", "browser"}
        assert session["draft"] == confirmed.draft()["key"] and len(session["draft"]) >= 32


def test_session_cookie_is_secure_over_https(applicant):
    applicant.client.get("/", base_url="https://localhost")
    assert applicant.client.get_cookie("aansluiten", domain="localhost").secure


def test_configuration_from_prefixed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AANSLUITEN_DATABASE", str(tmp_path / "env.db"))
    monkeypatch.setenv("AANSLUITEN_SMTP_HOST", "mail.example")
    monkeypatch.setenv("AANSLUITEN_SMTP_PORT", "2525")
    monkeypatch.setenv("AANSLUITEN_DEMO", "true")
    monkeypatch.setenv("AANSLUITEN_SECRET_KEY", "from-env")
    monkeypatch.setenv("AANSLUITEN_BASE_URL", "https://aansluiten.example")
    app = create_app()
    assert app.config["DATABASE"] == str(tmp_path / "env.db")
    assert app.config["SMTP_HOST"] == "mail.example" and app.config["SMTP_PORT"] == 2525
    assert app.config["DEMO"] is True and app.config["SECRET_KEY"] == "from-env"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_demo_tools_are_off_outside_demo_mode(tmp_path, registry_path):
    app = create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "x", "REGISTRY": str(registry_path),
                      "BASE_URL": "http://localhost"})
    client = app.test_client()
    assert client.get("/demo/mailbox").status_code == 404
    assert "41000001" not in client.get("/").get_data(as_text=True)


def test_the_secret_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / ".secret_key"
    first = _secret_key(str(path))
    assert len(first) == 64
    assert _secret_key(str(path)) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_init_db_and_demo_reset_commands(app, db):
    runner = app.test_cli_runner()
    assert "Database ready" in runner.invoke(args=["init-db"]).output
    db.conn.execute("INSERT INTO rate_limits VALUES ('a', 'w', 1)")
    assert "emptied" in runner.invoke(args=["demo-reset"]).output
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0


def test_the_registry_file_comes_from_the_environment(monkeypatch, tmp_path, registry_path):
    monkeypatch.setenv("AANSLUITEN_REGISTRY", str(registry_path))
    app = create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "x", "BASE_URL": "https://a.example"})
    assert app.extensions["aansluiten.registry"].get().company("41000002").name == "Fysiotherapie 't Hoogeland"


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(applicant, db):
    headers = {"X-Forwarded-Host": "evil.example", "X-Forwarded-For": "10.1.2.3"}
    page = applicant.client.get("/stap/1")
    from .conftest import hidden_inputs
    applicant.client.post("/stap/1", data={**hidden_inputs(page.get_data(as_text=True)), "email": "a@example.nl"},
                          headers=headers)
    body, _ = applicant.last_mail("a@example.nl")
    assert "evil.example" not in body and "http://localhost/bevestig/" in body
    keys = [row["key"] for row in db.conn.execute("SELECT key FROM rate_limits")]
    assert "mail-client:127.0.0.1" in keys


def test_behind_a_configured_proxy_the_forwarded_client_counts(app, db):
    proxied = create_app({**app.config, "PROXIES": 1})
    from .conftest import Applicant
    applicant = Applicant(proxied.test_client(), db)
    page = applicant.client.get("/stap/1")
    from .conftest import hidden_inputs
    applicant.client.post("/stap/1", data={**hidden_inputs(page.get_data(as_text=True)), "email": "a@example.nl"},
                          headers={"X-Forwarded-For": "10.1.2.3"})
    keys = [row["key"] for row in db.conn.execute("SELECT key FROM rate_limits")]
    assert "mail-client:10.1.2.3" in keys


def test_outside_demo_mode_the_app_refuses_to_start_without_a_base_url(tmp_path):
    with pytest.raises(RuntimeError, match="AANSLUITEN_BASE_URL"):
        create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "x"})


def test_with_a_base_url_only_its_host_is_served(tmp_path, registry_path):
    app = create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "x", "REGISTRY": str(registry_path),
                      "BASE_URL": "https://aansluiten.example"})
    client = app.test_client()
    assert client.get("/", base_url="https://aansluiten.example").status_code == 200
    assert client.get("/", base_url="https://evil.example.com").status_code == 400
    assert client.get("/", headers={"Host": "evil.example.com"}).status_code == 400


def test_an_https_base_url_sends_hsts(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "x", "BASE_URL": "https://aansluiten.example"})
    response = app.test_client().get("/", base_url="https://aansluiten.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_plain_demo_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize("method, url, allowed", [
    ("put", "/stap/1", {"GET", "POST"}),
    ("post", "/", {"GET"}),
])
def test_a_405_says_which_methods_are_allowed(client, method, url, allowed):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert allowed <= {method.strip() for method in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("url, page", [
    ("/stap/10/afspraak", "/stap/10"),
    ("/stap/6/aanvullen", "/stap/6"),
    ("/stap/7/beheerder/3/verwijder", "/stap/7"),
    ("/beheer/aanvraag/7/identificatie/signatory", "/beheer/aanvraag/7"),
    # Not a person's token: a word of the person pages' own URLs.
    ("/persoon/afspraak", "/persoon"),
    ("/persoon/afspraak/annuleren", "/persoon"),
    ("/persoon/identificeren", "/persoon"),
])
def test_a_get_of_a_url_that_only_takes_a_form_goes_to_the_page_of_that_form(client, url, page):
    # The address bar after a form came back with its errors, or the language switch from there.
    response = client.get(url)
    assert response.status_code == 303 and response.headers["Location"] == page


def test_a_get_of_a_url_for_machines_stays_a_405(client):
    assert client.get("/callbacks/signing").status_code == 405
    assert client.get("/uitloggen").status_code == 405


@pytest.mark.parametrize("size, status", [(5_000_000, 413), (100, 303)])
def test_a_chunked_body_is_held_to_the_same_limit(applicant, db, size, status):
    import io
    page = applicant.get("/stap/1").get_data(as_text=True)
    from .conftest import hidden_inputs
    from urllib.parse import urlencode
    body = urlencode({**hidden_inputs(page), "email": "groot@example.nl", "x": "a" * size}).encode()
    response = applicant.client.post(
        "/stap/1", input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == status
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == (1 if status == 303 else 0)


@pytest.mark.parametrize("url, data", [
    ("/stap/2", {"kvk_number": "41000002", "agb_code": "04071111"}),
    ("/stap/3", {"data_correct": "yes"}),
    ("/stap/3/opnieuw", {}),
])
@pytest.mark.parametrize("version", ["9999999999999999999", "-1", "1e5", "99999999999999999999999999999"])
def test_a_version_no_column_can_hold_is_stale_not_a_crash(looked_up, url, data, version):
    looked_up.confirm("no")
    page = {"/stap/3/opnieuw": "/stap/3/onjuist"}.get(url, url)
    response = looked_up.submit(url, {**data, "version": version}, page=page)
    assert response.status_code == 409


def test_the_start_page_title_names_the_service_once(client):
    html = client.get("/").get_data(as_text=True)
    assert "<title>Aansluiten bij VECOZO</title>" in html
    assert html.count("Aansluiten bij VECOZO") >= 2  # title and header say the same


def test_the_error_summary_has_the_role_govuk_gives_it(applicant):
    html = applicant.submit("/stap/1", {"email": ""}).get_data(as_text=True)
    assert re.search(r'<div class="error-summary" role="alert"[^>]*aria-labelledby="error-summary-title"', html)


def test_a_session_is_not_re_signed_on_every_request(looked_up):
    looked_up.get("/stap/3")
    assert "Set-Cookie" not in looked_up.get("/stap/3").headers
    with looked_up.client.session_transaction() as session:
        session["seen"] -= 61
    assert "Set-Cookie" in looked_up.get("/stap/3").headers


def test_the_wtforms_catalogue_is_read_once_per_process(app, applicant, monkeypatch):
    from babel import support
    loads = []
    original = support.Translations.load
    monkeypatch.setattr(support.Translations, "load",
                        classmethod(lambda cls, *a, **k: loads.append(a) or original.__func__(cls, *a, **k)))
    for _ in range(3):
        applicant.submit("/stap/1", {"email": ""})
    assert len([args for args in loads if "wtforms" in str(args)]) <= 1


def test_the_idle_timeout_is_a_setting_and_the_texts_follow_it(app, applicant):
    short = create_app({**app.config, "IDLE_TIMEOUT": 600})
    other = short.test_client()
    from .conftest import Applicant
    person = Applicant(other, applicant.db)
    person.verify()
    html = person.get("/stap/2").get_data(as_text=True)
    assert 'data-session-timeout="600"' in html and 'data-session-warning="120"' in html
    assert "Uw sessie verloopt over 2 minuten" in html and "U bent 8 minuten niet actief geweest" in html
    assert 'aria-describedby="session-warning-text"' in html
    assert "nog niet verstuurd" in html


def test_a_worker_that_serves_pages_does_not_load_fpdf2(tmp_path):
    # fpdf2 and what it brings weigh some 25 MB a worker: only a submission loads them (agreement.py).
    # Checking that an address or a name is printable in the agreement reads the fonts with fontTools.
    script = (
        "import sys\n"
        "from app import create_app\n"
        f"app = create_app({{'TESTING': True, 'DATABASE': {str(tmp_path / 'app.db')!r}, 'SECRET_KEY': 'x', "
        "'DEMO': True})\n"
        "client = app.test_client()\n"
        "assert client.get('/').status_code == 200 and client.get('/stap/1').status_code == 200\n"
        "from onboarding import validators\n"
        "validators.agreement_email('İlker@café.nl')\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'fpdf', 'PIL', 'pyhanko'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("value", ["0", "-1"])
def test_no_visit_per_slot_stops_the_start(tmp_path, registry_path, value):
    with pytest.raises(ValueError, match="VISITS_PER_SLOT"):
        create_app({"DATABASE": str(tmp_path / "a.db"), "REGISTRY": str(registry_path), "SECRET_KEY": "x",
                    "VISITS_PER_SLOT": value})
