"""Step 5: the main contact person, employed by the company; a shortcut copies the signatory."""

import re

import pytest

from onboarding import drafts
from routes import wizard

from .conftest import (CONTACT, MAIN_CONTACT, assert_field_refused, destination, element, form_action, hidden_inputs, link,
                       name_main_contact, sign, table)
from .test_person_forms import PERSON_REFUSED, typed_today

EMPLOYED = "Bevestig dat deze persoon in dienst is van uw onderneming"


def main_contact(db):
    rows = [row for row in table(db, "persons") if row["role"] == "main_contact"]
    return rows[0] if rows else None


def test_the_gate_sends_an_applicant_without_a_signatory_to_step_4(confirmed):
    response = confirmed.get("/stap/5")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/4"


def test_full_page(signed):
    response = signed.get("/stap/5")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Stap 5 van 10" in html and 'href="/stap/4"' in html  # Vorige
    for name in ("initials", "prefix", "surname", "birth_date", "email", "mobile", "employed"):
        assert f'name="{name}"' in html, name
    assert 'method="post" action="/stap/5"' in html
    assert 'href="/stap/5?van=tekenbevoegde"' in html


def test_fragment(signed):
    response = signed.get("/stap/5", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.startswith("<title>Geef uw hoofdcontactpersoon op")
    assert "HX-Request" in response.headers["Vary"]


def test_without_javascript_saving_goes_to_step_6(signed, db):
    response = name_main_contact(signed)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    assert "Geef uw contactpersonen op" in signed.get("/stap/6").get_data(as_text=True)
    assert main_contact(db) == {
        "draft_id": signed.draft()["id"], "role": "main_contact", "officer_id": None, "initials": "J.",
        "prefix": "", "surname": "Jansen", "birth_date": "1980-05-01", "email": "j.jansen@delinde.example",
        "mobile": "+31687654321", "employed": 1,
    }


def test_saving_with_htmx_answers_step_6_pushed(signed):
    response = name_main_contact(signed, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/6"
    assert html.startswith("<title>Geef uw contactpersonen op") and "<html" not in html


def test_the_saved_main_contact_is_shown_again(with_main_contact):
    html = with_main_contact.get("/stap/5").get_data(as_text=True)
    assert element(html, "initials")["value"] == "J." and element(html, "surname")["value"] == "Jansen"
    assert element(html, "mobile")["value"] == "06-87654321"
    assert "checked" in element(html, "employed")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_shortcut_copies_the_signatory_into_the_form_without_saving(signed, db, htmx):
    """On the step's own URL (a redirect; with htmx the step in place of itself): Back, later,
    leads to the step as saved, not to a copy again over what was saved since."""
    version = signed.draft()["version"]
    headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost/stap/5"} if htmx else {}
    response = signed.client.get("/stap/5?van=tekenbevoegde", headers=headers)
    if htmx:
        assert response.headers["HX-Replace-Url"] == "/stap/5" and "HX-Push-Url" not in response.headers
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/5"
        response = signed.get(response.headers["Location"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    expected = {"initials": "M.", "prefix": "van der", "surname": "Linden", "birth_date": "09-03-1971",
                "email": "m.vanderlinden@delinde.example", "mobile": "06-12345678"}
    assert {name: element(html, name)["value"] for name in expected} == expected
    assert "checked" not in element(html, "employed")  # employment is confirmed by the applicant
    assert main_contact(db) is None and signed.draft()["version"] == version


def test_the_copied_signatory_is_saved_as_main_contact_once_confirmed(signed, db):
    copied = signed.get("/stap/5?van=tekenbevoegde", follow_redirects=True).get_data(as_text=True)
    fields = {name: element(copied, name)["value"]
              for name in ("initials", "prefix", "surname", "birth_date", "email", "mobile")}
    response = signed.client.post("/stap/5", data={**hidden_inputs(copied), **fields, "employed": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    saved = main_contact(db)
    assert (saved["initials"], saved["prefix"], saved["surname"], saved["birth_date"], saved["mobile"]) == (
        "M.", "van der", "Linden", "1971-03-09", "+31612345678")



def test_after_the_copy_is_saved_the_step_shows_what_was_saved(signed, db):
    """The copy is done once: the step, asked for again (Back after saving), shows the answer
    saved, with what was changed after copying, not the signatory again."""
    copied = signed.get("/stap/5?van=tekenbevoegde", follow_redirects=True).get_data(as_text=True)
    fields = {name: element(copied, name)["value"]
              for name in ("initials", "prefix", "surname", "birth_date", "email", "mobile")}
    fields |= {"email": "eigen@delinde.example", "employed": "y"}
    assert signed.client.post("/stap/5", data={**hidden_inputs(copied), **fields}).status_code == 303
    again = signed.get("/stap/5").get_data(as_text=True)
    assert element(again, "email")["value"] == "eigen@delinde.example" and "checked" in element(again, "employed")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_shortcut_opened_from_the_summary_keeps_the_way_back_to_it(at_step_9, htmx):
    """Step 9's change link: copying the signatory is still a change started from the summary,
    so saving it returns there (SPEC §1, step 9)."""
    client, headers = at_step_9.client, {"HX-Request": "true"} if htmx else {}
    html = at_step_9.get("/stap/5?terug=overzicht", htmx=htmx).get_data(as_text=True)
    copy = link(html, "Is de tekenbevoegde ook de hoofdcontactpersoon?")
    assert copy["href"] == copy["hx-get"] == "/stap/5?van=tekenbevoegde&terug=overzicht"
    copied = client.get(copy["href"], headers=headers, follow_redirects=True).get_data(as_text=True)
    assert element(copied, "surname")["value"] == "Linden"
    assert 'class="back-link" href="/stap/9"' in copied
    fields = {name: element(copied, name)["value"]
              for name in ("initials", "prefix", "surname", "birth_date", "email", "mobile")}
    action = form_action(copied, "Opslaan en doorgaan")
    assert action == "/stap/5?terug=overzicht"
    response = client.post(action, data={**hidden_inputs(copied), **fields, "employed": "y"}, headers=headers)
    assert destination(response) == "/stap/9"
    assert main_contact(at_step_9.db)["surname"] == "Linden"


@pytest.mark.parametrize("htmx", [False, True])
def test_employment_must_be_confirmed(signed, db, htmx):
    data = {name: value for name, value in MAIN_CONTACT.items() if name != "employed"}
    response = signed.submit("/stap/5", data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Fout: " in html
    assert f'<a href="#employed">{EMPLOYED}</a>' in html
    assert f'id="employed-error"><span class="visually-hidden">Fout:</span> {EMPLOYED}</p>' in html
    attributes = element(html, "employed")
    assert attributes["aria-invalid"] == "true" and attributes["aria-describedby"] == "employed-error"
    assert element(html, "surname")["value"] == "Jansen"
    assert main_contact(db) is None


@pytest.mark.parametrize("field, typed, message", PERSON_REFUSED)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input(signed, db, field, typed, message, htmx):
    typed = typed_today(typed)
    version = signed.draft()["version"]
    response = name_main_contact(signed, htmx=htmx, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_field_refused(html, field, typed, message)
    assert "checked" in element(html, "employed")  # the confirmation stays ticked
    assert main_contact(db) is None and signed.draft()["version"] == version


def test_what_was_typed_comes_back_as_it_was_typed(signed):
    # Checked fields keep their normalised value for saving; the form shows what the applicant typed.
    response = name_main_contact(signed, birth_date="02-02-1982", mobile="06 1234 5678", email="geen-adres")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert element(html, "birth_date")["value"] == "02-02-1982" and element(html, "mobile")["value"] == "06 1234 5678"


def test_a_save_from_an_older_tab_is_refused_and_keeps_what_was_typed(signed, db):
    old_tab = hidden_inputs(signed.get("/stap/5").get_data(as_text=True))
    assert name_main_contact(signed).status_code == 303
    response = signed.client.post("/stap/5", data={**old_tab, **MAIN_CONTACT, "surname": "Pietersen"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in html
    assert element(html, "surname")["value"] == "Pietersen"
    assert main_contact(db)["surname"] == "Jansen"
    # What the other tab stored, where it differs from what this one sent: to choose between them.
    stored = re.search(r'<div class="notice" id="stored-now">(.*?)</div>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", stored) == ["Achternaam: Jansen"]


def test_a_double_click_without_javascript_goes_on(signed, db):
    fields = {**hidden_inputs(signed.get("/stap/5").get_data(as_text=True)), **MAIN_CONTACT}
    assert signed.client.post("/stap/5", data=fields).headers["Location"] == "/stap/6"
    second = signed.client.post("/stap/5", data=fields)
    assert second.status_code == 303 and second.headers["Location"] == "/stap/6"


def test_clicks_that_cross_each_other_with_the_same_answers_go_on(signed, db, monkeypatch):
    # Four quick clicks without JavaScript: while this one saves, two others store the same answers
    # first, one after the other. It is still the same answer, not another tab's change.
    step = wizard.STEPS[5]
    save, crossings = step.save, []

    def crossed(draft, form):
        if len(crossings) < wizard.SAME_ANSWERS_TRIES - 1:
            other = drafts.by_key(db, draft.key)
            form.version.data = str(other.version)
            save(other, form)  # the other click's save
            crossings.append(other.version)
            raise drafts.StaleDraft()
        return save(draft, form)

    monkeypatch.setattr(step, "save", crossed)
    fields = {**hidden_inputs(signed.get("/stap/5").get_data(as_text=True)), **MAIN_CONTACT}
    response = signed.client.post("/stap/5", data=fields)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    assert len(crossings) == wizard.SAME_ANSWERS_TRIES - 1 and main_contact(db)["surname"] == "Jansen"


def test_saving_is_written_to_the_audit_log(with_main_contact, db):
    entries = [(row["step"], row["action"]) for row in db.conn.execute("SELECT step, action FROM audit_log")]
    assert entries[-1] == (5, "main contact saved")


def test_changing_the_main_contact_later_keeps_the_contact_persons_typed_by_the_applicant(with_main_contact, db):
    assert with_main_contact.submit("/stap/6/code/01004567/1", CONTACT).status_code == 303
    before = table(db, "contact_persons")
    assert name_main_contact(with_main_contact, surname="Pietersen").status_code == 303
    assert main_contact(db)["surname"] == "Pietersen"
    assert table(db, "contact_persons") == before
    typed = [row for row in before if row["agb_code"] == "01004567"]
    assert typed[0]["surname"] == "El Amrani" and typed[0]["source"] == "applicant"


def test_changing_the_signatory_afterwards_keeps_the_main_contact(with_main_contact, db):
    before = main_contact(db)
    assert sign(with_main_contact, initials="M.J.").status_code == 303
    assert main_contact(db) == before
