"""Step 7 (optional): the ICT administrators, an add-another list of at most five.
And going back to step 2 with everything of steps 4-7 filled in."""

import re

import pytest

from .conftest import (CONTACT, ICT_ADMIN, assert_field_refused, assert_htmx_posts_disable_their_button, destination,
                       edit_registry, element, form_action, hidden_inputs, link, table)
from .test_person_forms import ICT_ADMIN_REFUSED


def admins(db) -> list[dict]:
    return table(db, "ict_admins")


@pytest.fixture
def at_step_7(with_main_contact):
    """Steps 1-6 done (every code filled with the main contact)."""
    assert with_main_contact.submit("/stap/6/aanvullen", page="/stap/6").status_code == 303
    assert with_main_contact.submit("/stap/6").headers["Location"] == "/stap/7"
    return with_main_contact


def add(applicant, htmx=False, **changes):
    return applicant.submit("/stap/7/toevoegen", ICT_ADMIN | changes, htmx=htmx)


def remove(applicant, admin_id, htmx=False):
    return applicant.submit(f"/stap/7/beheerder/{admin_id}/verwijder", page="/stap/7", htmx=htmx)


def test_the_gate_sends_an_applicant_with_codes_without_a_contact_to_step_6(with_main_contact):
    response = with_main_contact.get("/stap/7")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"


def test_full_page_lists_none_yet(at_step_7):
    response = at_step_7.get("/stap/7")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Stap 7 van 10" in html and 'href="/stap/6"' in html  # Vorige
    assert "U heeft nog geen ICT-beheerder opgegeven." in html
    assert 'href="/stap/7/toevoegen"' in html and "Voeg een ICT-beheerder toe" in html
    assert 'method="post" action="/stap/7"' in html and "Doorgaan zonder ICT-beheerder" in html


def test_fragment(at_step_7):
    response = at_step_7.get("/stap/7", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.startswith("<title>Geef uw ICT-beheerder(s) op (optioneel)")
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("htmx", [False, True])
def test_the_add_page(at_step_7, htmx):
    response = at_step_7.get("/stap/7/toevoegen", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in html) != htmx
    assert "ICT-beheerder toevoegen" in html
    assert 'method="post" action="/stap/7/toevoegen"' in html
    assert {element(html, name).get("name") for name in ("name", "email", "phone")} == {"name", "email", "phone"}
    assert 'href="/stap/7"' in html  # Annuleren


def test_adding_without_javascript_returns_to_the_list(at_step_7, db):
    response = add(at_step_7)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/7"
    html = at_step_7.get("/stap/7").get_data(as_text=True)
    assert "1 ICT-beheerder" in html and "ICT &amp; Zorg B.V." in html
    # What htmx says in the live region, the page says once without JavaScript.
    assert re.search(r'<div class="notification notification--success" role="alert"[^>]*>\s*'
                     r'<h2[^>]*>Gelukt</h2>\s*<p>De ICT-beheerder is toegevoegd.</p>', html)
    assert "Gelukt" not in at_step_7.get("/stap/7").get_data(as_text=True)
    assert "servicedesk@ict.example" in html and "085 123 4567" in html
    assert "Voeg nog een ICT-beheerder toe" in html and "Doorgaan zonder ICT-beheerder" not in html
    assert [(row["name"], row["email"], row["phone"]) for row in admins(db)] == [
        ("ICT & Zorg B.V.", "servicedesk@ict.example", "+31851234567")]


def test_an_administrator_across_the_border_gives_a_foreign_number_with_its_country_code(at_step_7, db):
    assert add(at_step_7, phone="0032 2 234 56 78").status_code == 303
    assert admins(db)[0]["phone"] == "+3222345678"
    assert "+32 2 234 56 78" in at_step_7.get("/stap/7").get_data(as_text=True)


def test_adding_with_htmx_answers_the_list_and_pushes_its_url(at_step_7):
    response = add(at_step_7, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/7"
    assert html.startswith("<title>Geef uw ICT-beheerder(s) op") and "<html" not in html
    assert "ICT &amp; Zorg B.V." in html
    assert '<div id="status" hx-swap-oob="innerHTML">De ICT-beheerder is toegevoegd.</div>' in html


def test_adding_is_written_to_the_audit_log(at_step_7, db):
    add(at_step_7)
    last = db.conn.execute("SELECT step, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(last) == (7, "ICT administrator added")


@pytest.mark.parametrize("field, typed, message", ICT_ADMIN_REFUSED)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input(at_step_7, db, field, typed, message, htmx):
    response = add(at_step_7, htmx=htmx, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Fout: ICT-beheerder toevoegen" in html
    assert_field_refused(html, field, typed, message)
    assert admins(db) == []


def test_at_most_five_administrators(at_step_7, db):
    for number in range(5):
        assert add(at_step_7, name=f"Beheerder {number + 1}").status_code == 303
    html = at_step_7.get("/stap/7").get_data(as_text=True)
    assert "5 ICT-beheerders" in html
    assert 'href="/stap/7/toevoegen"' not in html
    assert "U heeft het hoogste aantal ICT-beheerders opgegeven." in html
    version = at_step_7.draft()["version"]
    response = add(at_step_7, name="Beheerder 6")
    sixth = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "U kunt hoogstens 5 ICT-beheerders opgeven." in sixth
    assert element(sixth, "name")["value"] == "Beheerder 6"
    assert len(admins(db)) == 5 and at_step_7.draft()["version"] == version


@pytest.mark.parametrize("htmx", [False, True])
def test_removing_an_administrator(at_step_7, db, htmx):
    add(at_step_7, name="Afdeling ICT")
    add(at_step_7, name="Softwareleverancier")
    first = admins(db)[0]["id"]
    response = remove(at_step_7, first, htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/7"
        html = response.get_data(as_text=True)
        assert "Afdeling ICT" not in html and "Softwareleverancier" in html
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/7"
    assert ("De ICT-beheerder is verwijderd." in at_step_7.get("/stap/7").get_data(as_text=True)) is not htmx
    assert [row["name"] for row in admins(db)] == ["Softwareleverancier"]
    last = db.conn.execute("SELECT step, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(last) == (7, "ICT administrator removed")


@pytest.mark.parametrize("htmx", [False, True])
def test_going_on_without_an_administrator_is_fine(at_step_7, db, htmx):
    response = at_step_7.submit("/stap/7", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/8"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/8"
    assert at_step_7.draft()["ict_done_at"] and admins(db) == []
    # The next step is announcement enough.
    step_8 = at_step_7.get("/stap/8")
    assert step_8.status_code == 200 and "Gelukt" not in step_8.get_data(as_text=True)
    last = db.conn.execute("SELECT step, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(last) == (7, "ICT administrators confirmed")


def test_each_remove_button_is_disabled_while_its_form_is_sent(at_step_7):
    add(at_step_7, name="Afdeling ICT")
    add(at_step_7, name="Softwareleverancier")
    html = at_step_7.get("/stap/7").get_data(as_text=True)
    assert html.count("/verwijder") == 4  # action and hx-post of each
    assert_htmx_posts_disable_their_button(html)


def test_going_on_with_administrators_goes_to_step_8(at_step_7, db):
    add(at_step_7)
    response = at_step_7.submit("/stap/7")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/8"
    assert len(admins(db)) == 1


def test_an_add_from_an_older_tab_is_refused_and_keeps_what_was_typed(at_step_7, db):
    old_tab = hidden_inputs(at_step_7.get("/stap/7/toevoegen").get_data(as_text=True))
    assert add(at_step_7, name="Afdeling ICT").status_code == 303
    response = at_step_7.client.post("/stap/7/toevoegen", data={**old_tab, **ICT_ADMIN, "name": "Softwareleverancier"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in html
    assert element(html, "name")["value"] == "Softwareleverancier"
    assert [row["name"] for row in admins(db)] == ["Afdeling ICT"]
    again = at_step_7.client.post("/stap/7/toevoegen", data={**hidden_inputs(html), **ICT_ADMIN,
                                                             "name": "Softwareleverancier"})
    assert again.status_code == 303
    assert [row["name"] for row in admins(db)] == ["Afdeling ICT", "Softwareleverancier"]


@pytest.mark.parametrize("htmx", [False, True])
def test_the_same_administrator_sent_twice_is_added_once(at_step_7, db, htmx):
    """A second click of "Toevoegen" on a slow line, or the same person added again: the list holds them
    once and the answer is the list, not a 409 whose advice would add them twice."""
    page = hidden_inputs(at_step_7.get("/stap/7/toevoegen").get_data(as_text=True))
    headers = {"HX-Request": "true"} if htmx else {}
    first = at_step_7.client.post("/stap/7/toevoegen", data={**page, **ICT_ADMIN}, headers=headers)
    second = at_step_7.client.post("/stap/7/toevoegen", data={**page, **ICT_ADMIN}, headers=headers)
    assert first.status_code == second.status_code == (200 if htmx else 303)
    assert len(admins(db)) == 1
    again = add(at_step_7, htmx=htmx)  # from a fresh form: still once, and the page says so
    assert again.status_code == (200 if htmx else 303) and len(admins(db)) == 1
    said = (again if htmx else at_step_7.get(again.headers["Location"])).get_data(as_text=True)
    assert "Deze ICT-beheerder staat al in de lijst." in said  # a notice above the list, not a success
    assert 'class="notification"' in said and "Gelukt" not in said
    if htmx:
        assert "De ICT-beheerder is toegevoegd." in second.get_data(as_text=True)  # the second click
    # Another person from the same page that was sent twice is still a change from an older tab.
    other = at_step_7.client.post("/stap/7/toevoegen", data={**page, **ICT_ADMIN, "name": "Iemand Anders"})
    assert other.status_code == 409 and len(admins(db)) == 1


def test_a_remove_from_an_older_tab_is_refused(at_step_7, db):
    add(at_step_7, name="Afdeling ICT")
    old_tab = hidden_inputs(at_step_7.get("/stap/7").get_data(as_text=True))
    add(at_step_7, name="Softwareleverancier")
    first = admins(db)[0]["id"]
    response = at_step_7.client.post(f"/stap/7/beheerder/{first}/verwijder", data=old_tab)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in response.get_data(as_text=True)
    assert [row["name"] for row in admins(db)] == ["Afdeling ICT", "Softwareleverancier"]



# -- opened from the summary (step 9's change link) --------------------------------------------


def _page(applicant, response, htmx):
    """The page a successful POST leads to: with htmx its fragment came along, else it is fetched."""
    if htmx:
        return response.get_data(as_text=True)
    return applicant.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_an_administrator_added_from_the_summary_keeps_the_way_back_and_going_on_returns_to_it(at_step_9, db, htmx):
    client, headers = at_step_9.client, {"HX-Request": "true"} if htmx else {}
    html = at_step_9.get("/stap/7?terug=overzicht", htmx=htmx).get_data(as_text=True)
    add_link = link(html, "Voeg een ICT-beheerder toe")
    assert add_link["href"] == add_link["hx-get"] == "/stap/7/toevoegen?terug=overzicht"
    html = client.get(add_link["href"], headers=headers).get_data(as_text=True)
    assert link(html, "Annuleren")["href"] == "/stap/7?terug=overzicht"
    assert link(html, "Vorige")["href"] == "/stap/7?terug=overzicht"
    action = form_action(html, "Toevoegen")
    assert action == "/stap/7/toevoegen?terug=overzicht"
    response = client.post(action, data={**hidden_inputs(html), **ICT_ADMIN}, headers=headers)
    assert destination(response) == "/stap/7?terug=overzicht"
    html = _page(at_step_9, response, htmx)
    assert "ICT &amp; Zorg B.V." in html
    action = form_action(html, "Doorgaan")
    assert action == "/stap/7?terug=overzicht"
    response = client.post(action, data=hidden_inputs(html), headers=headers)
    assert destination(response) == "/stap/9"
    assert [row["name"] for row in admins(db)] == ["ICT & Zorg B.V."]


@pytest.mark.parametrize("htmx", [False, True])
def test_an_administrator_removed_from_the_summary_keeps_the_way_back_and_going_on_returns_to_it(at_step_9, db, htmx):
    add(at_step_9, name="Afdeling ICT")
    add(at_step_9, name="Softwareleverancier")
    assert at_step_9.submit("/stap/7").headers["Location"] == "/stap/8"
    assert at_step_9.submit("/stap/8", {"services_ok": "y"}).headers["Location"] == "/stap/9"
    first = admins(db)[0]["id"]
    client, headers = at_step_9.client, {"HX-Request": "true"} if htmx else {}
    html = at_step_9.get("/stap/7?terug=overzicht", htmx=htmx).get_data(as_text=True)
    action = form_action(html, "Verwijder Afdeling ICT")
    assert action == f"/stap/7/beheerder/{first}/verwijder?terug=overzicht"
    response = client.post(action, data=hidden_inputs(html), headers=headers)
    assert destination(response) == "/stap/7?terug=overzicht"
    html = _page(at_step_9, response, htmx)
    assert "Afdeling ICT" not in html
    response = client.post(form_action(html, "Doorgaan"), data=hidden_inputs(html), headers=headers)
    assert destination(response) == "/stap/9"
    assert [row["name"] for row in admins(db)] == ["Softwareleverancier"]

# -- going back to step 2 ---------------------------------------------------------------------


@pytest.fixture
def everything(at_step_7, db):
    """Steps 1-7 done: a contact typed on one code, the rest filled with the main contact, one ICT administrator."""
    fields = hidden_inputs(at_step_7.get("/stap/6/code/01004567/1").get_data(as_text=True))
    assert at_step_7.client.post("/stap/6/code/01004567/1", data={**fields, **CONTACT}).status_code == 303
    assert add(at_step_7).status_code == 303
    assert at_step_7.submit("/stap/7").headers["Location"] == "/stap/8"
    return at_step_7


def _held(db):
    return {name: table(db, name) for name in ("persons", "contact_persons", "ict_admins", "draft_agb_codes")}


@pytest.mark.parametrize("htmx", [False, True])
def test_another_kvk_number_asks_first_and_clears_nothing(everything, db, htmx):
    before, draft = _held(db), dict(everything.draft())
    response = everything.look_up(kvk="41000002", agb="04071111", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'class="notification" role="alert"' in html
    assert "U vult een ander KvK-nummer in dan eerst." in html
    assert ">Ja, gebruik dit KvK-nummer</button>" in html
    assert hidden_inputs(html)["replace"] == "yes"
    assert element(html, "kvk_number")["value"] == "41000002"
    assert element(html, "agb_code")["value"] == "04071111"
    assert _held(db) == before and dict(everything.draft()) == draft


def test_confirming_another_kvk_number_clears_steps_4_to_7(everything, db):
    response = everything.submit("/stap/2", {"kvk_number": "41000002", "agb_code": "04071111", "replace": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == "/stap/3"
    held = _held(db)
    assert held["persons"] == [] and held["contact_persons"] == [] and held["ict_admins"] == []
    assert [row["agb_code"] for row in held["draft_agb_codes"]] == ["04071111"]
    draft = everything.draft()
    assert (draft["kvk_number"], draft["contacts_done_at"], draft["ict_done_at"]) == ("41000002", None, None)
    actions = [row["action"] for row in db.conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert "steps 4-7 cleared for another company" in actions
    assert everything.confirm().status_code == 303
    assert everything.get("/stap/5").headers["Location"] == "/stap/4"
    page = everything.get("/stap/4").get_data(as_text=True)
    assert "H. Dijkstra" in page and 'id="surname"' not in page  # nothing of the former signatory


def test_the_same_kvk_number_again_keeps_the_contacts_of_codes_still_active(everything, db, registry_path):
    before = _held(db)
    edit_registry(registry_path, lambda data: [code.update(actief=False) for code in data["agb"]
                                               if code["agbCode"] == "37000890"])
    response = everything.look_up()  # the same KvK number: no question asked
    assert response.status_code == 303 and response.headers["Location"] == "/stap/3"
    held = _held(db)
    assert held["persons"] == before["persons"] and held["ict_admins"] == before["ict_admins"]
    assert held["contact_persons"] == [row for row in before["contact_persons"] if row["agb_code"] != "37000890"]
    assert [row["agb_code"] for row in held["draft_agb_codes"]] == ["01004567", "01051234"]
    assert everything.confirm().status_code == 303
    html = everything.get("/stap/6").get_data(as_text=True)
    assert "A.S. El Amrani" in html and "37000890" not in html


def test_a_new_code_of_the_same_company_needs_a_contact_before_going_on(everything, db, registry_path):
    edit_registry(registry_path, lambda data: data["agb"].append({
        "agbCode": "04012345", "kvkNummer": "41000001", "naam": "Fysiotherapie De Linde", "zorgsoort": "04",
        "zorgpartijType": "vestiging", "actief": True}))
    assert everything.look_up().status_code == 303
    assert everything.confirm().status_code == 303
    assert everything.get("/stap/7").headers["Location"] == "/stap/6"
    html = everything.get("/stap/6").get_data(as_text=True)
    assert '<tr id="row-04012345" class="contact-row contact-row--missing">' in html
    assert len(admins(db)) == 1 and "A.S. El Amrani" in html


# -- steps 4 to 7 as a browser without JavaScript walks them ----------------------------------


def _follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_steps_4_to_7_without_javascript(confirmed, db):
    import re

    from .conftest import MAIN_CONTACT, SIGNATORY
    client = confirmed.client
    html = client.get("/stap/4").get_data(as_text=True)
    # Step 4: the officer choice is a GET form; its answer holds the details form.
    choice = re.search(r'<form method="get" action="(/stap/4)"', html).group(1)
    html = client.get(choice, query_string={"signatory": "f1"}).get_data(as_text=True)
    assert element(html, "surname")["value"] == "Linden"
    html = _follow(client, client.post("/stap/4", data={**hidden_inputs(html), **SIGNATORY}))
    assert "Geef uw hoofdcontactpersoon op" in html
    # Step 5.
    html = _follow(client, client.post("/stap/5", data={**hidden_inputs(html), **MAIN_CONTACT}))
    assert "Geef uw contactpersonen op" in html
    # Step 6: each row without a contact through its edit link, back at the row each time.
    for code in ("01004567", "37000890"):
        link = re.search(rf'<a href="(/stap/6/code/{code}/1)"', html).group(1)
        form = client.get(link).get_data(as_text=True)
        response = client.post(link, data={**hidden_inputs(form), **CONTACT})
        assert response.headers["Location"] == f"/stap/6#row-{code}"
        html = _follow(client, response)
    assert "Nog geen contactpersoon" not in html
    html = _follow(client, client.post("/stap/6", data=hidden_inputs(html)))
    assert "Geef uw ICT-beheerder(s) op (optioneel)" in html
    # Step 7: one administrator through the add link, then on.
    link = re.search(r'href="(/stap/7/toevoegen)"', html).group(1)
    form = client.get(link).get_data(as_text=True)
    html = _follow(client, client.post(link, data={**hidden_inputs(form), **ICT_ADMIN}))
    assert "ICT &amp; Zorg B.V." in html
    response = client.post("/stap/7", data=hidden_inputs(html))
    assert response.headers["Location"] == "/stap/8"
    assert "Stap 8 van 10" in _follow(client, response)
    assert [row["surname"] for row in table(db, "contact_persons") if row["source"] == "applicant"] == [
        "El Amrani", "El Amrani"]
