"""Step 9: the summary with change links, the declaration, and submitting."""

import io

from pypdf import PdfReader

from .conftest import table


def test_summary_shows_every_section_with_a_change_link(at_step_9):
    html = at_step_9.get("/stap/9").get_data(as_text=True)
    for number in range(1, 9):
        if number != 3:
            assert f'href="/stap/{number}?terug=overzicht"' in html
    assert "Niet opgegeven" in html  # no ICT administrators, no remark
    assert 'name="declaration"' in html


def test_the_summary_warns_of_contact_rows_with_the_former_main_contact(at_step_9):
    """The rows step 6 filled with the main contact keep its details until the applicant says so:
    a change of the main contact from the summary leads straight back here, so it says so too."""
    assert "vorige gegevens" not in at_step_9.get("/stap/9").get_data(as_text=True)
    changed = at_step_9.submit("/stap/5?terug=overzicht", MAIN_CONTACT | {"mobile": "06 2222 3333"})
    assert changed.headers["Location"] == "/stap/9"
    html = at_step_9.get("/stap/9").get_data(as_text=True)
    assert "2 contactpersonen hebben nog de vorige gegevens van de hoofdcontactpersoon." in html
    assert '<a href="/stap/6?terug=overzicht">Werk ze bij bij stap 6</a>' in html


def test_a_remark_of_several_lines_keeps_them(at_step_9):
    at_step_9.submit("/stap/8", {"services_ok": "y", "services_remark": "Graag ook VSP.\r\nTweede regel."})
    html = at_step_9.get("/stap/9").get_data(as_text=True)
    # Kept as typed; the style shows the line break (white-space: pre-line).
    assert '<span class="lines">Graag ook VSP.\nTweede regel.</span>' in html


def test_submit_freezes_and_makes_the_agreement(submitted, db):
    draft = submitted.draft()
    assert draft["status"] == "submitted" and draft["reference"].startswith("VZ-")
    [agreement] = table(db, "agreements")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(agreement["pdf"])).pages)
    assert draft["reference"] in text and "01051234" in text
    # Frozen: a step before 10 sends to the status page.
    assert submitted.get("/stap/4").headers["Location"] == "/aanmelding"
    assert submitted.get("/aanmelding").status_code == 200


import re

import pytest

from onboarding import agreement
from routes.steps.summary import in_sentence

from .conftest import (CONTACT, LARGE_KVK, MAIN_CONTACT, SIGNATORY, assert_within_step_keeps_the_way_back, destination,
                       form_action, hidden_inputs, name_main_contact, sign)


def test_fragment(at_step_9):
    html = at_step_9.get("/stap/9", htmx=True).get_data(as_text=True)
    assert "<html" not in html and html.startswith("<title>Controleer uw aanmelding")


@pytest.mark.parametrize("language, hidden", [
    ("nl", ["e-mailadres", "onderneming", "tekenbevoegde", "hoofdcontactpersoon", "contactpersonen per AGB-code",
            "ICT-beheerders", "diensten"]),
    ("en", ["email address", "company", "authorised signatory", "main contact person", "contact people per AGB code",
            "ICT administrators", "services"]),
])
def test_each_change_link_names_its_section_for_a_screen_reader_with_abbreviations_in_capitals(
        at_step_9, language, hidden):
    at_step_9.client.set_cookie("taal", language)
    html = at_step_9.get("/stap/9").get_data(as_text=True)
    assert re.findall(r'>(?:Wijzigen|Change)<span class="visually-hidden"> ([^<]*)</span></a>', html) == hidden


@pytest.mark.parametrize("title, in_a_sentence", [
    ("Contactpersonen per AGB-code", "contactpersonen per AGB-code"), ("ICT-beheerders", "ICT-beheerders"),
    ("KvK-nummer", "KvK-nummer"), ("AGB-code", "AGB-code"), ("E-mailadres", "e-mailadres"), ("", ""),
])
def test_a_title_within_a_sentence_keeps_the_capitals_of_an_abbreviation(title, in_a_sentence):
    assert in_sentence(title) == in_a_sentence


@pytest.mark.parametrize("htmx", [False, True])
def test_a_change_link_returns_to_the_summary_once_saved(at_step_9, htmx):
    page = at_step_9.get("/stap/5?terug=overzicht").get_data(as_text=True)
    assert 'action="/stap/5?terug=overzicht"' in page
    assert re.search(r'class="back-link" href="/stap/9"', page)
    response = at_step_9.submit("/stap/5?terug=overzicht", MAIN_CONTACT | {"mobile": "06 2222 3333"}, htmx=htmx)
    if htmx:
        assert response.headers["HX-Push-Url"] == "/stap/9"
    else:
        assert response.headers["Location"] == "/stap/9"
    assert "06-22223333" in at_step_9.get("/stap/9").get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_every_link_and_form_within_a_step_opened_from_the_summary_keeps_the_way_back(at_step_9, htmx):
    summary = at_step_9.get("/stap/9").get_data(as_text=True)
    changes = re.findall(r'href="(/stap/(\d+)\?terug=overzicht)"', summary)
    assert sorted({int(number) for _url, number in changes}) == [1, 2, 4, 5, 6, 7, 8]
    for url, number in changes:
        html = at_step_9.get(url, htmx=htmx).get_data(as_text=True)
        assert_within_step_keeps_the_way_back(html, int(number))


@pytest.mark.parametrize("htmx", [False, True])
def test_the_signatory_chosen_again_from_the_summary_returns_to_it(at_step_9, htmx):
    # Step 4's choice of officer is a GET form: its action loses its query when sent, so the way
    # back travels as a field of it.
    html = at_step_9.get("/stap/4?terug=overzicht", htmx=htmx).get_data(as_text=True)
    choice = re.search(r'<form method="get" action="/stap/4".*?</form>', html, re.S).group(0)
    assert hidden_inputs(choice) == {"terug": "overzicht"}
    headers = {"HX-Request": "true", "HX-Target": "signatory-details"} if htmx else {}
    html = at_step_9.client.get("/stap/4", query_string={"signatory": "f1", **hidden_inputs(choice)},
                                headers=headers).get_data(as_text=True)
    action = form_action(html, "Opslaan en doorgaan")
    assert action == "/stap/4?terug=overzicht"
    response = at_step_9.client.post(action, data={**hidden_inputs(html), **SIGNATORY, "surname": "Linden-Bos"},
                                     headers={"HX-Request": "true"} if htmx else {})
    assert destination(response) == "/stap/9"
    assert "Linden-Bos" in at_step_9.get("/stap/9").get_data(as_text=True)

@pytest.mark.parametrize("url, kept", [
    ("/stap/7", "/stap/7?terug=overzicht"),
    ("/stap/5?van=tekenbevoegde", "/stap/5?van=tekenbevoegde&terug=overzicht"),
    ("/stap/6#row-01004567", "/stap/6?terug=overzicht#row-01004567"),
    ("/stap/6?pagina=3#row-01004567", "/stap/6?pagina=3&terug=overzicht#row-01004567"),
    ("/stap/6?terug=overzicht#row-01004567", "/stap/6?terug=overzicht#row-01004567"),  # once
    ("/stap/6?pagina=2&terug=overzicht", "/stap/6?pagina=2&terug=overzicht"),
])
def test_the_way_back_goes_into_the_query_before_a_fragment_and_only_once(app, url, kept):
    from routes.wizard import keep_return
    with app.test_request_context("/stap/6?terug=overzicht"):
        assert keep_return(url) == kept
    with app.test_request_context("/stap/6"):
        assert keep_return(url) == url

def test_a_change_that_reopens_earlier_steps_goes_on_through_them(at_step_9):
    # Another company: steps 3 onwards must be done again, so the summary is not reachable; the way
    # back to it goes along, and the back link goes to the step before, not to the summary.
    response = at_step_9.submit("/stap/2?terug=overzicht", {"kvk_number": "41000002", "agb_code": "04071111",
                                                             "replace": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == "/stap/3?terug=overzicht"
    assert at_step_9.draft()["kvk_number"] == "41000002"
    assert at_step_9.get("/stap/9").headers["Location"] == "/stap/3"
    page = at_step_9.get("/stap/3?terug=overzicht").get_data(as_text=True)
    assert 'class="back-link" href="/stap/2?terug=overzicht"' in page


@pytest.mark.parametrize("htmx", [False, True])
def test_the_same_company_looked_up_again_from_the_summary_comes_back_to_it_after_step_3(at_step_9, htmx):
    # The registries are read afresh, so step 3 is confirmed again; the codes are the same, so the
    # services of step 8 stay confirmed, and confirming step 3 returns to the summary.
    response = at_step_9.submit("/stap/2?terug=overzicht", {"kvk_number": "41000001", "agb_code": "01051234"},
                                htmx=htmx)
    assert (response.headers.get("HX-Push-Url") or response.headers["Location"]) == "/stap/3?terug=overzicht"
    assert at_step_9.draft()["services_ok_at"] is not None and at_step_9.draft()["data_correct"] is None
    response = at_step_9.submit("/stap/3?terug=overzicht", {"data_correct": "yes"}, htmx=htmx)
    assert (response.headers.get("HX-Push-Url") or response.headers["Location"]) == "/stap/9"


def test_the_declaration_is_required(at_step_9, db):
    response = at_step_9.submit("/stap/9", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Verklaar dat u de aanmelding naar waarheid heeft ingevuld" in html
    assert "Fout: Controleer uw aanmelding" in html
    assert at_step_9.draft()["status"] == "draft" and table(db, "agreements") == []


def test_a_stale_tab_cannot_submit(at_step_9, db):
    page = at_step_9.client.get("/stap/9").get_data(as_text=True)
    fields = __import__("tests.conftest", fromlist=["hidden_inputs"]).hidden_inputs(page)
    at_step_9.submit("/stap/8", {"services_ok": "y", "services_remark": "Graag ook VSP"})
    response = at_step_9.client.post("/stap/9", data=fields | {"declaration": "y"})
    assert response.status_code == 409 and at_step_9.draft()["status"] == "draft"


def test_the_agreement_pdf_holds_everything_and_its_checksum(submitted, db):
    [row] = table(db, "agreements")
    reader = PdfReader(io.BytesIO(row["pdf"]))
    text = " ".join(page.extract_text() for page in reader.pages)
    draft = submitted.draft()
    for expected in (draft["reference"], draft["kvk_number"], "01051234", "01004567", "37000890",
                     "Linden", "Jansen", "Controle op verzekeringsrecht", row["content_sha256"]):
        assert expected in text.replace("\n", " "), expected
    assert re.fullmatch(r"VZ-\d{4}-[2-9A-HJKMNP-Z]{6}", draft["reference"])
    assert row["sha256"] == __import__("hashlib").sha256(row["pdf"]).hexdigest()
    assert submitted.get("/aanmelding/overeenkomst.pdf").data == row["pdf"]


def test_the_agreement_names_a_zorgsoort_the_vektis_list_lacks_as_unknown(unknown_zorgsoort, submitted, db):
    [row] = table(db, "agreements")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(row["pdf"])).pages)
    assert f"{unknown_zorgsoort} Nieuwe locatie Onbekende zorgsoort" in text


@pytest.mark.parametrize("path, data", [
    ("/stap/4", {"initials": "X."}),
    ("/stap/6/aanvullen", {}),
    ("/stap/7/toevoegen", {"name": "Iemand", "email": "a@b.nl", "phone": "0301234567"}),
    ("/stap/8", {"services_ok": "y", "services_remark": "later"}),
    ("/stap/9", {"declaration": "y"}),
])
def test_a_submitted_application_is_frozen(submitted, db, path, data):
    before = (table(db, "persons"), table(db, "contact_persons"), table(db, "ict_admins"), submitted.draft()["version"])
    response = submitted.submit(path, data, page="/aanmelding")
    assert response.status_code == 303 and response.headers["Location"] == "/aanmelding"
    after = (table(db, "persons"), table(db, "contact_persons"), table(db, "ict_admins"), submitted.draft()["version"])
    assert after == before


def test_a_row_save_after_submitting_is_refused(submitted, db):
    before = table(db, "contact_persons")
    response = submitted.submit("/stap/6/code/01051234/1", CONTACT, page="/aanmelding")
    assert response.status_code == 303
    assert table(db, "contact_persons") == before


def test_the_summary_of_a_large_organisation_shows_ten_codes_and_the_count(applicant, large_registry):
    applicant.verify()
    assert applicant.look_up(kvk=LARGE_KVK, agb="01000000").status_code == 303
    assert applicant.confirm().status_code == 303
    assert sign(applicant).status_code == 303
    assert name_main_contact(applicant).status_code == 303
    assert applicant.submit("/stap/6/aanvullen", page="/stap/6").status_code == 303
    assert applicant.submit("/stap/6").status_code == 303
    assert applicant.submit("/stap/7").status_code == 303
    assert applicant.submit("/stap/8", {"services_ok": "y"}).status_code == 303
    html = applicant.get("/stap/9").get_data(as_text=True)
    assert "Alle 1000 AGB-codes hebben een contactpersoon" in html
    assert html.count("<dt>01") + html.count("<dt>04") + html.count("<dt>06") + html.count("<dt>12") == 10
    response = applicant.submit("/stap/9", {"declaration": "y"})
    assert response.headers["Location"] == "/stap/10"


def test_the_summary_formats_a_landline_its_codes_share_once(at_step_9, db, phones_formatted):
    # The template filter `phone` formats each number once per request (phonenumbers takes about
    # 25 µs a landline, and the codes shown mostly share their contact persons).
    db.conn.execute("UPDATE contact_persons SET phone = '+31302345678'")
    db.conn.commit()

    html = at_step_9.get("/stap/9").get_data(as_text=True)

    assert html.count("030 234 5678") == len(table(db, "contact_persons")) > 1
    assert len(phones_formatted) == 1


def test_agreement_content_hash_is_of_the_data(submitted, db):
    [row] = table(db, "agreements")
    assert len(row["content_sha256"]) == 64 and hasattr(agreement, "content_hash")


def test_the_summary_reached_through_a_change_link_submits_to_step_10(at_step_9):
    """With htmx the summary is drawn inside the POST that saved the change: its own form
    must not carry the way back to itself."""
    response = at_step_9.submit("/stap/5?terug=overzicht", MAIN_CONTACT | {"mobile": "06 2222 3333"}, htmx=True)
    html = response.get_data(as_text=True)
    assert 'action="/stap/9"' in html and 'action="/stap/9?' not in html
    sent = at_step_9.submit("/stap/9?terug=overzicht", {"declaration": "y"}, page="/stap/9")
    assert sent.headers["Location"] == "/stap/10"


def test_a_row_saved_while_the_agreement_is_drawn_makes_the_submission_stale(at_step_9, db, monkeypatch):
    render = agreement.render

    def render_while_another_tab_saves(data):
        made = render(data)
        db.conn.execute("UPDATE contact_persons SET surname = 'Anders' WHERE agb_code = '01051234'")
        return made

    monkeypatch.setattr(agreement, "render", render_while_another_tab_saves)
    response = at_step_9.submit("/stap/9", {"declaration": "y"})
    assert response.status_code == 409
    assert at_step_9.draft()["status"] == "draft" and table(db, "agreements") == []
