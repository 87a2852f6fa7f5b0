"""When the store fails (locked by another process past a write's deadline, read-only, out of disk,
an I/O error): a save says so and gives back what was typed (503), any other page says to try
again later (503), and nothing half-stored is left. A fault of a statement is still a bug (500)."""

import re
import sqlite3
import threading
import time

import pytest

from app import create_app
from onboarding import drafts, people, store

from .conftest import ICT_ADMIN, MAIN_CONTACT, Applicant, element, hidden_inputs, name_main_contact, table
from .test_step6 import MISSING, contacts, save_row
from .test_step6_upload import CONFIRM, HEADER_NL, PIETERS, confirm, preview, upload, xlsx
from .test_step7 import add, at_step_7  # noqa: F401 (a fixture)
from .test_step10 import book, by_appointment  # noqa: F401 (a fixture)
from .test_store import sqlite_lock_held, writer_lock_held

UNAVAILABLE = "Uw gegevens kunnen op dit moment niet worden opgeslagen"


@pytest.fixture(params=["locked", "read-only"])
def failing_store(app, db, request):
    """Another process holds the write lock (this worker waits 50 ms for it, not 5 s), or the
    store takes no writes (as a read-only file or disk: SQLite answers SQLITE_READONLY)."""
    app.config["WRITE_TIMEOUT"] = 0.05
    if request.param == "read-only":
        kept = store.kept_connection(app.config["DATABASE"]).conn
        kept.execute("PRAGMA query_only = ON")
        yield
        kept.execute("PRAGMA query_only = OFF")
        return
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    yield
    other.execute("ROLLBACK")
    other.close()


def fault(code: int, message: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize("htmx", [False, True])
def test_a_save_the_store_cannot_take_gives_back_what_was_typed(with_main_contact, db, failing_store, htmx):
    before = table(db, "persons"), table(db, "audit_log"), with_main_contact.draft()["version"]
    response = name_main_contact(with_main_contact, htmx=htmx, surname="Jansen-de Boer")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE in html and ("<html" in html) != htmx
    assert element(html, "surname")["value"] == "Jansen-de Boer"
    assert element(html, "email")["value"] == MAIN_CONTACT["email"]
    assert (table(db, "persons"), table(db, "audit_log"), with_main_contact.draft()["version"]) == before


@pytest.mark.parametrize("htmx", [False, True])
def test_a_row_the_store_cannot_take_keeps_what_was_typed(with_main_contact, db, failing_store, htmx):
    before = table(db, "contact_persons")
    response = save_row(with_main_contact, MISSING[0], htmx=htmx, surname="Bakker")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, f"row-{MISSING[0]}-1-surname")["value"] == "Bakker"
    assert table(db, "contact_persons") == before


def test_an_ict_administrator_the_store_cannot_take_keeps_what_was_typed(at_step_7, failing_store, db):
    response = add(at_step_7, name="Zorg-ICT B.V.")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, "name")["value"] == "Zorg-ICT B.V." and element(html, "email")["value"] == ICT_ADMIN["email"]
    assert table(db, "ict_admins") == []


def test_the_store_failing_for_another_write_says_to_try_again_later(with_main_contact, failing_store):
    response = with_main_contact.submit("/stap/6/aanvullen", page="/stap/6")
    assert response.status_code == 503 and "Deze dienst is even niet beschikbaar" in response.get_data(as_text=True)


def test_a_page_the_store_cannot_read_says_to_try_again_later(with_main_contact, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise fault(sqlite3.SQLITE_IOERR, "disk I/O error")

    monkeypatch.setattr(drafts, "by_key", refuse)
    response = with_main_contact.get("/stap/5")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Probeer het over een paar minuten opnieuw" in html
    assert "Er ging iets mis aan onze kant" not in html


def test_a_faulty_statement_is_still_a_bug(with_main_contact, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise fault(sqlite3.SQLITE_ERROR, "no such column: surnam")

    monkeypatch.setattr(drafts, "by_key", refuse)
    with_main_contact.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = with_main_contact.get("/stap/5")
    assert response.status_code == 500 and "Er ging iets mis aan onze kant" in response.get_data(as_text=True)


def refuse_reads(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise fault(sqlite3.SQLITE_IOERR, "disk I/O error")

    monkeypatch.setattr(drafts, "by_key", refuse)


def test_a_form_with_an_expired_token_when_the_store_cannot_be_read_says_to_try_again_later(
        with_main_contact, monkeypatch):
    refuse_reads(monkeypatch)
    with_main_contact.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = with_main_contact.client.post("/stap/5", data=MAIN_CONTACT | {"csrf_token": "verlopen"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Deze dienst is even niet beschikbaar" in html
    assert "Er ging iets mis aan onze kant" not in html


def test_a_missing_page_when_the_store_cannot_be_read_is_still_a_missing_page(with_main_contact, monkeypatch):
    refuse_reads(monkeypatch)
    with_main_contact.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = with_main_contact.get("/stap/5/bestaat-niet")
    assert response.status_code == 404 and "Pagina niet gevonden" in response.get_data(as_text=True)


# -- one deadline for a write ----------------------------------------------------------------------


@pytest.mark.parametrize("held", [sqlite_lock_held, writer_lock_held], ids=["SQLite's lock", "the writer lock"])
def test_a_save_waits_for_another_processs_lock_one_deadline_then_gives_back_what_was_typed(
        app, with_main_contact, db, held):
    app.config["WRITE_TIMEOUT"] = 0.5
    before = table(db, "persons")
    with held(app.config["DATABASE"]):
        started = time.monotonic()
        response = name_main_contact(with_main_contact, surname="Jansen-de Boer")
        took = time.monotonic() - started
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, "surname")["value"] == "Jansen-de Boer"
    assert 0.45 <= took < 1.5  # one deadline and two requests, not the default 5 s
    assert table(db, "persons") == before


def same_browser(applicant, app=None) -> Applicant:
    """Another tab of the applicant's browser (the same session), on ``app`` (another worker)."""
    client = (app or applicant.client.application).test_client()
    client.set_cookie("aansluiten", applicant.client.get_cookie("aansluiten").value)
    return Applicant(client, applicant.db)


def test_saves_queued_on_a_locked_store_wait_one_deadline_each_not_one_after_the_other(app, with_main_contact, db):
    app.config["WRITE_TIMEOUT"] = 0.8
    tabs = [with_main_contact, same_browser(with_main_contact)]
    surnames = ["de Vries", "Bakker"]
    answers = {}

    def save(number):
        started = time.monotonic()
        response = name_main_contact(tabs[number], surname=surnames[number])
        answers[number] = response, time.monotonic() - started

    with sqlite_lock_held(app.config["DATABASE"]):
        threads = [threading.Thread(target=save, args=(number,)) for number in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(answers) == 2
    for number, (response, _took) in answers.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 503 and UNAVAILABLE in html
        assert element(html, "surname")["value"] == surnames[number]
    waited = sorted(took for _response, took in answers.values())
    assert waited[-1] < 1.3, f"each waits one deadline (0.8 s), not the other's too: {waited}"


def test_a_crossing_click_that_meets_a_locked_store_gives_back_what_was_typed(with_main_contact, monkeypatch):
    """A save met the same answers stored by another click (StaleDraft) and tries again, which
    the store cannot take."""
    def crossed_then_locked(*_args, **_kwargs):
        monkeypatch.setattr(people, "save_person", locked)
        raise drafts.StaleDraft()

    def locked(*_args, **_kwargs):
        raise store.Unavailable("database is locked")

    monkeypatch.setattr(people, "save_person", crossed_then_locked)
    response = name_main_contact(with_main_contact)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, "email")["value"] == MAIN_CONTACT["email"]


def test_a_visit_the_store_cannot_take_keeps_the_address_typed(by_appointment, db, failing_store):
    response = book(by_appointment, street="Achterom")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, "street")["value"] == "Achterom"
    assert table(db, "appointments") == []


@pytest.mark.parametrize("htmx", [False, True])
def test_an_upload_the_store_cannot_keep_says_so_on_its_page(with_main_contact, db, htmx, failing_store):
    data = xlsx([HEADER_NL, ["01004567", "", "", *PIETERS]])
    response = upload(with_main_contact, data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html and 'name="file"' in html
    assert table(db, "pending_uploads") == []


@pytest.mark.parametrize("htmx", [False, True])
def test_a_preview_the_store_cannot_take_stays_with_its_button(with_main_contact, db, app, htmx):
    """Confirmed while another process holds the store: the preview again, with the notice, to confirm
    once the store takes writes again (not a page with only a way to the start)."""
    assert upload(with_main_contact, xlsx([HEADER_NL, ["01004567", "", "", *PIETERS]])).status_code == 303
    fields = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>',
                                     preview(with_main_contact), re.S).group(0))
    app.config["WRITE_TIMEOUT"] = 0.05
    with sqlite_lock_held(app.config["DATABASE"]):
        response = confirm(with_main_contact, htmx=htmx, fields=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html and f'action="{CONFIRM}"' in html
    assert contacts(db, "01004567") == []
    assert confirm(with_main_contact).status_code == 303 and len(contacts(db, "01004567")) == 1


# -- a worker's first request ------------------------------------------------------------------------


@pytest.fixture
def fresh_worker(app):
    """Another worker of the app, just started: its first request checks the schema."""
    return create_app({name: app.config[name] for name in ("TESTING", "DATABASE", "REGISTRY", "SECRET_KEY", "DEMO")}
                      | {"WRITE_TIMEOUT": 0.05, "PROPAGATE_EXCEPTIONS": False})


def test_a_fresh_worker_shows_a_page_while_the_store_takes_no_writes(with_main_contact, failing_store, fresh_worker):
    response = same_browser(with_main_contact, fresh_worker).get("/stap/5")
    assert response.status_code == 200
    assert element(response.get_data(as_text=True), "surname")["value"] == MAIN_CONTACT["surname"]


def test_a_fresh_worker_gives_back_what_was_typed_when_the_store_takes_no_writes(
        with_main_contact, failing_store, fresh_worker):
    response = name_main_contact(same_browser(with_main_contact, fresh_worker), surname="Jansen-de Boer")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and UNAVAILABLE in html
    assert element(html, "surname")["value"] == "Jansen-de Boer"


def test_a_form_with_an_expired_token_on_a_fresh_worker_meets_the_expired_page_while_the_store_takes_no_writes(
        with_main_contact, failing_store, fresh_worker):
    browser = same_browser(with_main_contact, fresh_worker)
    response = browser.client.post("/stap/5", data=MAIN_CONTACT | {"csrf_token": "verlopen"})
    assert response.status_code == 400 and "te lang open" in response.get_data(as_text=True)
