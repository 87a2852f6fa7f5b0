"""Step 6: a contact person per AGB code, in a table edited inline one row at a time."""

import json
import re

import pytest

from onboarding import store
from routes.steps.contacts import MAX_UNSAVED, PAGE_SIZE, UNSAVED_HEADER

from .conftest import (
    CONTACT,
    LARGE_KVK,
    Applicant,
    assert_htmx_posts_disable_their_button,
    assert_within_step_keeps_the_way_back,
    destination,
    edit_registry,
    element,
    form_action,
    hidden_inputs,
    keeps_way_back,
    link,
    name_main_contact,
    shown,
    sign,
    table,
)
from .test_person_forms import CONTACT_REFUSED

MISSING = ("01004567", "37000890")  # the codes of KvK 41000001 that VECOZO knows no contact for
KNOWN = "01051234"  # S. de Vries is its contact at VECOZO


def hx_row(code: str) -> dict:
    """The headers htmx sends for a request from a row (``hx-target="closest tr"``)."""
    return {"HX-Request": "true", "HX-Target": f"row-{code}"}


def open_row(applicant, code, position=1, htmx=False):
    return applicant.client.get(f"/stap/6/code/{code}/{position}", headers=hx_row(code) if htmx else {})


def save_row(applicant, code, position=1, htmx=False, fields=None, **changes):
    """Open the row's form (for its csrf token and row version) and save it."""
    if fields is None:
        fields = hidden_inputs(open_row(applicant, code, position, htmx).get_data(as_text=True))
    return applicant.client.post(f"/stap/6/code/{code}/{position}", data={**fields, **CONTACT, **changes},
                                 headers=hx_row(code) if htmx else {})


def remove(applicant, code, position, htmx=False, version=None):
    """Press a contact's Verwijder button in the table."""
    html = applicant.get("/stap/6").get_data(as_text=True)
    form = re.search(rf'action="/stap/6/code/{code}/{position}/verwijder".*?</form>', html, re.S).group(0)
    fields = hidden_inputs(form)
    if version is not None:
        fields["version"] = str(version)
    return applicant.client.post(f"/stap/6/code/{code}/{position}/verwijder", data=fields,
                                 headers=hx_row(code) if htmx else {})


def row_of(html: str, code: str) -> str:
    match = re.search(rf'<tr id="row-{code}".*?</tr>', html, re.S)
    return match.group(0) if match else ""


def codes_shown(html: str) -> list[str]:
    return re.findall(r'<tr id="row-(\d{8})"', html)


def contacts(db, code=None) -> list[dict]:
    rows = table(db, "contact_persons")
    return [row for row in rows if code is None or row["agb_code"] == code]


def contact_names(db, code) -> list[tuple]:
    return [(row["position"], row["initials"], row["surname"], row["source"])
            for row in sorted(contacts(db, code), key=lambda row: row["position"])]


@pytest.fixture
def at_step_6(with_main_contact):
    return with_main_contact


# -- the table -------------------------------------------------------------------------------


def test_every_form_htmx_posts_disables_its_button_while_sent(at_step_6):
    # A second click on "Verwijder" would otherwise meet the row's new version: "changed elsewhere".
    save_row(at_step_6, MISSING[0])
    assert_htmx_posts_disable_their_button(at_step_6.get("/stap/6").get_data(as_text=True))


def test_the_gate_sends_an_applicant_without_a_main_contact_to_step_5(signed):
    response = signed.get("/stap/6")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/5"


def test_full_page_lists_every_active_code_with_its_name_and_zorgsoort(at_step_6):
    response = at_step_6.get("/stap/6")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Stap 6 van 10" in html and 'href="/stap/5"' in html  # Vorige
    assert "AGB-codes (3)" in html
    for code, name, zorgsoort in (("01004567", "M. van der Linden", "Huisartsen"),
                                  ("37000890", "Gezondheidscentrum Lindeplein", "Gezondheidscentra"),
                                  ("01051234", "Huisartsenpraktijk De Linde", "Huisartsen")):
        row = row_of(html, code)
        assert f'<th scope="row">{code}</th>' in row
        assert f'<td lang="nl" dir="auto">{name}</td>' in row and f'<td lang="nl" dir="auto">{zorgsoort}</td>' in row
    assert "01009999" not in html  # inactive
    assert 'method="post" action="/stap/6"' in html


def test_a_code_of_a_zorgsoort_the_vektis_list_lacks_says_its_zorgsoort_is_unknown(unknown_zorgsoort, at_step_6):
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert '<td lang="nl" dir="auto">Onbekende zorgsoort</td>' in row_of(html, unknown_zorgsoort)
    form = at_step_6.get(f"/stap/6/code/{unknown_zorgsoort}/1").get_data(as_text=True)
    assert '&middot; <span lang="nl" dir="auto">Onbekende zorgsoort</span>' in form


def test_fragment(at_step_6):
    response = at_step_6.get("/stap/6", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.startswith("<title>Geef uw contactpersonen op")
    assert len(codes_shown(html)) == 3
    assert "HX-Request" in response.headers["Vary"]


def test_the_contact_known_at_vecozo_is_filled_in_and_marked_as_known(at_step_6, db):
    row = row_of(at_step_6.get("/stap/6").get_data(as_text=True), KNOWN)
    assert "S. de Vries" in row and '<span class="tag">bekend bij VECOZO</span>' in row
    assert "s.devries@delinde.example" in row and "030 234 5678" in row  # "030-2345678" in the file
    assert f'href="/stap/6/code/{KNOWN}/1"' in row  # it may be changed
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]
    assert contacts(db, KNOWN)[0]["phone"] == "+31302345678"  # stored as a row's form stores it


def test_a_known_contact_that_a_rows_form_would_refuse_is_no_contact(applicant, registry_path, db):
    # What VECOZO's records hold is taken when it passes the checks of a row's form, normalised as
    # that form stores it; an incomplete or invalid record leaves the row to the applicant.
    def records(data):
        data["contacts"] += [
            {"agbCode": "01004567", "telefoon": "020 1234567 toestel 12"},  # no name, no address
            {"agbCode": "01004567", "voorletters": "A.B.", "tussenvoegsel": "d'"},
            {"agbCode": "37000890", "voorletters": "k", "achternaam": "Berg", "email": "not-an-email",
             "telefoon": "030-2345678"},
            {"agbCode": "37000890", "voorletters": "k", "achternaam": "Berg", "email": "k.berg@example.nl",
             "telefoon": "abc"},
            {"agbCode": "37000890", "voorletters": "k", "tussenvoegsel": "Van", "achternaam": "Berg",
             "email": "K.Berg@Example.NL", "telefoon": "+31 6 1234 5678"},
        ]
    edit_registry(registry_path, records)
    applicant.verify()
    applicant.look_up()
    applicant.confirm()
    sign(applicant)
    name_main_contact(applicant)

    html = applicant.get("/stap/6").get_data(as_text=True)
    assert "Nog geen contactpersoon" in row_of(html, "01004567") and "toestel" not in html
    assert contact_names(db, "01004567") == []
    assert [(row["initials"], row["prefix"], row["surname"], row["email"], row["phone"])
            for row in contacts(db, "37000890")] == [("K.", "van", "Berg", "k.berg@example.nl", "+31612345678")]
    assert "not-an-email" not in html and "abc" not in row_of(html, "37000890")


def test_rows_without_a_contact_come_first_with_a_way_to_add_one(at_step_6):
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert codes_shown(html) == [*MISSING, KNOWN]
    for code in MISSING:
        row = row_of(html, code)
        assert "Nog geen contactpersoon" in row
        assert f'href="/stap/6/code/{code}/1" hx-get="/stap/6/code/{code}/1"' in row
    # Every link and form of a row swaps that row: said once, by the rows' tbody (htmx inherits it).
    assert '<tbody hx-target="closest tr" hx-swap="outerHTML">' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_going_on_with_codes_without_a_contact_lists_them_in_the_error_summary(at_step_6, htmx):
    response = at_step_6.submit("/stap/6", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Fout: " in html and 'class="error-summary"' in html
    assert "Geef bij elke AGB-code een contactpersoon op. Nog zonder contactpersoon:" in html
    for code in MISSING:
        # To the row's first control, its link to add a contact (GOV.UK's error summary: a link leads to
        # what can take the focus, never to the row itself, which leaves the focus on the page's body).
        assert f'<a href="#row-{code}-add">AGB-code {code}</a>' in html
        add = element(html, f"row-{code}-add")
        assert add["tag"] == "a" and add["href"] == f"/stap/6/code/{code}/1"
    assert f'href="#row-{KNOWN}' not in html
    assert at_step_6.draft()["contacts_done_at"] is None
    assert at_step_6.get("/stap/7").headers["Location"] == "/stap/6"


# -- editing a row ---------------------------------------------------------------------------


def test_without_javascript_the_edit_link_opens_the_rows_form_as_a_page(at_step_6):
    response = open_row(at_step_6, "01004567")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "<title>Contactpersoon bij AGB-code 01004567 - Stap 6 van 10" in html
    assert 'method="post" action="/stap/6/code/01004567/1"' in html
    for name in ("initials", "prefix", "surname", "email", "phone"):
        assert element(html, f"row-01004567-1-{name}")["name"] == name
    assert 'href="/stap/6#row-01004567"' in html  # Vorige: back to the table at that row


def test_with_htmx_the_edit_link_swaps_the_row_for_its_form(at_step_6):
    response = open_row(at_step_6, "01004567", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<tr id="row-01004567"') and html.rstrip().endswith("</tr>")
    assert "<title>" not in html and "<html" not in html
    assert 'hx-post="/stap/6/code/01004567/1"' in html  # into the row: the tbody it replaces a row of says so
    assert element(html, "row-01004567-1-surname")["value"] == ""
    assert "HX-Request" in response.headers["Vary"]


def test_the_form_of_a_filled_row_shows_its_contact(at_step_6):
    html = open_row(at_step_6, KNOWN, htmx=True).get_data(as_text=True)
    assert element(html, f"row-{KNOWN}-1-surname")["value"] == "Vries"
    assert element(html, f"row-{KNOWN}-1-prefix")["value"] == "de"


def test_saving_a_row_with_htmx_swaps_back_the_row_with_its_contact(at_step_6, db):
    response = save_row(at_step_6, "01004567", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<tr id="row-01004567"') and "<title>" not in html
    assert 'name="surname"' not in html  # the form is gone
    assert "A.S. El Amrani" in html and "a.elamrani@delinde.example" in html and "030 234 5678" in html
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]
    assert contacts(db, "01004567")[0]["phone"] == "+31302345678"


def test_saving_a_row_without_javascript_returns_to_the_table_at_that_row(at_step_6):
    response = save_row(at_step_6, "01004567")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6#row-01004567"
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    row = row_of(html, "01004567")
    assert "A.S. El Amrani" in row and "Nog geen contactpersoon" not in row
    # The page says what was done, as htmx says it in the live region.
    assert re.search(r"Gelukt</h2>\s*<p>De contactpersoon bij AGB-code 01004567 is opgeslagen.</p>", html)


def test_changing_the_known_contact_keeps_it_as_typed(at_step_6, db):
    assert save_row(at_step_6, KNOWN, surname="Visser").status_code == 303
    assert contact_names(db, KNOWN) == [(1, "A.S.", "Visser", "applicant")]
    assert "bekend bij VECOZO" not in row_of(at_step_6.get("/stap/6").get_data(as_text=True), KNOWN)


def test_saving_a_row_is_written_to_the_audit_log(at_step_6, db):
    save_row(at_step_6, "01004567")
    last = db.conn.execute("SELECT step, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(last) == (6, "contact person 1 of AGB code 01004567 saved")


@pytest.mark.parametrize("field, typed, message", CONTACT_REFUSED)
def test_with_htmx_errors_stay_in_the_row(at_step_6, db, field, typed, message):
    response = save_row(at_step_6, "01004567", htmx=True, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<tr id="row-01004567"') and "<title>" not in html
    field_id = f"row-01004567-1-{field}"
    attributes = element(html, field_id)
    assert attributes["aria-invalid"] == "true"
    assert attributes["aria-describedby"] == f"{field_id}-error"
    assert shown(f'<p class="field-error" id="{field_id}-error"><span class="visually-hidden">Fout:</span> {{}}</p>',
                 message, html)
    # The row's own error summary links to the row's field.
    assert 'id="row-01004567-errors-title"' in html
    assert shown(f'<a href="#{field_id}">{{}}</a>', message, html)
    if typed.isprintable():
        assert attributes["value"] == typed
    assert contacts(db, "01004567") == []


@pytest.mark.parametrize("field, typed, message", CONTACT_REFUSED)
def test_without_javascript_errors_come_back_on_the_rows_page(at_step_6, db, field, typed, message):
    response = save_row(at_step_6, "01004567", **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Fout: Contactpersoon bij AGB-code 01004567" in html
    field_id = f"row-01004567-1-{field}"
    assert shown(f'<a href="#{field_id}">{{}}</a>', message, html)
    assert element(html, field_id)["aria-invalid"] == "true"
    assert element(html, f"{field_id}-error")["tag"] == "p"
    assert contacts(db, "01004567") == []


@pytest.mark.parametrize("field", ["surname", "email", "phone"])
def test_a_field_left_out_of_a_filled_rows_save_is_refused_not_taken_from_the_stored_contact(at_step_6, db, field):
    fields = hidden_inputs(open_row(at_step_6, KNOWN, htmx=True).get_data(as_text=True))
    sent = {key: value for key, value in {**fields, **CONTACT}.items() if key != field}
    response = at_step_6.client.post(f"/stap/6/code/{KNOWN}/1", data=sent, headers=hx_row(KNOWN))
    assert response.status_code == 422
    assert element(response.get_data(as_text=True), f"row-{KNOWN}-1-{field}")["aria-invalid"] == "true"
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]


def test_cancel_with_htmx_restores_the_row(at_step_6):
    open_row(at_step_6, KNOWN, htmx=True)
    response = at_step_6.client.get(f"/stap/6/code/{KNOWN}?na=1", headers=hx_row(KNOWN))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="row-{KNOWN}"') and "<title>" not in html
    assert "S. de Vries" in html and 'name="surname"' not in html
    # Focus goes back to the row's edit link.
    assert re.search(rf'href="/stap/6/code/{KNOWN}/1"[^>]*data-focus', html)


def test_cancel_without_javascript_returns_to_the_table_at_that_row(at_step_6):
    response = at_step_6.get(f"/stap/6/code/{KNOWN}")
    assert response.status_code == 303 and response.headers["Location"] == f"/stap/6#row-{KNOWN}"


def test_an_unknown_code_is_not_found(at_step_6):
    assert open_row(at_step_6, "04071111").status_code == 404  # another company's code
    fields = hidden_inputs(at_step_6.get("/stap/6").get_data(as_text=True))
    assert save_row(at_step_6, "99999999", fields=fields).status_code == 404


# -- a second contact person -----------------------------------------------------------------

SECOND = {"initials": "B.", "prefix": "van", "surname": "Dam", "email": "b.vandam@delinde.example",
          "phone": "06-11223344"}


def test_a_second_contact_person_can_be_added(at_step_6, db):
    row = row_of(at_step_6.get("/stap/6").get_data(as_text=True), KNOWN)
    assert f'href="/stap/6/code/{KNOWN}/2"' in row and "Voeg een tweede contactpersoon toe" in row
    response = save_row(at_step_6, KNOWN, position=2, htmx=True, **SECOND)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "S. de Vries" in html and "B. van Dam" in html
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry"), (2, "B.", "Dam", "applicant")]


def test_at_most_two_contact_persons_per_code(at_step_6, db):
    save_row(at_step_6, KNOWN, position=2, **SECOND)
    row = row_of(at_step_6.get("/stap/6").get_data(as_text=True), KNOWN)
    assert "Voeg een tweede contactpersoon toe" not in row and f"/stap/6/code/{KNOWN}/3" not in row
    assert open_row(at_step_6, KNOWN, position=3).status_code == 404
    fields = hidden_inputs(open_row(at_step_6, KNOWN, position=2).get_data(as_text=True))
    assert save_row(at_step_6, KNOWN, position=3, fields=fields).status_code == 404
    assert len(contacts(db, KNOWN)) == 2


def test_removing_the_first_contact_person_moves_the_second_up(at_step_6, db):
    save_row(at_step_6, KNOWN, position=2, **SECOND)
    response = remove(at_step_6, KNOWN, 1, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="row-{KNOWN}"')
    assert "B. van Dam" in html and "S. de Vries" not in html
    assert contact_names(db, KNOWN) == [(1, "B.", "Dam", "applicant")]


def test_removing_the_second_contact_person_keeps_the_first(at_step_6, db):
    save_row(at_step_6, KNOWN, position=2, **SECOND)
    response = remove(at_step_6, KNOWN, 2)
    assert response.status_code == 303 and response.headers["Location"] == f"/stap/6#row-{KNOWN}"
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]


def test_removing_the_only_contact_person_leaves_the_row_without_one(at_step_6, db):
    remove(at_step_6, KNOWN, 1)
    assert contacts(db, KNOWN) == []
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert "Nog geen contactpersoon" in row_of(html, KNOWN) and "3 AGB-codes hebben nog geen contactpersoon." in html


def test_a_remove_from_an_older_tab_is_refused(at_step_6, db):
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    old = hidden_inputs(re.search(rf'action="/stap/6/code/{KNOWN}/1/verwijder".*?</form>', html, re.S).group(0))
    assert save_row(at_step_6, KNOWN, surname="Visser").status_code == 303
    response = at_step_6.client.post(f"/stap/6/code/{KNOWN}/1/verwijder", data=old, headers=hx_row(KNOWN))
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in response.get_data(as_text=True)
    assert contact_names(db, KNOWN) == [(1, "A.S.", "Visser", "applicant")]


# -- two tabs: a version per row --------------------------------------------------------------


def test_saving_one_row_does_not_make_the_open_form_of_another_row_stale(at_step_6, db):
    other_form = hidden_inputs(open_row(at_step_6, "37000890", htmx=True).get_data(as_text=True))
    assert save_row(at_step_6, "01004567", htmx=True).status_code == 200
    response = save_row(at_step_6, "37000890", htmx=True, fields=other_form, surname="Bos")
    assert response.status_code == 200
    assert contact_names(db, "37000890") == [(1, "A.S.", "Bos", "applicant")]


def test_a_second_save_of_a_row_from_an_older_tab_is_refused_and_shows_what_is_stored(at_step_6, db):
    old_form = hidden_inputs(open_row(at_step_6, "01004567", htmx=True).get_data(as_text=True))
    assert save_row(at_step_6, "01004567", htmx=True, fields=old_form).status_code == 200
    response = save_row(at_step_6, "01004567", htmx=True, fields=old_form, surname="Bos")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert html.lstrip().startswith('<tr id="row-01004567"')
    assert "in een ander venster of tabblad gewijzigd" in html
    assert "A.S. El Amrani" in html  # what the other tab stored
    assert element(html, "row-01004567-1-surname")["value"] == "Bos"  # what this tab typed
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]
    # Sent again on purpose (the form now carries the current row version), it is saved.
    again = save_row(at_step_6, "01004567", htmx=True, fields=hidden_inputs(html), surname="Bos")
    assert again.status_code == 200
    assert contact_names(db, "01004567") == [(1, "A.S.", "Bos", "applicant")]


def test_a_row_save_without_javascript_from_an_older_tab_is_refused_too(at_step_6, db):
    old_form = hidden_inputs(open_row(at_step_6, "01004567").get_data(as_text=True))
    assert save_row(at_step_6, "01004567", fields=old_form).status_code == 303
    response = save_row(at_step_6, "01004567", fields=old_form, surname="Bos")
    assert response.status_code == 409 and "<html" in response.get_data(as_text=True)
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]


# -- filling rows with the main contact ------------------------------------------------------


@pytest.mark.parametrize("current, pushed, replaced", [
    ("http://localhost/stap/6", None, "/stap/6"),  # the page it stays on: no second history entry
    ("http://localhost/stap/6?pagina=2", "/stap/6", None),
    (None, "/stap/6", None),
])
def test_with_htmx_the_bulk_action_replaces_the_history_entry_of_the_page_it_stays_on(at_step_6, current, pushed,
                                                                                      replaced):
    fields = hidden_inputs(at_step_6.get("/stap/6").get_data(as_text=True))
    headers = {"HX-Request": "true", **({"HX-Current-URL": current} if current else {})}
    response = at_step_6.client.post("/stap/6/aanvullen", data=fields, headers=headers)
    assert response.status_code == 200
    assert response.headers.get("HX-Push-Url") == pushed and response.headers.get("HX-Replace-Url") == replaced


@pytest.mark.parametrize("htmx", [False, True])
def test_the_bulk_action_fills_every_empty_row_with_the_main_contact(at_step_6, db, htmx):
    save_row(at_step_6, "01004567")
    response = at_step_6.submit("/stap/6/aanvullen", page="/stap/6", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/6"
        assert "1 AGB-code heeft de hoofdcontactpersoon als contactpersoon gekregen." in response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    assert contact_names(db, "37000890") == [(1, "J.", "Jansen", "main_contact")]
    assert contacts(db, "37000890")[0]["phone"] == "+31687654321"
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]  # left alone
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert '<span class="tag">hoofdcontactpersoon</span>' in row_of(html, "37000890")
    assert "/stap/6/aanvullen" not in html  # nothing left to fill


def test_a_bulk_action_from_an_older_tab_is_refused(at_step_6, db):
    old = hidden_inputs(at_step_6.get("/stap/6").get_data(as_text=True))
    name_main_contact(at_step_6, surname="Pietersen")
    response = at_step_6.client.post("/stap/6/aanvullen", data=old)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in response.get_data(as_text=True)
    assert contacts(db, "37000890") == []


def test_rows_filled_with_the_main_contact_follow_a_new_main_contact_only_when_asked(at_step_6, db):
    save_row(at_step_6, "01004567")
    at_step_6.submit("/stap/6/aanvullen", page="/stap/6")
    assert name_main_contact(at_step_6, initials="K.", surname="Pietersen",
                             email="k.pietersen@delinde.example").status_code == 303
    # Not yet: the rows keep the former main contact, and the table offers to update them.
    assert contact_names(db, "37000890") == [(1, "J.", "Jansen", "main_contact")]
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert "1 contactpersoon is ingevuld met de vorige gegevens van de hoofdcontactpersoon." in html
    assert 'action="/stap/6/hoofdcontact-volgen"' in html
    # The row says so too: it is no longer the main contact's (alone as well, as a swap shows it).
    assert '<span class="tag">vorige gegevens hoofdcontactpersoon</span>' in row_of(html, "37000890")
    alone = at_step_6.get("/stap/6/code/37000890", htmx=True).get_data(as_text=True)
    assert '<span class="tag">vorige gegevens hoofdcontactpersoon</span>' in alone
    response = at_step_6.submit("/stap/6/hoofdcontact-volgen", page="/stap/6")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    assert contact_names(db, "37000890") == [(1, "K.", "Pietersen", "main_contact")]
    assert contacts(db, "37000890")[0]["email"] == "k.pietersen@delinde.example"
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]  # typed: untouched
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert "hoofdcontact-volgen" not in html
    assert '<span class="tag">hoofdcontactpersoon</span>' in row_of(html, "37000890")


def test_a_filled_row_the_applicant_changed_no_longer_follows_the_main_contact(at_step_6, db):
    at_step_6.submit("/stap/6/aanvullen", page="/stap/6")
    assert save_row(at_step_6, "37000890", initials="J.", surname="Jansen-Bos").status_code == 303
    name_main_contact(at_step_6, surname="Pietersen")
    at_step_6.submit("/stap/6/hoofdcontact-volgen", page="/stap/6")
    assert contact_names(db, "37000890") == [(1, "J.", "Jansen-Bos", "applicant")]
    assert contact_names(db, "01004567") == [(1, "J.", "Pietersen", "main_contact")]


def test_rows_filled_from_two_main_contacts_count_those_behind_the_current_one(at_step_6, db):
    behind = "1 contactpersoon is ingevuld met de vorige gegevens van de hoofdcontactpersoon."
    at_step_6.submit("/stap/6/aanvullen", page="/stap/6")  # both codes: J. Jansen
    assert remove(at_step_6, MISSING[0], 1).status_code == 303
    name_main_contact(at_step_6, initials="K.", surname="Pietersen")
    at_step_6.submit("/stap/6/aanvullen", page="/stap/6")  # the emptied code: K. Pietersen
    assert contact_names(db, MISSING[0]) == [(1, "K.", "Pietersen", "main_contact")]
    assert behind in at_step_6.get("/stap/6").get_data(as_text=True)  # Jansen's
    name_main_contact(at_step_6)  # J. Jansen again
    assert behind in at_step_6.get("/stap/6").get_data(as_text=True)  # Pietersen's


# -- going on --------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_with_a_contact_on_every_code_going_on_leads_to_step_7(at_step_6, htmx):
    for code in MISSING:
        assert save_row(at_step_6, code).status_code == 303
    response = at_step_6.submit("/stap/6", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/7"
        assert response.get_data(as_text=True).startswith("<title>Geef uw ICT-beheerder(s) op")
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/7"
    assert at_step_6.draft()["contacts_done_at"]
    assert at_step_6.get("/stap/7").status_code == 200


def test_removing_a_contact_after_going_on_reopens_step_6(at_step_6):
    at_step_6.submit("/stap/6/aanvullen", page="/stap/6")
    assert at_step_6.submit("/stap/6").headers["Location"] == "/stap/7"
    remove(at_step_6, KNOWN, 1)
    assert at_step_6.get("/stap/7").headers["Location"] == "/stap/6"


# -- a large organisation: 1,000 codes --------------------------------------------------------


def _to_step_6(applicant, kvk, agb, email):
    applicant.verify(email)
    assert applicant.look_up(kvk=kvk, agb=agb).status_code == 303
    assert applicant.confirm().status_code == 303
    assert sign(applicant).status_code == 303
    assert name_main_contact(applicant).status_code == 303
    return applicant


@pytest.fixture
def large(applicant, large_registry):
    return _to_step_6(applicant, LARGE_KVK, "01000000", "groep@example.nl")


LARGE_CODES = sorted(f"{('01', '04', '06', '12')[number % 4]}{number:06d}" for number in range(1000))


def test_a_large_organisation_sees_its_codes_in_pages_of_50(large):
    assert PAGE_SIZE == 50  # SPEC §1, step 6
    html = large.get("/stap/6").get_data(as_text=True)
    assert "AGB-codes (1000)" in html and "Pagina 1 van 20" in html
    assert "AGB-code 1 tot en met 50 van 1000" in html
    assert codes_shown(html) == LARGE_CODES[:50]
    assert 'href="/stap/6?pagina=2"' in html
    second = large.get("/stap/6?pagina=2").get_data(as_text=True)
    assert codes_shown(second) == LARGE_CODES[50:100] and "Pagina 2 van 20" in second
    last = large.get("/stap/6?pagina=20").get_data(as_text=True)
    assert codes_shown(last) == LARGE_CODES[950:] and 'name="version"' in last
    assert "01999999" not in html  # the inactive code


def test_with_htmx_a_page_of_codes_swaps_only_the_table(large):
    response = large.client.get("/stap/6?pagina=2", headers={"HX-Request": "true", "HX-Target": "contact-rows"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="contact-rows"')
    assert "<title>" not in html and 'name="zoek"' not in html and 'action="/stap/6"' not in html
    assert codes_shown(html) == LARGE_CODES[50:100]


def test_rows_without_a_contact_come_first_and_saving_returns_to_the_page_of_the_row(large):
    first = LARGE_CODES[0]
    response = save_row(large, first)
    # The row now has a contact: it moves behind the 999 rows without one, onto page 20.
    assert response.status_code == 303 and response.headers["Location"] == f"/stap/6?pagina=20#row-{first}"
    assert codes_shown(large.get("/stap/6").get_data(as_text=True)) == LARGE_CODES[1:51]
    last = large.get("/stap/6?pagina=20").get_data(as_text=True)
    assert codes_shown(last)[-1] == first and "A.S. El Amrani" in row_of(last, first)


def test_without_javascript_a_rows_page_leads_back_to_the_page_of_the_table_that_holds_the_row(large):
    html = open_row(large, LARGE_CODES[120]).get_data(as_text=True)
    assert f'class="back-link" href="/stap/6?pagina=3#row-{LARGE_CODES[120]}"' in html


def test_without_javascript_a_row_opened_from_a_filtered_table_returns_to_it(large):
    """The filter travels with the row's page (its links, its form, its back link), so that saving,
    removing or going back shows the table filtered as it was, at the page that holds the row."""
    code = "12000999"
    table = large.get("/stap/6?zoek=Locatie+0999").get_data(as_text=True)
    assert f'href="/stap/6/code/{code}/1?zoek=Locatie+0999"' in row_of(table, code)
    page = large.get(f"/stap/6/code/{code}/1?zoek=Locatie+0999").get_data(as_text=True)
    assert f'class="back-link" href="/stap/6?zoek=Locatie+0999#row-{code}"' in page
    assert f'action="/stap/6/code/{code}/1?zoek=Locatie+0999"' in page
    assert f'hx-get="/stap/6/code/{code}?zoek=Locatie+0999&amp;na=1"' in page  # Cancel, with htmx
    fields = hidden_inputs(page)
    saved = large.client.post(f"/stap/6/code/{code}/1?zoek=Locatie+0999", data={**fields, **CONTACT})
    assert saved.status_code == 303 and saved.headers["Location"] == f"/stap/6?zoek=Locatie+0999#row-{code}"
    back = large.get(saved.headers["Location"]).get_data(as_text=True)
    assert codes_shown(back) == [code] and "Gelukt" in back and "A.S. El Amrani" in row_of(back, code)
    # Its Verwijder button too.
    assert f'action="/stap/6/code/{code}/1/verwijder?zoek=Locatie+0999"' in row_of(back, code)
    removed = large.client.post(f"/stap/6/code/{code}/1/verwijder?zoek=Locatie+0999", data=hidden_inputs(
        re.search(r'<form[^>]*verwijder.*?</form>', row_of(back, code), re.S).group(0)))
    assert removed.status_code == 303 and removed.headers["Location"] == f"/stap/6?zoek=Locatie+0999#row-{code}"


def test_without_javascript_a_row_returns_to_the_page_of_the_filtered_table_that_holds_it(large):
    # "Locatie 01" finds 100 codes: the 60th of them on the second page.
    code = "12000159"  # Locatie 0159: the registry's order, all still without a contact
    page = large.get(f"/stap/6/code/{code}/1?zoek=Locatie+01").get_data(as_text=True)
    assert f'class="back-link" href="/stap/6?pagina=2&amp;zoek=Locatie+01#row-{code}"' in page


def test_a_row_the_filter_does_not_find_returns_to_the_whole_table(large):
    page = large.get(f"/stap/6/code/{LARGE_CODES[120]}/1?zoek=Locatie+0999").get_data(as_text=True)
    assert f'class="back-link" href="/stap/6?pagina=3#row-{LARGE_CODES[120]}"' in page


@pytest.mark.parametrize("query, expected", [
    ("04000001", ["04000001"]),
    ("04 00 00 01", ["04000001"]),  # typed as a card shows it, as step 2 takes it
    ("04.00.00.01", ["04000001"]),
    ("0600001", ["06000010", "06000014", "06000018"]),
    ("Locatie 0999", ["12000999"]),
    ("locatie 0999", ["12000999"]),
    ("%", []),
    ("Locatie 10", []),
])
def test_the_filter_finds_codes_by_code_and_by_name(large, query, expected):
    response = large.get("/stap/6", query_string={"zoek": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert codes_shown(html) == expected
    assert element(html, "zoek")["value"] == query
    if not expected:
        assert "Geen AGB-code gevonden." in html


@pytest.mark.parametrize("query", ["Diëtistenpraktijk", "dietistenpraktijk", "ÖLMÜHLE", "olmuhle", "ölmühle"])
def test_the_filter_finds_a_name_whatever_its_case_and_accents_typed(applicant, registry_path, query):
    def rename(data):
        next(code for code in data["agb"] if code["agbCode"] == "01004567")["naam"] = "Diëtistenpraktijk Ölmühle"
    edit_registry(registry_path, rename)
    at_step_6 = _to_step_6(applicant, "41000001", "01051234", "praktijk@example.nl")
    html = at_step_6.get("/stap/6", query_string={"zoek": query}).get_data(as_text=True)
    assert codes_shown(html) == ["01004567"], query


def test_the_filter_leaves_control_characters_out(large):
    # SQLite ends a LIKE pattern at a NUL: "%\x00%" found every code.
    html = large.get("/stap/6", query_string={"zoek": "0400\x000001\n"}).get_data(as_text=True)
    assert codes_shown(html) == ["04000001"] and element(html, "zoek")["value"] == "04000001"


def test_the_filter_field_takes_no_more_than_the_filter_keeps(large):
    # A pasted page of text is cut in the browser, not refused by the server as too long a URL.
    field = element(large.get("/stap/6", query_string={"zoek": "4" * 150}).get_data(as_text=True), "zoek")
    assert field["maxlength"] == "100" and field["value"] == "4" * 100


def test_a_filter_with_many_results_comes_in_pages_that_keep_the_filter(large):
    html = large.get("/stap/6?zoek=Locatie+01").get_data(as_text=True)
    assert "100 codes gevonden" in html and "Pagina 1 van 2" in html
    assert 'href="/stap/6?pagina=2&amp;zoek=Locatie+01"' in html
    last = large.get("/stap/6?pagina=2&zoek=Locatie+01").get_data(as_text=True)
    assert len(codes_shown(last)) == 50 and "Locatie 0199" in last


def test_with_htmx_the_filter_swaps_only_the_table(large):
    response = large.client.get("/stap/6?zoek=Locatie+0999",
                                headers={"HX-Request": "true", "HX-Target": "contact-rows"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="contact-rows"')
    assert "<title>" not in html and "<html" not in html
    assert codes_shown(html) == ["12000999"]


ROWS_PART = {"HX-Request": "true", "HX-Target": "contact-rows"}


def kept_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="row-(\d{8})"[^>]* hx-preserve>', html)


def typed_in(*codes: str) -> dict:
    """The header app.js sends while these rows hold what was typed: each one's first changed field."""
    return {UNSAVED_HEADER: " ".join(f"row-{code}-1-surname" for code in codes)}


def test_with_htmx_a_row_being_typed_in_stays_when_the_table_is_paged_or_filtered(large):
    """app.js names the rows holding unsaved typing (UNSAVED_HEADER); the table marks them hx-preserve,
    so htmx keeps the page's own, typed values and all: where they are on this page, else above."""
    first, fifth = LARGE_CODES[0], LARGE_CODES[4]
    headers = {**ROWS_PART, **typed_in(fifth, first)}
    second = large.client.get("/stap/6?pagina=2", headers=headers).get_data(as_text=True)
    assert codes_shown(second) == [first, fifth, *LARGE_CODES[50:100]]
    assert kept_rows(second) == [first, fifth]
    # On its own page, in its place, once.
    own = large.client.get("/stap/6", headers=headers).get_data(as_text=True)
    assert codes_shown(own) == LARGE_CODES[:50] and kept_rows(own) == [first, fifth]
    # Filtered away, it still stands above what the filter found, which the count alone tells.
    found = large.client.get("/stap/6?zoek=Locatie+0999", headers=headers).get_data(as_text=True)
    assert codes_shown(found) == [first, fifth, "12000999"] and "1 code gevonden" in found


@pytest.mark.parametrize("named", [
    "row-01999999-1-surname",  # the inactive code: not the draft's
    "row-01000000-3-surname row-01000000-1-version row-01000000-1-surname- 01000000",  # not a row's field
    "12345678 %ZZ%2F..%2F 0100000' row-%ZZ-1-email",
    "\t ",
])
def test_a_row_named_unsaved_that_is_not_the_drafts_is_left_out(large, named):
    headers = {**ROWS_PART, UNSAVED_HEADER: named}
    html = large.client.get("/stap/6?pagina=2", headers=headers).get_data(as_text=True)
    assert codes_shown(html) == LARGE_CODES[50:100] and kept_rows(html) == []
    assert large.submit("/stap/6/aanvullen", htmx=True, page="/stap/6", headers=headers).status_code == 200


def test_the_table_says_it_depends_on_the_rows_named_unsaved(large):
    response = large.client.get("/stap/6", headers={**ROWS_PART, **typed_in(LARGE_CODES[0])})
    assert UNSAVED_HEADER.lower() in {name.lower() for name in response.vary}


def test_at_most_ten_rows_named_unsaved_are_kept(large):
    html = large.client.get("/stap/6?pagina=3", headers={**ROWS_PART, **typed_in(*LARGE_CODES[:20])}).get_data(
        as_text=True)
    assert kept_rows(html) == LARGE_CODES[:MAX_UNSAVED] and MAX_UNSAVED == 10


def test_a_whole_page_keeps_no_row(large):
    """Without htmx (a reload, a bookmark) nothing on the page holds what was typed."""
    html = large.client.get("/stap/6?pagina=2", headers=typed_in(LARGE_CODES[0])).get_data(as_text=True)
    assert codes_shown(html) == LARGE_CODES[50:100] and "hx-preserve" not in html


@pytest.mark.parametrize("action", ["/stap/6", "/stap/6/aanvullen"])
def test_going_on_or_filling_every_row_waits_for_a_row_being_typed_in(large, db, action):
    """Doorgaan or the bulk fill would close the row and lose what was typed (the fill would even put
    the main contact where the applicant was typing someone else): the page says so, leads to it, and
    keeps it; once it is saved, they go on."""
    if action == "/stap/6":
        assert large.submit("/stap/6/aanvullen", page="/stap/6").status_code == 303  # every code has a contact
    code = LARGE_CODES[3]
    version = large.draft()["version"]
    response = large.submit(action, htmx=True, page="/stap/6", headers=typed_in(code))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "nog niet opgeslagen" in html
    assert f'<a href="#row-{code}-1-surname">AGB-code {code}</a>' in html
    assert kept_rows(html) == [code]
    assert large.draft()["version"] == version and large.draft()["contacts_done_at"] is None
    assert large.submit(action, htmx=True, page="/stap/6").status_code == 200  # nothing typed any more


def test_with_htmx_the_filter_says_how_many_it_found_and_emptied_how_many_there_are(large):
    """The live region's count follows the filter: what it found, and all codes once it is emptied
    (else the count of the last filter stood there, and a screen reader heard nothing)."""
    headers = {**ROWS_PART, "HX-Trigger": "contact-filter"}
    found = large.client.get("/stap/6?zoek=Locatie+0999", headers=headers)
    assert "1 AGB-code gevonden." in found.headers["HX-Trigger-After-Settle"]
    emptied = large.client.get("/stap/6?zoek=", headers=headers)
    assert "Alle 1000 AGB-codes." in emptied.headers["HX-Trigger-After-Settle"]
    paged = large.client.get("/stap/6?pagina=2", headers=ROWS_PART)  # a page of the list: its heading says it
    assert "AGB-codes." not in paged.headers["HX-Trigger-After-Settle"]


def test_going_on_names_the_first_ten_codes_without_a_contact_and_counts_the_rest(large):
    response = large.submit("/stap/6")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.findall(r'<a href="#row-(\d{8})-add">', html) == LARGE_CODES[:10]
    assert all(element(html, f"row-{code}-add")["tag"] == "a" for code in LARGE_CODES[:10])
    assert "en nog 990 andere codes" in html


def test_the_bulk_action_fills_all_thousand_rows(large, db):
    response = large.submit("/stap/6/aanvullen", page="/stap/6")
    assert response.status_code == 303
    assert db.conn.execute("SELECT count(*) FROM contact_persons WHERE source = 'main_contact'").fetchone()[0] == 1000
    assert large.submit("/stap/6").headers["Location"] == "/stap/7"


TABLES = ("drafts", "draft_agb_codes", "contact_persons", "persons", "ict_admins", "audit_log", "email_tokens",
          "outbox", "rate_limits")


def test_saving_a_row_changes_that_row_only(large, db):
    code = LARGE_CODES[500]
    fields = hidden_inputs(open_row(large, code, htmx=True).get_data(as_text=True))
    before = {name: table(db, name) for name in TABLES}
    assert save_row(large, code, htmx=True, fields=fields).status_code == 200
    after = {name: table(db, name) for name in TABLES}

    changed = {name: [row for row in after[name] if row not in before[name]] for name in TABLES}
    changed = {name: rows for name, rows in changed.items() if rows}
    gone = {name for name in TABLES if any(row not in after[name] for row in before[name])}
    assert set(changed) - {"drafts"} == {"draft_agb_codes", "contact_persons", "audit_log"}
    assert all(len(rows) == 1 for rows in changed.values())
    assert gone == set(changed) - {"contact_persons", "audit_log"}  # the new contact and log entry are added
    [code_row], [contact], [entry] = changed["draft_agb_codes"], changed["contact_persons"], changed["audit_log"]
    assert (code_row["agb_code"], code_row["version"], code_row["contacts"]) == (code, 2, 1)
    assert (contact["agb_code"], contact["position"], contact["surname"]) == (code, 1, "El Amrani")
    assert entry["action"] == f"contact person 1 of AGB code {code} saved"
    if "drafts" in changed:  # only the moment of the last change, not the draft's version
        old, new = before["drafts"][0], changed["drafts"][0]
        assert {key for key in old if old[key] != new[key]} == {"updated_at"}


def test_a_page_of_rows_that_share_a_landline_formats_it_once(large, db, phones_formatted):
    # A hospital group gives most codes the same few people, often with a landline: phonenumbers
    # takes about 25 µs a landline, so a page of 50 rows must not pay it per row.
    assert large.submit("/stap/6/aanvullen", page="/stap/6").status_code == 303
    db.conn.execute("UPDATE contact_persons SET phone = '+31302345678'")
    db.conn.commit()

    html = large.get("/stap/6").get_data(as_text=True)

    assert html.count("030 234 5678") == PAGE_SIZE
    assert len(phones_formatted) == 1


def _row_save_statements(app, applicant, code):
    """The SQL the app runs while saving one row with htmx, and the work SQLite does for it
    (virtual machine steps), on the app's own connection (the test client runs in this thread)."""
    fields = hidden_inputs(open_row(applicant, code, htmx=True).get_data(as_text=True))
    connection = store.kept_connection(app.config["DATABASE"]).conn
    statements, work = [], [0]

    def step():
        work[0] += 1

    connection.set_trace_callback(statements.append)
    connection.set_progress_handler(step, 1)
    try:
        response = save_row(applicant, code, htmx=True, fields=fields)
    finally:
        connection.set_trace_callback(None)
        connection.set_progress_handler(None, 1)
    assert response.status_code == 200
    return [" ".join(statement.split()) for statement in statements], work[0]


@pytest.fixture
def small_and_large(app, db, large_registry):
    """Two applicants on one app: the three-code practice and the 1,000-code organisation."""
    small = _to_step_6(Applicant(app.test_client(), db), "41000001", "01051234", "praktijk@example.nl")
    large = _to_step_6(Applicant(app.test_client(), db), LARGE_KVK, "01000000", "groep@example.nl")
    return small, large


WRITE = re.compile(r"^(INSERT|UPDATE|DELETE)\b.*\b(draft_agb_codes|contact_persons)\b", re.I)


def test_a_row_save_writes_only_that_row_with_as_many_statements_at_1000_codes_as_at_3(app, small_and_large):
    small, large = small_and_large
    small_statements, _ = _row_save_statements(app, small, "01004567")
    large_statements, _ = _row_save_statements(app, large, LARGE_CODES[500])
    assert len(large_statements) == len(small_statements)
    for statements, code in ((small_statements, "01004567"), (large_statements, LARGE_CODES[500])):
        writes = [statement for statement in statements if WRITE.match(statement)]
        assert writes, statements
        for statement in writes:
            if statement.upper().startswith("INSERT"):
                # One row of values, never INSERT ... SELECT over the draft's rows.
                assert " VALUES (" in statement and " SELECT " not in statement.upper(), statement
                assert f"'{code}'" in statement, statement
            else:
                assert re.search(rf"\bagb_code = ('{code}'|\?)", statement), statement


def test_a_row_save_reads_that_row_only_so_it_costs_the_same_at_1000_codes_as_at_3(app, small_and_large):
    small, large = small_and_large
    _, small_work = _row_save_statements(app, small, "01004567")
    _, large_work = _row_save_statements(app, large, LARGE_CODES[500])
    assert large_work <= 1.2 * small_work, (small_work, large_work)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_double_click_on_a_row_save_goes_on(at_step_6, db, htmx):
    fields = hidden_inputs(open_row(at_step_6, "01004567", 1, htmx).get_data(as_text=True))
    first = save_row(at_step_6, "01004567", htmx=htmx, fields=fields)
    second = save_row(at_step_6, "01004567", htmx=htmx, fields=fields)  # the same version: a second click
    assert first.status_code == second.status_code and second.status_code in (200, 303)
    assert "in een ander venster" not in second.get_data(as_text=True)
    assert len(contacts(db, "01004567")) == 1


def test_a_double_click_on_the_bulk_button_goes_on(at_step_6):
    page = hidden_inputs(at_step_6.get("/stap/6").get_data(as_text=True))
    assert at_step_6.client.post("/stap/6/aanvullen", data=page).status_code == 303
    assert at_step_6.client.post("/stap/6/aanvullen", data=page).status_code == 303


def test_a_row_save_with_htmx_is_announced(at_step_6):
    response = save_row(at_step_6, "01004567", htmx=True)
    events = json.loads(response.headers["HX-Trigger-After-Settle"])
    assert events["aansluiten:announce"] == "De contactpersoon bij AGB-code 01004567 is opgeslagen."
    # The page's title loses a "Fout: " an error of the row gave it.
    assert events["aansluiten:error"] == {"prefix": "Fout", "shown": False}


def test_a_row_refused_with_htmx_tells_the_page_to_say_error_in_its_title(at_step_6):
    """The row alone is swapped, not the page's <title>: an event tells app.js to put "Fout: " before it."""
    response = save_row(at_step_6, "01004567", htmx=True, email="geen-adres")
    assert response.status_code == 422
    events = json.loads(response.headers["HX-Trigger-After-Settle"])
    assert events == {"aansluiten:error": {"prefix": "Fout", "shown": True}}



# -- opened from the summary (step 9's change link) --------------------------------------------
# Every link, form and redirect within step 6 keeps ``terug=overzicht`` until the step is saved;
# its "Doorgaan" then returns to the summary (SPEC §1, step 9).

SUMMARY_TABLE = "/stap/6?terug=overzicht"


def _headers(htmx, code=None):
    if not htmx:
        return {}
    return hx_row(code) if code else {"HX-Request": "true"}


def _table_at(applicant, location: str) -> str:
    """Without JavaScript: the table a redirect leads to (the browser keeps the #row to itself)."""
    return applicant.get(location.partition("#")[0]).get_data(as_text=True)


def _go_on_to_the_summary(applicant, htmx):
    html = applicant.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    action = form_action(html, "Doorgaan")
    assert action == SUMMARY_TABLE
    response = applicant.client.post(action, data=hidden_inputs(html), headers=_headers(htmx))
    assert destination(response) == "/stap/9"


@pytest.mark.parametrize("htmx", [False, True])
def test_the_table_opened_from_the_summary_keeps_the_way_back_in_every_link_and_form(at_step_9, htmx):
    html = at_step_9.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(html, 6)
    row = row_of(html, MISSING[0])
    edit = link(row, "Wijzig")
    assert edit["href"] == edit["hx-get"] == f"/stap/6/code/{MISSING[0]}/1?terug=overzicht"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_row_changed_from_the_summary_returns_to_the_table_with_the_way_back(at_step_9, db, htmx):
    code = MISSING[0]
    client = at_step_9.client
    table_html = at_step_9.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    edit = link(row_of(table_html, code), "Wijzig")["href"]
    form_html = client.get(edit, headers=_headers(htmx, code)).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(form_html, 6)
    action = form_action(form_html, "Opslaan")
    assert action == edit
    cancel = link(form_html, "Annuleren")
    assert keeps_way_back(cancel["href"]) and keeps_way_back(cancel["hx-get"])
    if not htmx:
        assert link(form_html, "Vorige")["href"] == f"{SUMMARY_TABLE}#row-{code}"
    response = client.post(action, data={**hidden_inputs(form_html), **CONTACT}, headers=_headers(htmx, code))
    if htmx:
        assert response.status_code == 200
        row = response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.headers["Location"] == f"{SUMMARY_TABLE}#row-{code}"
        row = row_of(_table_at(at_step_9, response.headers["Location"]), code)
    assert "A.S. El Amrani" in row
    assert_within_step_keeps_the_way_back(row, 6)
    _go_on_to_the_summary(at_step_9, htmx)
    assert contact_names(db, code) == [(1, "A.S.", "El Amrani", "applicant")]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_row_cancelled_from_the_summary_keeps_the_way_back(at_step_9, htmx):
    code = KNOWN
    form_html = at_step_9.client.get(f"/stap/6/code/{code}/1?terug=overzicht",
                                     headers=_headers(htmx, code)).get_data(as_text=True)
    cancel = link(form_html, "Annuleren")
    response = at_step_9.client.get(cancel["hx-get"] if htmx else cancel["href"], headers=_headers(htmx, code))
    if htmx:
        row = response.get_data(as_text=True)
        assert response.status_code == 200 and row.lstrip().startswith(f'<tr id="row-{code}"')
        assert_within_step_keeps_the_way_back(row, 6)
        assert re.search(rf'href="/stap/6/code/{code}/1\?terug=overzicht"[^>]*data-focus', row)
    else:
        assert response.status_code == 303 and response.headers["Location"] == f"{SUMMARY_TABLE}#row-{code}"
    _go_on_to_the_summary(at_step_9, htmx)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_contact_removed_and_the_rows_filled_again_from_the_summary_keep_the_way_back(at_step_9, db, htmx):
    code = MISSING[0]
    client = at_step_9.client
    html = at_step_9.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    action = form_action(row_of(html, code), "Verwijder")
    assert action == f"/stap/6/code/{code}/1/verwijder?terug=overzicht"
    response = client.post(action, data=hidden_inputs(row_of(html, code)), headers=_headers(htmx, code))
    if htmx:
        row = response.get_data(as_text=True)
        assert response.status_code == 200 and "Nog geen contactpersoon" in row
        assert_within_step_keeps_the_way_back(row, 6)
    else:
        assert response.status_code == 303 and response.headers["Location"] == f"{SUMMARY_TABLE}#row-{code}"
    assert contacts(db, code) == []
    # Now a code lacks a contact: the bulk action offers to fill it, and stays on the way back.
    html = at_step_9.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(html, 6)
    action = form_action(html, "Maak de hoofdcontactpersoon contactpersoon")
    assert action == "/stap/6/aanvullen?terug=overzicht"
    response = client.post(action, data=hidden_inputs(html), headers=_headers(htmx))
    assert destination(response) == SUMMARY_TABLE
    if htmx:
        assert_within_step_keeps_the_way_back(response.get_data(as_text=True), 6)
    assert contact_names(db, code) == [(1, "J.", "Jansen", "main_contact")]
    _go_on_to_the_summary(at_step_9, htmx)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_file_uploaded_from_the_summary_keeps_the_way_back(at_step_9, db, htmx):
    from .test_step6_upload import PIETERS, csv_file, fill_all, post_file

    client = at_step_9.client
    html = at_step_9.get(SUMMARY_TABLE, htmx=htmx).get_data(as_text=True)
    upload = link(html, "Upload het ingevulde bestand")
    assert upload["href"] == upload["hx-get"] == "/stap/6/bestand?terug=overzicht"
    html = client.get(upload["href"], headers=_headers(htmx)).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(html, 6)
    assert link(html, "Vorige")["href"] == link(html, "Terug naar de tabel")["href"] == SUMMARY_TABLE
    action = form_action(html, "Bestand controleren")
    response = post_file(at_step_9, action, hidden_inputs(html),
                         csv_file(fill_all(at_step_9, "csv", **{MISSING[0]: PIETERS})), "contactpersonen.csv", htmx)
    assert destination(response) == "/stap/6/bestand?terug=overzicht"
    html = response.get_data(as_text=True) if htmx else at_step_9.get(response.headers["Location"]).get_data(
        as_text=True)
    assert "Wat uw bestand verandert" in html
    assert_within_step_keeps_the_way_back(html, 6)
    action = form_action(html, "Sla de contactpersonen op")
    assert keeps_way_back(action)
    response = client.post(action, data={**hidden_inputs(html), "store": "all"}, headers=_headers(htmx))
    assert destination(response) == SUMMARY_TABLE
    assert contact_names(db, MISSING[0]) == [(1, "K.", "Pieters", "applicant")]
    _go_on_to_the_summary(at_step_9, htmx)


def test_pages_and_the_filter_of_a_table_opened_from_the_summary_keep_the_way_back(large):
    html = large.get(SUMMARY_TABLE).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(html, 6)
    next_page = link(html, "Volgende pagina")
    assert keeps_way_back(next_page["href"]) and keeps_way_back(next_page["hx-get"])
    assert element(html, "zoek")  # the filter: a GET form, whose action loses its query when sent
    assert re.search(r'<form method="get"[^>]*>.*?<input type="hidden" name="terug" value="overzicht">.*?</form>',
                     html, re.S)
    filtered = large.get("/stap/6?zoek=Locatie+01&terug=overzicht").get_data(as_text=True)
    assert_within_step_keeps_the_way_back(filtered, 6)
    assert keeps_way_back(link(filtered, "Toon alle codes")["href"])
    assert "zoek=Locatie" in link(filtered, "Volgende pagina")["href"]
    # With htmx a page of the list comes alone, and keeps it too.
    response = large.client.get("/stap/6?pagina=2&terug=overzicht",
                                headers={"HX-Request": "true", "HX-Target": "contact-rows"})
    part = response.get_data(as_text=True)
    assert part.lstrip().startswith('<section id="contact-rows"')
    assert_within_step_keeps_the_way_back(part, 6)
