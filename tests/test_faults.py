"""When the store fails (locked by another process past the busy timeout, read-only, out of disk,
an I/O error): a save says so and gives back what was typed (503), any other page says to try
again later (503), and nothing half-stored is left. A fault of a statement is still a bug (500)."""

import sqlite3

import pytest

from onboarding import drafts, store

from .conftest import ICT_ADMIN, MAIN_CONTACT, element, name_main_contact, table
from .test_step6 import MISSING, save_row
from .test_step7 import add, at_step_7  # noqa: F401 (a fixture)

UNAVAILABLE = "Uw gegevens kunnen op dit moment niet worden opgeslagen"


@pytest.fixture(params=["locked", "read-only"])
def failing_store(app, db, request):
    """Another process holds the write lock (this worker waits 50 ms for it, not 10 s), or the
    store takes no writes (as a read-only file or disk: SQLite answers SQLITE_READONLY)."""
    kept = store.kept_connection(app.config["DATABASE"]).conn
    if request.param == "read-only":
        kept.execute("PRAGMA query_only = ON")
        yield
        kept.execute("PRAGMA query_only = OFF")
        return
    kept.execute("PRAGMA busy_timeout = 50")
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
