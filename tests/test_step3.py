"""Step 3: check the registry data; yes goes on, no explains and offers to start again."""

import pytest

from .conftest import (add_code, assert_within_step_keeps_the_way_back, destination, edit_registry, hidden_inputs,
                       link)


def test_gate_before_the_lookup(verified):
    assert verified.get("/stap/3").headers["Location"] == "/stap/2"


def test_full_page_shows_everything_from_the_registries(looked_up):
    response = looked_up.get("/stap/3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    for shown in ("Huisartsenpraktijk De Linde B.V.", "Besloten Vennootschap", "41000001", "000041000001",
                  "Markt 1", "1234 AB Utrecht", "M. van der Linden", "Alleen/zelfstandig bevoegd",
                  "Gezamenlijk bevoegd", "Niet bevoegd", "01004567", "37000890", "Huisartsen",
                  "Zorgverlener", "Vestiging", 'name="data_correct"'):
        assert shown in html, shown
    assert "01009999" not in html


def test_fragment(looked_up):
    response = looked_up.get("/stap/3", htmx=True)
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.startswith("<title>Controleer de gegevens")


def test_names_with_apostrophes_are_shown_escaped_once(verified):
    verified.look_up(kvk="41000002", agb="04071111")
    html = verified.get("/stap/3").get_data(as_text=True)
    assert "Fysiotherapie &#39;t Hoogeland" in html
    assert "&#39;s-Hertogenbosch" in html


def test_yes_goes_on_to_step_4(looked_up):
    response = looked_up.confirm("yes")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/4"
    assert looked_up.draft()["data_correct"] == "yes"


def test_yes_as_fragment(looked_up):
    response = looked_up.confirm("yes", htmx=True)
    assert response.headers["HX-Push-Url"] == "/stap/4"
    assert "Selecteer uw tekenbevoegde" in response.get_data(as_text=True)


@pytest.mark.parametrize("answer", [None, "", "maybe", "YES"])
@pytest.mark.parametrize("htmx", [False, True])
def test_no_answer_or_a_wrong_one(looked_up, answer, htmx):
    data = {} if answer is None else {"data_correct": answer}
    response = looked_up.submit("/stap/3", data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Geef aan of de gegevens kloppen" in html
    assert 'href="#data_correct-0"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="data_correct-error"' in html
    assert looked_up.draft()["data_correct"] is None


def test_no_explains_where_to_correct_and_offers_to_start_again(looked_up):
    response = looked_up.confirm("no")
    assert response.headers["Location"] == "/stap/3/onjuist"
    html = looked_up.get("/stap/3/onjuist").get_data(as_text=True)
    assert "kvk.nl" in html and "vektis.nl" in html
    assert "Opnieuw beginnen" in html
    assert looked_up.get("/stap/4").headers["Location"] == "/stap/3"


def test_starting_again_clears_the_lookup_and_keeps_the_address_and_the_numbers_typed(looked_up, db):
    looked_up.confirm("no")
    response = looked_up.submit("/stap/3/opnieuw", page="/stap/3/onjuist")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/2"
    draft = looked_up.draft()
    assert draft["company_json"] is None and draft["data_correct"] is None
    assert draft["email_verified_at"] and draft["email"] == "praktijk@example.nl"
    # A correction in the registry does not change the numbers: they are filled in again (WCAG 3.3.7).
    html = looked_up.get("/stap/2").get_data(as_text=True)
    assert 'value="41000001"' in html and 'value="01051234"' in html
    assert looked_up.get("/stap/3").headers["Location"] == "/stap/2"


@pytest.mark.parametrize("htmx", [False, True], ids=["without JavaScript", "htmx"])
def test_a_correction_begun_from_the_summary_leads_back_to_it(at_step_9, htmx):
    """Step 3 opened from the summary, answered "no": the page about correcting the registries, its
    way back to the data, and starting again after the correction all keep the way back, so that
    the new look-up and its check end at the summary again."""
    answered = at_step_9.submit("/stap/3?terug=overzicht", {"data_correct": "no"}, htmx=htmx,
                                page="/stap/3?terug=overzicht")
    incorrect = "/stap/3/onjuist?terug=overzicht"
    assert destination(answered) == incorrect
    html = at_step_9.get(incorrect).get_data(as_text=True)
    assert_within_step_keeps_the_way_back(html, 3)
    assert link(html, "Terug naar de gegevens")["href"] == "/stap/3?terug=overzicht"
    again = at_step_9.submit("/stap/3/opnieuw?terug=overzicht", page=incorrect, htmx=htmx)
    assert destination(again) == "/stap/2?terug=overzicht"
    looked_up = at_step_9.submit("/stap/2?terug=overzicht", {"kvk_number": "41000001", "agb_code": "01051234"},
                                 page="/stap/2?terug=overzicht", htmx=htmx)
    assert destination(looked_up) == "/stap/3?terug=overzicht"
    confirmed = at_step_9.submit("/stap/3?terug=overzicht", {"data_correct": "yes"}, page="/stap/3?terug=overzicht",
                                 htmx=htmx)
    assert destination(confirmed) == "/stap/9"


def test_starting_again_as_fragment(looked_up):
    looked_up.confirm("no", htmx=True)
    response = looked_up.submit("/stap/3/opnieuw", page="/stap/3/onjuist", htmx=True)
    assert response.headers["HX-Push-Url"] == "/stap/2"


def test_a_new_lookup_reads_the_registry_afresh(looked_up, registry_path):
    import json
    import os
    looked_up.confirm("no")
    looked_up.submit("/stap/3/opnieuw", page="/stap/3/onjuist")
    data = json.loads(registry_path.read_text())
    data["companies"][0]["naam"] = "Huisartsenpraktijk De Linde (nieuw) B.V."
    registry_path.write_text(json.dumps(data))
    os.utime(registry_path, (3, 3))
    looked_up.look_up()
    assert "De Linde (nieuw)" in looked_up.get("/stap/3").get_data(as_text=True)


def test_a_company_with_only_the_required_fields_shows(verified, registry_path):
    import json
    import os
    data = json.loads(registry_path.read_text())
    data["companies"].append({"kvkNummer": "41000009", "naam": "Minimaal", "actief": True})
    data["agb"].append({"agbCode": "01000009", "kvkNummer": "41000009", "actief": True})
    registry_path.write_text(json.dumps(data))
    os.utime(registry_path, (5, 5))
    assert verified.look_up(kvk="41000009", agb="01000009").status_code == 303
    response = verified.get("/stap/3")
    assert response.status_code == 200
    assert "Minimaal" in response.get_data(as_text=True)
    assert "Er staan geen functionarissen in het Handelsregister." in response.get_data(as_text=True)


def test_an_answer_from_an_old_tab_shows_the_answer_stored_meanwhile(looked_up):
    old_tab = hidden_inputs(looked_up.get("/stap/3").get_data(as_text=True))
    looked_up.confirm("no")
    response = looked_up.client.post("/stap/3", data={**old_tab, "data_correct": "yes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'value="yes" checked' in html
    assert "<li>Kloppen deze gegevens?: Nee, er klopt iets niet</li>" in html


def test_starting_again_from_an_old_tab_says_what_happened(looked_up):
    looked_up.confirm("no")
    old_tab = hidden_inputs(looked_up.get("/stap/3/onjuist").get_data(as_text=True))
    looked_up.confirm("yes")
    response = looked_up.client.post("/stap/3/opnieuw", data=old_tab)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in response.get_data(as_text=True)
    assert looked_up.draft()["data_correct"] == "yes"


@pytest.fixture
def large(verified, registry_path):
    """A company with 120 active AGB codes, looked up."""
    import json
    data = json.loads(registry_path.read_text())
    data["companies"].append({**data["companies"][0], "kvkNummer": "41000120", "naam": "Groep"})
    data["agb"] += [{"agbCode": f"06{number:06d}", "kvkNummer": "41000120", "naam": f"Locatie {number}",
                     "zorgsoort": "06", "zorgpartijType": "vestiging", "actief": True} for number in range(120)]
    registry_path.write_text(json.dumps(data))
    assert verified.look_up(kvk="41000120", agb="06000000").status_code == 303
    return verified


def test_a_long_list_of_codes_comes_in_pages_of_50(large):
    html = large.get("/stap/3").get_data(as_text=True)
    assert html.count("<tr><td>06") == 50 and "AGB-codes (120)" in html
    assert "Pagina 1 van 3" in html and 'href="/stap/3?pagina=2"' in html
    last = large.get("/stap/3?pagina=3").get_data(as_text=True)
    assert last.count("<tr><td>06") == 20 and "06000119" in last and "06000000" not in last
    assert 'href="/stap/3?pagina=2"' in last and 'name="data_correct"' in last
    # A page that does not exist shows the nearest one.
    assert large.get("/stap/3?pagina=99").get_data(as_text=True).count("<tr><td>06") == 20


def test_with_htmx_a_page_of_codes_swaps_only_the_list(large):
    response = large.client.get("/stap/3?pagina=2", headers={"HX-Request": "true", "HX-Target": "agb-codes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="agb-codes"')
    assert html.count("<tr><td>06") == 50 and "<title>" not in html and 'name="data_correct"' not in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_short_list_has_no_pages(looked_up):
    assert "Pagina 1 van" not in looked_up.get("/stap/3").get_data(as_text=True)


def test_registry_values_are_marked_dutch(looked_up):
    html = looked_up.get("/stap/3").get_data(as_text=True)
    assert '<dd lang="nl" dir="auto">Huisartsenpraktijk De Linde B.V.</dd>' in html
    assert '<td lang="nl" dir="auto">Huisartsenpraktijk De Linde</td>' in html


def test_a_name_written_right_to_left_keeps_its_own_direction(verified, registry_path):
    # dir="auto" gives a registry name the direction of its own script, isolated from what stands
    # beside it ("مستشفى 8" would otherwise show as "8 مستشفى" in a left-to-right page).
    def arabic(data):
        data["companies"][0]["naam"] = "مستشفى الشفاء"
        next(code for code in data["agb"] if code["agbCode"] == "01051234")["naam"] = "مستشفى 8"
    edit_registry(registry_path, arabic)
    verified.look_up()
    html = verified.get("/stap/3").get_data(as_text=True)
    assert '<dd lang="nl" dir="auto">مستشفى الشفاء</dd>' in html
    assert '<td lang="nl" dir="auto">مستشفى 8</td>' in html


@pytest.mark.parametrize("zorgsoort", ["00", "97"])
def test_a_code_of_a_zorgsoort_the_vektis_list_lacks_says_its_zorgsoort_is_unknown(verified, registry_path, zorgsoort):
    code = f"{zorgsoort}000123"
    add_code(registry_path, code, zorgsoort)
    verified.look_up()
    html = verified.get("/stap/3").get_data(as_text=True)
    assert (f'<tr><td>{code}</td><td lang="nl" dir="auto">Nieuwe locatie</td>'
            f'<td lang="nl" dir="auto">{zorgsoort} Onbekende zorgsoort</td>') in html


@pytest.mark.parametrize("htmx", [False, True])
def test_a_form_sent_from_a_tab_the_application_has_left_says_it_was_not_saved(with_main_contact, db, htmx):
    """Another tab started again at step 2: step 5 sent from this one stores nothing, and the page it
    leads to says so (not a silent step 2, as if what was typed had gone somewhere)."""
    page = with_main_contact.get("/stap/5").get_data(as_text=True)
    with_main_contact.submit("/stap/3", {"data_correct": "no"})
    assert with_main_contact.submit("/stap/3/opnieuw", page="/stap/3/onjuist").headers["Location"] == "/stap/2"
    response = with_main_contact.client.post("/stap/5", data={**hidden_inputs(page), "surname": "Elders"},
                                             headers={"HX-Request": "true"} if htmx else {})
    html = (response if htmx else with_main_contact.get(response.headers["Location"])).get_data(as_text=True)
    assert "Vul uw KvK-nummer en AGB-code in</h1>" in html
    assert "niet opgeslagen" in html and "ander venster" in html
    assert "niet opgeslagen" not in with_main_contact.get("/stap/2").get_data(as_text=True)  # said once
