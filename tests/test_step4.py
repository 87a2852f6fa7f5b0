"""Step 4: the signatory, chosen among the officers who may sign alone, and their details."""

import re

import pytest

from .conftest import SIGNATORY, assert_field_refused, edit_registry, element, hidden_inputs, sign, table
from .test_person_forms import PERSON_REFUSED, typed_today


def persons(db):
    return table(db, "persons")


def test_the_gate_sends_an_applicant_who_did_not_confirm_the_data_to_step_3(looked_up):
    response = looked_up.get("/stap/4")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/3"


def test_full_page_offers_the_officers_who_may_sign_alone(confirmed):
    response = confirmed.get("/stap/4")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Stap 4 van 10" in html and 'href="/stap/3"' in html  # Vorige
    assert 'name="signatory" type="radio" value="f1"' in html and "M. van der Linden" in html
    # No officer chosen yet: nothing to save.
    assert 'action="/stap/4"' in html and 'method="post" action="/stap/4"' not in html


def test_fragment(confirmed):
    response = confirmed.get("/stap/4", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.startswith("<title>Selecteer uw tekenbevoegde")
    assert 'name="signatory" type="radio" value="f1"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_officers_who_may_not_sign_alone_are_shown_with_the_reason_and_cannot_be_chosen(confirmed):
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert "P.J. Smit</span>, <span lang=\"nl\" dir=\"auto\">Bestuurder</span>: gezamenlijk bevoegd, kan niet alleen tekenen" in html
    assert "A. Bakker</span>, <span lang=\"nl\" dir=\"auto\">Bestuurder</span>: niet bevoegd om te tekenen" in html
    assert 'value="f2"' not in html and 'value="f3"' not in html
    assert html.count('type="radio"') == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_choosing_an_officer_prefills_the_names_from_kvk_and_never_the_registrys_birth_date(
        confirmed, registry_path, htmx):
    # Anyone who knows the KvK number and an AGB code gets this far: the page shows the names the KvK
    # extract shows, and the birth date is the applicant's to type.
    edit_registry(registry_path, lambda data: data["companies"][0]["functionarissen"][0].update(
        geboortedatum="1965-07-21"))
    assert "1965-07-21" not in confirmed.draft()["company_json"]
    headers = {"HX-Request": "true", "HX-Target": "signatory-details"} if htmx else {}
    html = confirmed.client.get("/stap/4?signatory=f1", headers=headers).get_data(as_text=True)
    assert element(html, "initials")["value"] == "M."
    assert element(html, "prefix")["value"] == "van der"
    assert element(html, "surname")["value"] == "Linden"
    assert element(html, "birth_date")["value"] == ""
    assert "1965" not in html and "21-07" not in html
    assert element(html, "email")["value"] == "" and element(html, "mobile")["value"] == ""
    assert 'id="signatory-0" name="signatory" type="radio" value="f1" checked' in html
    assert hidden_inputs(html)["signatory"] == "f1"


def test_the_names_are_prefilled_while_the_registry_is_down(confirmed, registry_path):
    # They come from the draft's own copy of the company: step 4 does not ask the registry.
    edit_registry(registry_path, lambda data: data.update(unavailable=["41000001"]))
    html = confirmed.get("/stap/4?signatory=f1").get_data(as_text=True)
    assert element(html, "surname")["value"] == "Linden" and element(html, "birth_date")["value"] == ""


def test_with_htmx_choosing_an_officer_swaps_in_only_the_details(confirmed):
    response = confirmed.client.get("/stap/4?signatory=f1",
                                    headers={"HX-Request": "true", "HX-Target": "signatory-details"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<div id="signatory-details"' in html and "<title>" not in html and "<html" not in html
    # Beside it, out of band: an error of an earlier choice goes, and the choice comes back without it.
    assert '<div id="step-errors" hx-swap-oob="innerHTML"></div>' in html
    choice = re.search(r'<form [^>]*id="signatory-choice"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'hx-swap-oob="true"' in choice and "aria-invalid" not in choice
    assert re.search(r'<input [^>]*value="f1" checked', choice)
    assert element(html, "surname")["value"] == "Linden" and element(html, "birth_date")["value"] == ""
    assert 'hx-post="/stap/4"' in html


@pytest.mark.parametrize("query, message", [
    ("kies=1", "Kies wie de overeenkomst tekent."),  # "Kies deze persoon" with nobody chosen
    ("signatory=f2&kies=1", "Kies een tekenbevoegde die in het Handelsregister alleen of zelfstandig bevoegd is."),
    ("signatory=f2", "Kies een tekenbevoegde die in het Handelsregister alleen of zelfstandig bevoegd is."),
    ("signatory=nobody", "Kies een tekenbevoegde die in het Handelsregister alleen of zelfstandig bevoegd is."),
])
def test_choosing_nobody_or_an_officer_who_may_not_sign_says_so_and_prefills_nothing(confirmed, query, message):
    response = confirmed.get(f"/stap/4?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.count(message) == 2  # the error summary and the choice
    assert 'href="#signatory-0"' in html and 'aria-invalid="true"' in html and "<title>Fout: " in html
    assert 'id="surname"' not in html and "Smit\"" not in html


def test_with_htmx_choosing_nobody_answers_the_whole_page_with_its_error_summary(confirmed):
    response = confirmed.client.get("/stap/4?kies=1", headers={"HX-Request": "true", "HX-Target": "signatory-details"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"
    assert html.startswith("<title>Fout: ") and 'class="error-summary"' in html and 'type="radio"' in html


def test_the_choice_is_made_with_a_named_button(confirmed):
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert '<button type="submit" name="kies" value="1"' in html


def test_the_dead_end_has_nobody_to_choose_and_no_message(dead_end):
    response = dead_end.get("/stap/4?kies=1")
    assert response.status_code == 200 and "error-summary" not in response.get_data(as_text=True)


def test_without_javascript_choosing_and_saving_goes_to_step_5(confirmed, db):
    chosen = confirmed.get("/stap/4?signatory=f1")  # the GET form of the officer choice
    fields = {**hidden_inputs(chosen.get_data(as_text=True)), **SIGNATORY}
    response = confirmed.client.post("/stap/4", data=fields)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/5"
    page = confirmed.get("/stap/5")
    assert page.status_code == 200 and "Geef uw hoofdcontactpersoon op" in page.get_data(as_text=True)
    assert persons(db) == [{
        "draft_id": confirmed.draft()["id"], "role": "signatory", "officer_id": "f1", "initials": "M.",
        "prefix": "van der", "surname": "Linden", "birth_date": "1971-03-09",
        "email": "m.vanderlinden@delinde.example", "mobile": "+31612345678", "employed": 0,
    }]


def test_saving_with_htmx_answers_step_5_pushed(confirmed):
    response = sign(confirmed, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/5"
    assert html.startswith("<title>Geef uw hoofdcontactpersoon op") and "<html" not in html
    assert '<div id="status" hx-swap-oob="innerHTML">Uw antwoorden zijn opgeslagen.</div>' in html


def test_the_mobile_number_is_stored_in_e164_and_shown_back_as_people_write_it(confirmed, db):
    sign(confirmed, mobile="+31 (0)6 1234 5678")
    assert persons(db)[0]["mobile"] == "+31612345678"
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert element(html, "mobile")["value"] == "06-12345678"
    assert element(html, "birth_date")["value"] == "09-03-1971"
    assert element(html, "email")["value"] == "m.vanderlinden@delinde.example"


def test_the_saved_signatory_is_shown_again_rather_than_the_kvk_names(confirmed):
    sign(confirmed, initials="M.A.", surname="Linden-Smit")
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert element(html, "initials")["value"] == "M.A." and element(html, "surname")["value"] == "Linden-Smit"


TAMPERED = [
    pytest.param("f2", id="jointly-authorised-officer"),
    pytest.param("f3", id="officer-without-authority"),
    pytest.param("e1", id="officer-of-another-company"),
    pytest.param("f99", id="made-up-id"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("signatory", TAMPERED)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_tampered_signatory_is_refused_and_nothing_is_stored(confirmed, db, signatory, htmx):
    version = confirmed.draft()["version"]
    response = sign(confirmed, htmx=htmx, signatory=signatory)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kies een tekenbevoegde die in het Handelsregister alleen of zelfstandig bevoegd is." in html
    assert "<title>Fout: " in html
    # The summary links to the list of officers, which is marked as the place of the problem.
    assert '<a href="#signatory-0">Kies een tekenbevoegde' in html
    assert element(html, "signatory-0")["aria-invalid"] == "true"
    assert element(html, "signatory-0")["aria-describedby"] == "signatory-error"
    assert 'id="signatory-error"' in html
    assert persons(db) == []
    assert confirmed.draft()["version"] == version
    assert confirmed.get("/stap/5").headers["Location"] == "/stap/4"


@pytest.fixture
def dead_end(verified, registry_path):
    """A company whose officers may only sign together or not at all, looked up and confirmed."""
    def add(data):
        data["companies"].append({**data["companies"][0], "kvkNummer": "41000005", "naam": "Maatschap Samen",
                                  "functionarissen": [
                                      {**data["companies"][0]["functionarissen"][1], "id": "g1"},
                                      {**data["companies"][0]["functionarissen"][1], "id": "g2",
                                       "achternaam": "Visser"},
                                      {**data["companies"][0]["functionarissen"][2], "id": "n1"},
                                  ]})
        data["agb"].append({"agbCode": "01055555", "kvkNummer": "41000005", "naam": "Maatschap Samen",
                            "zorgsoort": "01", "zorgpartijType": "onderneming", "actief": True})
    edit_registry(registry_path, add)
    assert verified.look_up(kvk="41000005", agb="01055555").status_code == 303
    assert verified.confirm().status_code == 303
    return verified


@pytest.mark.parametrize("htmx", [False, True])
def test_a_company_without_an_officer_who_may_sign_alone_is_a_dead_end_that_says_what_to_do(dead_end, htmx):
    response = dead_end.get("/stap/4", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Niemand kan de overeenkomst alleen tekenen" in html
    assert "https://www.kvk.nl/wijzigen/" in html and "https://www.vecozo.nl/support/" in html
    # The way to read the registry again: step 3, "Nee", then start again from step 2.
    assert '<a href="/stap/3">lees de gegevens opnieuw in bij stap 3</a>' in html
    assert "‘Opnieuw beginnen vanaf stap 2’" in html
    assert "Wat u tot nu toe heeft ingevuld, blijft bewaard." in html
    assert "Smit</span>, <span lang=\"nl\" dir=\"auto\">Bestuurder</span>: gezamenlijk bevoegd" in html
    assert "Visser" in html and "niet bevoegd om te tekenen" in html
    assert 'type="radio"' not in html and 'action="/stap/4"' not in html and 'name="surname"' not in html


def test_the_dead_end_refuses_a_posted_signatory_and_keeps_the_draft(dead_end, db):
    before = dict(dead_end.draft())
    response = dead_end.submit("/stap/4", {**SIGNATORY, "signatory": "g1"})
    assert response.status_code == 422
    assert persons(db) == []
    after = dict(dead_end.draft())
    assert after == before
    assert (after["kvk_number"], after["agb_code"], after["data_correct"]) == ("41000005", "01055555", "yes")
    assert dead_end.get("/stap/5").headers["Location"] == "/stap/4"


def _typed_value(html: str, field: str) -> str:
    return element(html, field).get("value", "")


@pytest.mark.parametrize("field, typed, message", PERSON_REFUSED)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input(confirmed, db, field, typed, message, htmx):
    typed = typed_today(typed)
    version = confirmed.draft()["version"]
    response = sign(confirmed, htmx=htmx, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_field_refused(html, field, typed, message)
    # The other fields keep what was typed.
    if field != "surname":
        assert _typed_value(html, "surname") == "Linden"
    assert persons(db) == [] and confirmed.draft()["version"] == version


def test_a_save_from_an_older_tab_is_refused_and_keeps_what_was_typed(confirmed, db):
    old_tab = hidden_inputs(confirmed.get("/stap/4?signatory=f1").get_data(as_text=True))
    assert sign(confirmed, surname="Linden").status_code == 303
    response = confirmed.client.post("/stap/4", data={**old_tab, **SIGNATORY, "surname": "Van Linden"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in html
    assert _typed_value(html, "surname") == "Van Linden"
    assert persons(db)[0]["surname"] == "Linden"  # the other tab's save stands
    # Sent again on purpose, it is saved.
    again = confirmed.client.post("/stap/4", data={**hidden_inputs(html), **SIGNATORY, "surname": "Van Linden"})
    assert again.status_code == 303 and persons(db)[0]["surname"] == "Van Linden"


def test_a_double_click_without_javascript_goes_on(confirmed, db):
    fields = {**hidden_inputs(confirmed.get("/stap/4?signatory=f1").get_data(as_text=True)), **SIGNATORY}
    assert confirmed.client.post("/stap/4", data=fields).headers["Location"] == "/stap/5"
    second = confirmed.client.post("/stap/4", data=fields)
    assert second.status_code == 303 and second.headers["Location"] == "/stap/5"
    assert len(persons(db)) == 1


def test_saving_is_written_to_the_audit_log(signed, db):
    entries = [(row["step"], row["action"]) for row in db.conn.execute("SELECT step, action FROM audit_log")]
    assert entries[-1] == (4, "signatory saved")


def test_changing_the_signatory_later_keeps_the_main_contact_and_the_contact_persons(with_main_contact, db):
    from .conftest import CONTACT
    assert with_main_contact.submit("/stap/6/code/01004567/1", CONTACT).status_code == 303
    contacts = table(db, "contact_persons")
    response = sign(with_main_contact, initials="M.J.")
    assert response.status_code == 303
    assert [row["initials"] for row in persons(db)] == ["M.J.", "J."]
    assert table(db, "contact_persons") == contacts


def test_after_the_kvk_gives_an_officer_sole_authority_a_new_lookup_ends_the_dead_end(dead_end, registry_path):
    # What the dead end tells to do: change the authority at the KvK and read the data again.
    edit_registry(registry_path, lambda data: data["companies"][-1]["functionarissen"][0].update(bevoegdheid="azb"))
    assert dead_end.look_up(kvk="41000005", agb="01055555").status_code == 303
    assert dead_end.confirm().status_code == 303
    html = dead_end.get("/stap/4").get_data(as_text=True)
    assert "Niemand kan de overeenkomst alleen tekenen" not in html
    assert 'name="signatory" type="radio" value="g1"' in html
    assert sign(dead_end, signatory="g1").status_code == 303


def test_a_signatory_who_may_no_longer_sign_alone_after_a_new_lookup_must_be_chosen_again(
        with_main_contact, registry_path, db):
    def change(data):
        officers = data["companies"][0]["functionarissen"]
        officers[0]["bevoegdheid"] = "gb"
        officers.append({**officers[0], "id": "f4", "voorletters": "R.", "tussenvoegsel": "", "achternaam": "Mulder",
                         "bevoegdheid": "azb"})
    edit_registry(registry_path, change)
    assert with_main_contact.look_up().status_code == 303
    assert with_main_contact.confirm().headers["Location"] == "/stap/4"
    assert with_main_contact.get("/stap/5").headers.get("Location") == "/stap/4"
    html = with_main_contact.get("/stap/4").get_data(as_text=True)
    assert 'name="signatory" type="radio" value="f4"' in html
    assert hidden_inputs(html).get("signatory") != "f1"


def test_an_officers_name_and_role_in_the_choice_are_text_not_markup(confirmed, registry_path):
    edit_registry(registry_path, lambda data: data["companies"][0]["functionarissen"][0].update(
        achternaam="<b>Linden</b>", functie="Bestuurder & <i>directeur</i>"))
    assert confirmed.look_up().status_code == 303 and confirmed.confirm().status_code == 303
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert "<b>" not in html and "<i>" not in html
    assert ('<label class="radio__label" for="signatory-0"><span lang="nl" dir="auto">M. van der &lt;b&gt;Linden&lt;/b&gt;'
            '</span>, <span lang="nl" dir="auto">Bestuurder &amp; &lt;i&gt;directeur&lt;/i&gt;</span></label>') in html


def test_an_officer_that_is_a_legal_entity_is_shown_but_cannot_be_chosen(confirmed, registry_path, db):
    # A holding as director: the extract gives its name only, no initials, first names or birth date.
    edit_registry(registry_path, lambda data: data["companies"][0]["functionarissen"].append(
        {"id": "h1", "voorletters": "", "voornamen": "", "tussenvoegsel": "", "achternaam": "Holding Zuid B.V.",
         "functie": "Bestuurder", "bevoegdheid": "azb"}))
    assert confirmed.look_up().status_code == 303 and confirmed.confirm().status_code == 303
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert 'value="h1"' not in html
    assert ("Holding Zuid B.V.</span>, <span lang=\"nl\" dir=\"auto\">Bestuurder</span>: een rechtspersoon, geen "
            "natuurlijk persoon: tekent via een eigen bestuurder") in html
    assert confirmed.get("/stap/4?signatory=h1").status_code == 422
    assert sign(confirmed, signatory="h1").status_code == 422 and persons(db) == []


def test_an_officer_the_extract_gives_first_names_and_no_initials_can_sign_with_initials_made_of_them(
        confirmed, registry_path):
    edit_registry(registry_path, lambda data: data["companies"][0]["functionarissen"].append(
        {"id": "m1", "voorletters": "", "voornamen": "Mo Anne-Marie IJsbrand", "tussenvoegsel": "",
         "achternaam": "Li", "functie": "", "bevoegdheid": "azb"}))
    assert confirmed.look_up().status_code == 303 and confirmed.confirm().status_code == 303
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert 'value="m1"' in html and "M.A.-M.IJ. Li" in html
    chosen = confirmed.get("/stap/4?signatory=m1").get_data(as_text=True)
    assert 'value="M.A.-M.IJ."' in chosen


def test_an_officer_without_a_role_is_named_without_an_empty_one(confirmed, registry_path):
    edit_registry(registry_path, lambda data: data["companies"][0]["functionarissen"].append(
        {"id": "h1", "voorletters": "", "voornamen": "", "tussenvoegsel": "", "achternaam": "Holding Zuid B.V.",
         "functie": "", "bevoegdheid": "azb"}))
    assert confirmed.look_up().status_code == 303 and confirmed.confirm().status_code == 303
    html = confirmed.get("/stap/4").get_data(as_text=True)
    assert 'Holding Zuid B.V.</span>: een rechtspersoon' in html


@pytest.mark.parametrize("field, typed", [("surname", "Παπαδόπουλος"), ("initials", "Γ."), ("prefix", "фон")])
def test_a_name_in_another_script_is_asked_for_in_latin_letters(confirmed, db, field, typed):
    # A registry may give a name as its own script writes it; the ID document writes it in Latin letters.
    response = sign(confirmed, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and persons(db) == []
    assert "Schrijf de naam in Latijnse letters, zoals op het Nederlandse identiteitsbewijs of het paspoort" in html
