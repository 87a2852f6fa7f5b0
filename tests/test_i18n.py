"""Dutch by default, English as the second language; every string has its translation."""

import io
import os
import subprocess
import sys

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from routes import pages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, "translations", "en", "LC_MESSAGES")


def test_dutch_is_the_default(client):
    html = client.get("/stap/1").get_data(as_text=True)
    assert '<html lang="nl">' in html and "Stap 1 van 10" in html
    assert 'lang="en" hreflang="en">English</a>' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_switching_to_english_and_back(client, htmx):
    response = client.get("/taal/en?next=/stap/1")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/1"
    page = client.get("/stap/1", headers={"HX-Request": "true"} if htmx else {}).get_data(as_text=True)
    assert "Step 1 of 10" in page and "Stap 1 van 10" not in page
    client.get("/taal/nl?next=/")
    assert "Stap 1 van 10" in client.get("/stap/1").get_data(as_text=True)


def test_english_messages_for_bad_input(applicant):
    applicant.client.get("/taal/en?next=/")
    response = applicant.submit("/stap/1", {"email": "geen-adres"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<html lang="en">' in html and "Error: " in html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_mail_says_its_own_language(applicant, db, language):
    # Its HTML part declares the language it is written in, for screen readers in mail programs.
    applicant.client.get(f"/taal/{language}?next=/")
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    [html] = [row[0] for row in db.conn.execute("SELECT body_html FROM outbox")]
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "",
                                    "http://[", "/\\evil.example", "/\n", "/\r\nSet-Cookie: x=1", "/a\rb", "/\t"])
def test_the_language_switch_only_goes_back_to_this_site(client, target):
    response = client.get("/taal/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_the_language_switch_returns_to_the_page_in_the_address_bar(client):
    response = client.get("/taal/en?next=/stap/1", headers={"Referer": "http://localhost/stap/3"})
    assert response.headers["Location"] == "/stap/3"
    response = client.get("/taal/en?next=/stap/1", headers={"Referer": "https://evil.example/stap/3"})
    assert response.headers["Location"] == "/stap/1"


def test_a_broken_referrer_is_no_error(client):
    response = client.get("/taal/en?next=/stap/1", headers={"Referer": "http://[::1"})
    assert response.status_code == 303


def test_an_unknown_language_is_not_found(client):
    assert client.get("/taal/de").status_code == 404


def _catalogue():
    with open(os.path.join(CATALOGUE, "messages.po"), "rb") as handle:
        return read_po(handle, locale="en")


def test_every_string_in_the_code_has_an_english_translation(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(template), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(template, "rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    catalogue = _catalogue()
    def translated(message) -> bool:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(strings) and not message.fuzzy  # plurals: every form

    missing = sorted(
        (message_id for message_id in wanted
         if not (catalogue.get(message_id) and translated(catalogue.get(message_id)))),
        key=str,  # plural ids are tuples
    )
    assert not missing, "untranslated (run `make translations` and fill in the .po):\n" + "\n".join(
        map(str, missing))


def test_the_compiled_catalogue_matches_its_source():
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    with open(os.path.join(CATALOGUE, "messages.mo"), "rb") as handle:
        assert handle.read() == compiled.getvalue(), "run `make translations` to compile the catalogue"


@pytest.mark.parametrize("language, minutes, text", [
    ("nl", 1, "Probeer het over 1 minuut opnieuw."),
    ("nl", 5, "Probeer het over 5 minuten opnieuw."),
    ("en", 1, "Try again in 1 minute."),
    ("en", 5, "Try again in 5 minutes."),
])
def test_a_rate_limit_says_minute_or_minutes(app, language, minutes, text):
    with app.test_request_context(headers={"Cookie": f"{pages.LANGUAGE_COOKIE}={language}"}):
        assert pages.too_many_tries(minutes).endswith(text)
