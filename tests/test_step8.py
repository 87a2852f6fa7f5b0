"""Step 8: the services open to the applicant, derived from the zorgsoort of each AGB code."""

import json
import re

import pytest

from app import create_app
from onboarding import services

from routes.forms import REMARK_LIMIT

from .conftest import edit_registry, element

OK = {"services_ok": "y"}


def titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="subheading" id="service-[^"]+">([^<]+)</h2>', html)


def test_the_gate_sends_an_applicant_who_skipped_step_7_there(with_main_contact):
    assert with_main_contact.get("/stap/8").headers["Location"] == "/stap/6"


def test_full_page_shows_the_services_open_to_the_zorgsoorten_of_the_codes(at_step_8):
    response = at_step_8.get("/stap/8")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "Stap 8 van 10" in html
    shown = titles(html)
    # The practice has codes of zorgsoort 01 and 37 only: ION (01, 37) yes, Wlz declaring no.
    assert "Controle op verzekeringsrecht (COV)" in shown and "Inschrijven op Naam (ION)" in shown
    assert "Declareren Wlz" not in shown and "Machtigingenportaal" not in shown
    assert 'name="services_ok"' in html and 'name="services_remark"' in html


def test_fragment(at_step_8):
    response = at_step_8.get("/stap/8", htmx=True)
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.startswith("<title>Controleer uw diensten")


def test_a_service_open_to_some_codes_names_them_by_zorgsoort(at_step_8):
    html = at_step_8.get("/stap/8").get_data(as_text=True)
    # The Wlz lookup is open to GPs (01), not to zorgsoort 37.
    wlz = html[html.index("Wlz raadpleegfunctie"):]
    wlz = wlz[:wlz.index("</section>")]
    assert "Toegang met 2 van uw AGB-codes" in wlz
    assert "Huisartsen</span> (01): 01004567, 01051234" in wlz and "37000890" not in wlz
    cov = html[html.index("Controle op verzekeringsrecht"):]
    assert "Toegang met al uw 3 AGB-codes" in cov[:cov.index("</section>")]


def test_the_services_come_in_english_in_the_english_interface(at_step_8):
    at_step_8.client.set_cookie("taal", "en")
    shown = titles(at_step_8.get("/stap/8").get_data(as_text=True))
    assert "Insurance entitlement check (COV)" in shown and "Registration by name (ION)" in shown


@pytest.mark.parametrize("htmx", [False, True])
def test_confirming_stores_the_answer_and_the_remark_and_goes_to_step_9(at_step_8, db, htmx):
    response = at_step_8.submit("/stap/8", {**OK, "services_remark": "  Wij missen de Wlz-declaraties.\r\nGraag nakijken.  "},
                                htmx=htmx)
    if htmx:
        assert response.headers["HX-Push-Url"] == "/stap/9"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/stap/9"
    draft = at_step_8.draft()
    assert draft["services_ok_at"] and draft["services_remark"] == "Wij missen de Wlz-declaraties.\nGraag nakijken."
    assert db.conn.execute("SELECT action FROM audit_log ORDER BY id DESC").fetchone()[0] == "services confirmed"
    html = at_step_8.get("/stap/8").get_data(as_text=True)
    assert 'id="services_ok" name="services_ok" value="y" checked' in html
    assert "Wij missen de Wlz-declaraties." in html


def test_an_empty_remark_is_stored_as_none(at_step_8):
    at_step_8.submit("/stap/8", OK)
    assert at_step_8.draft()["services_remark"] is None


@pytest.mark.parametrize("field, data, message", [
    ("services_ok", {}, "Bevestig dat het overzicht van de diensten klopt en volledig is"),
    ("services_ok", {"services_ok": ""}, "Bevestig dat het overzicht van de diensten klopt en volledig is"),
    # Posted by hand: only what the box sends ("y") ticks it.
    ("services_ok", {"services_ok": "0"}, "Bevestig dat het overzicht van de diensten klopt en volledig is"),
    ("services_ok", {"services_ok": "n"}, "Bevestig dat het overzicht van de diensten klopt en volledig is"),
    ("services_remark", {**OK, "services_remark": "x" * 1001}, "Gebruik hoogstens 1000 tekens"),
    ("services_remark", {**OK, "services_remark": "tekst\x00"}, "Gebruik alleen gewone tekst"),
    ("services_remark", {**OK, "services_remark": "omgekeerd\u202etekst"}, "Gebruik alleen gewone tekst"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input(at_step_8, field, data, message, htmx):
    response = at_step_8.submit("/stap/8", data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<a href="#{field}">{message}' in html and f'id="{field}-error"' in html
    assert at_step_8.draft()["services_ok_at"] is None


def test_the_remark_box_holds_no_more_than_the_server_takes_and_its_hint_says_so(at_step_8):
    html = at_step_8.get("/stap/8").get_data(as_text=True)
    remark = element(html, "services_remark")
    assert remark["tag"] == "textarea" and remark["maxlength"] == str(REMARK_LIMIT) == "1000"
    assert remark["aria-describedby"] == "services_remark-hint"
    hint = html[html.index('id="services_remark-hint">'):]
    assert "Hoogstens 1000 tekens." in hint[:hint.index("</p>")]


def test_a_remark_over_the_limit_posted_anyway_comes_back_with_its_message_and_every_character(at_step_8):
    # Accented letters weigh twice in the body: the limit is in characters, and the body stays far
    # below the 64 KB that would refuse it unread (413).
    typed = "é" * (REMARK_LIMIT + 1)
    response = at_step_8.submit("/stap/8", {**OK, "services_remark": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#services_remark">Gebruik hoogstens 1000 tekens</a>' in html
    assert f">{typed}</textarea>" in html
    assert at_step_8.draft()["services_remark"] is None


def test_the_remark_typed_comes_back_escaped(at_step_8):
    html = at_step_8.submit("/stap/8", {"services_remark": "<script>x</script>"}).get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;</textarea>" in html


def test_a_save_from_an_older_tab_is_refused(at_step_8):
    page = at_step_8.get("/stap/8").get_data(as_text=True)
    from .conftest import hidden_inputs
    old = hidden_inputs(page)
    at_step_8.submit("/stap/8", {**OK, "services_remark": "eerste"})
    response = at_step_8.client.post("/stap/8", data={**old, **OK, "services_remark": "tweede"})
    assert response.status_code == 409 and "tweede" in response.get_data(as_text=True)
    assert at_step_8.draft()["services_remark"] == "eerste"


def test_a_thousand_codes_are_grouped_not_listed(at_step_8, db):
    draft = at_step_8.draft()
    db.conn.executemany(
        "INSERT INTO draft_agb_codes (draft_id, agb_code, position, name, zorgsoort, party_type, contacts) "
        "VALUES (?, ?, ?, ?, '03', 'zorgverlener', 1)",
        [(draft["id"], f"03{number:06d}", 100 + number, f"Specialist {number}") for number in range(1000)])
    services.store_code_groups(db, draft["id"])  # as drafts.save_company does with the codes it writes
    html = at_step_8.get("/stap/8").get_data(as_text=True)
    assert "03000500" not in html
    assert "Medisch specialisten</span> (03): 1000 codes" in html
    assert len(html) < 40_000


def test_a_zorgsoort_the_vektis_list_lacks_is_named_as_unknown(unknown_zorgsoort, at_step_8, app, tmp_path):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": [{"id": "x", "naam": {"nl": "Dienst X", "en": "Service X"},
                                              "omschrijving": {"nl": "a", "en": "b"}, "zorgsoorten": ["01", "97"]}]}))
    app.extensions["aansluiten.services"] = services.load(str(path))
    html = at_step_8.get("/stap/8").get_data(as_text=True)
    assert '<span lang="nl" dir="auto">Onbekende zorgsoort</span> (97): 97000123' in html


def test_the_catalogue_comes_from_the_setting(app, tmp_path):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": [{"id": "x", "naam": {"nl": "Dienst X", "en": "Service X"},
                                              "omschrijving": {"nl": "a", "en": "b"}, "zorgsoorten": ["04"]}]}))
    other = create_app({**app.config, "SERVICES": str(path)})
    assert [service.id for service in other.extensions["aansluiten.services"]] == ["x"]


@pytest.mark.parametrize("content", [
    "{not json", '{"services": [{"id": "x"}]}',
    '{"services": [{"id": "x", "naam": {"nl": "X"}, "omschrijving": {"nl": "a", "en": "b"}, "zorgsoorten": "*"}]}',
])
def test_a_broken_catalogue_stops_the_app_with_a_clear_message(app, tmp_path, content):
    path = tmp_path / "services.json"
    path.write_text(content)
    with pytest.raises(services.CatalogueError, match="service"):
        create_app({**app.config, "SERVICES": str(path)})


def test_the_shipped_catalogue_names_every_service_of_the_issue():
    names = {service.name["nl"] for service in services.load("data/services.json")}
    for expected in ("Controle op verzekeringsrecht (COV)", "Declareren Zvw", "Declareren Wlz",
                     "Wmo- en Jeugdwet-declaraties", "VSP-Wlz", "Machtigingenportaal", "Zorginkoopportaal",
                     "Retourinformatie", "Inschrijven op Naam (ION)", "Wlz raadpleegfunctie", "Gebruikersbeheer"):
        assert expected in names


def test_the_groups_follow_the_codes_of_each_look_up(at_step_8, db, registry_path):
    draft_id = at_step_8.draft()["id"]
    assert services.code_groups(db, draft_id) == [("01", 2, ("01004567", "01051234")), ("37", 1, ("37000890",))]

    def move(data):
        next(code for code in data["agb"] if code["agbCode"] == "37000890").update(zorgsoort="01")
    edit_registry(registry_path, move)
    assert at_step_8.look_up().status_code == 303  # the same company, a code of another zorgsoort now
    assert services.code_groups(db, draft_id) == [("01", 3, ("01004567", "01051234", "37000890"))]
    assert at_step_8.submit("/stap/2", {"kvk_number": "41000002", "agb_code": "04071111",
                                        "replace": "yes"}).status_code == 303  # another company
    assert services.code_groups(db, draft_id) == [("04", 1, ("04071111",))]


def test_a_new_lookup_asks_to_check_the_services_again(at_step_8, registry_path):
    at_step_8.submit("/stap/8", {**OK, "services_remark": "blijft"})
    def drop(data):
        data["agb"] = [code for code in data["agb"] if code["agbCode"] != "37000890"]
    edit_registry(registry_path, drop)
    at_step_8.look_up()
    at_step_8.confirm()
    # The codes may have changed, and with them the services: confirmed again, the remark kept.
    assert at_step_8.draft()["services_ok_at"] is None and at_step_8.draft()["services_remark"] == "blijft"
    assert at_step_8.get("/stap/9").headers["Location"] == "/stap/8"
    assert "37000890" not in at_step_8.get("/stap/8").get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_without_a_service_the_remark_says_which_services_are_expected(at_step_8, app, tmp_path, htmx):
    # A catalogue with no service for these zorgsoorten: "correct and complete" alone would make an
    # agreement for no service at all.
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": [{"id": "x", "naam": {"nl": "Dienst X", "en": "Service X"},
                                              "omschrijving": {"nl": "a", "en": "b"}, "zorgsoorten": ["99"]}]}))
    app.extensions["aansluiten.services"] = services.load(str(path))
    page = at_step_8.get("/stap/8").get_data(as_text=True)
    assert '<label class="label" for="services_remark">Welke diensten verwacht u?</label>' in page
    assert "Mist er iets, of klopt er iets niet? (optioneel)" not in page
    response = at_step_8.submit("/stap/8", {"services_ok": "y"}, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and at_step_8.draft()["services_ok_at"] is None
    assert html.count("Schrijf welke diensten u verwacht: voor de zorgsoorten van uw AGB-codes vinden wij er geen") == 2
    saved = at_step_8.submit("/stap/8", {"services_ok": "y", "services_remark": "Declareren Wlz"}, htmx=htmx)
    assert saved.status_code == (200 if htmx else 303) and at_step_8.draft()["services_ok_at"]
