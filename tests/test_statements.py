"""The privacy statement, the accessibility statement, the service desk in every footer and the
help on every step (issue 10, part 2)."""

import re

import pytest
from markupsafe import escape

from app import create_app
from routes.statements import STEP_HELP

from .conftest import element

STATEMENTS = [("/privacy", "Privacyverklaring"), ("/toegankelijkheid", "Toegankelijkheidsverklaring")]


def footer(html: str) -> str:
    return html[html.index("<footer"):]


def retention_list(html: str) -> str:
    start = html.index('id="retention"')
    return html[start:html.index("</ul>", start)]


def headings(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])\b", html)]


@pytest.mark.parametrize("url, title", STATEMENTS)
def test_a_statement_is_a_full_page_with_one_heading_and_sections_below_it(client, url, title):
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="nl">' in html
    assert f"<title>{title} - Aansluiten bij VECOZO</title>" in html
    assert f'<h1 class="heading" tabindex="-1">{title}</h1>' in html
    levels = headings(html[html.index('<main'):html.index("</main>")])
    assert levels[0] == 1 and levels.count(1) == 1 and set(levels[1:]) == {2}
    assert "style=" not in html and "<script>" not in html


@pytest.mark.parametrize("url, title", STATEMENTS)
def test_with_htmx_a_statement_answers_with_its_main_block(client, url, title):
    response = client.get(url, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.startswith(f"<title>{title} - Aansluiten bij VECOZO</title>")
    assert "<html" not in html and "<footer" not in html
    assert f'<h1 class="heading" tabindex="-1">{title}</h1>' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url, title", [("/privacy", "Privacy statement"),
                                        ("/toegankelijkheid", "Accessibility statement")])
def test_the_statements_in_english(client, url, title):
    client.get("/taal/en?next=/")
    html = client.get(url).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert f'<h1 class="heading" tabindex="-1">{title}</h1>' in html
    assert "Privacyverklaring" not in html and "Toegankelijkheidsverklaring" not in html


def test_the_privacy_statement_names_the_data_per_role_who_receives_it_and_the_rights(client):
    html = client.get("/privacy").get_data(as_text=True)
    for role in ("Aanvrager", "Tekenbevoegde", "Hoofdcontactpersoon", "Contactpersonen per AGB-code",
                 "ICT-beheerders", "Identificatie", "Afspraak"):
        assert f"<dt>{role}</dt>" in html, role
    assert "zoals op het identiteitsbewijs, geboortedatum, zakelijk e-mailadres en zakelijk mobiel nummer" in html
    for receiver in ("VECOZO:", "iDIN", "CM.com", "AMP Groep"):
        assert receiver in html, receiver
    for right in ("inzage:", "rectificatie:", "verwijdering:", "bezwaar:", "Autoriteit Persoonsgegevens"):
        assert right in html, right
    assert 'href="mailto:privacy@vecozo.example"' in html


def test_the_privacy_statement_says_what_the_browser_keeps(app, client):
    """Functional cookies only, and what app.js keeps in the tab (the language switch, Back and
    Forward); the idle time as configured."""
    app.config["IDLE_TIMEOUT"] = 20 * 60
    html = client.get("/privacy").get_data(as_text=True)
    assert "In uw browser" in html and "geen cookies om u te volgen of te meten" in html
    assert "na 20 minuten zonder activiteit bent u niet meer aangemeld" in html
    assert "met de knoppen Terug en Vooruit van de browser" in html and "alleen wat u veranderde, in dit tabblad" in html


def test_the_privacy_officers_address_is_configurable(app, client):
    app.config["PRIVACY_EMAIL"] = "fg@vecozo.nl"
    html = client.get("/privacy").get_data(as_text=True)
    assert 'href="mailto:fg@vecozo.nl"' in html and "vecozo.example" not in html


def test_the_privacy_statement_shows_the_retention_of_the_configuration(client):
    kept = retention_list(client.get("/privacy").get_data(as_text=True))
    assert "waaraan 30 dagen niets is gedaan" in kept
    assert "bewaren wij 3650 dagen (10 jaar) na het afronden" in kept
    assert "bewaren wij de inhoud 7 dagen" in kept
    assert "verwijderen wij 1 dag nadat ze zijn gebruikt of verlopen" in kept


def test_the_privacy_statement_and_flask_purge_read_the_same_retention_settings(tmp_path, registry_path):
    app = create_app({
        "TESTING": True, "DATABASE": str(tmp_path / "test.db"), "REGISTRY": str(registry_path),
        "SECRET_KEY": "test-secret", "DEMO": True,
        "RETENTION_DRAFT_DAYS": 45, "RETENTION_COMPLETED_DAYS": 730, "RETENTION_MAIL_DAYS": 1,
    })
    kept = retention_list(app.test_client().get("/privacy").get_data(as_text=True))
    assert "waaraan 45 dagen niets is gedaan" in kept
    assert "bewaren wij 730 dagen (2 jaar) na het afronden" in kept
    assert "bewaren wij de inhoud 1 dag;" in kept
    assert " 30 dagen" not in kept and "3650" not in kept
    report = app.test_cli_runner().invoke(args=["purge"]).output
    assert "untouched for 45 days" in report and "older than 730 days" in report and "older than 1 days" in report


def test_the_retention_periods_in_english(app, client):
    app.config["RETENTION_DRAFT_DAYS"] = 1
    client.get("/taal/en?next=/")
    kept = retention_list(client.get("/privacy").get_data(as_text=True))
    assert "nobody has touched for 1 day is deleted" in kept
    assert "kept for 3650 days (10 years) after completion" in kept


def test_the_accessibility_statement_follows_the_model(client):
    html = client.get("/toegankelijkheid").get_data(as_text=True)
    assert "WCAG 2.2" in html and "EN 301 549" in html
    assert "voldoet gedeeltelijk" in html
    assert "axe-core" in html and "met en zonder JavaScript" in html and "320 pixels" in html
    assert "400% zoom" in html and "toetsenbord" in html
    assert "PDF/A-2U" in html and "zonder tags" in html and "demopagina" in html
    assert "na 30 minuten zonder activiteit" in html  # the configured idle timeout
    assert "opgesteld op 29 november 2026" in html
    main = html[html.index("<main"):html.index("</main>")]
    assert 'href="tel:+31881234567"' in main


@pytest.mark.parametrize("url", ["/", "/stap/1", "/privacy", "/toegankelijkheid"])
def test_every_page_links_both_statements_and_the_service_desk_in_its_footer(client, url):
    bottom = footer(client.get(url).get_data(as_text=True))
    assert 'href="/privacy"' in bottom and 'href="/toegankelijkheid"' in bottom
    assert '<a href="tel:+31881234567">088 - 123 4567</a> (op werkdagen, 08:30-17:00)' in bottom
    assert "VECOZO, Postbus 1234, 3700 AA Zeist" in bottom
    assert 'href="https://www.vecozo.nl/support/"' in bottom


def test_a_step_page_has_the_footer_too(looked_up):
    bottom = footer(looked_up.get("/stap/3").get_data(as_text=True))
    assert 'href="/privacy"' in bottom and 'href="tel:+31881234567"' in bottom


def test_the_service_desk_comes_from_the_help_settings(app, client):
    app.config.update(HELP_PHONE="+31 30 234 5678", HELP_HOURS="09:00-16:00", HELP_ADDRESS="Servicedesk, Utrecht")
    bottom = footer(client.get("/").get_data(as_text=True))
    assert '<a href="tel:+31302345678">+31 30 234 5678</a> (op werkdagen, 09:00-16:00)' in bottom
    assert "Servicedesk, Utrecht" in bottom and "088 - 123 4567" not in bottom


def test_a_phone_setting_that_is_no_number_is_shown_without_a_link(app, client):
    app.config["HELP_PHONE"] = "via het contactformulier"
    bottom = footer(client.get("/").get_data(as_text=True))
    assert "Telefoon: via het contactformulier" in bottom and "tel:" not in bottom


def test_the_help_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AANSLUITEN_HELP_PHONE", "030 - 765 4321")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "test.db"), "SECRET_KEY": "x", "DEMO": True})
    assert app.config["HELP_PHONE"] == "030 - 765 4321"
    assert 'href="tel:+31307654321"' in footer(app.test_client().get("/").get_data(as_text=True))


def test_the_footer_in_english(client):
    client.get("/taal/en?next=/")
    bottom = footer(client.get("/").get_data(as_text=True))
    assert "Privacy statement" in bottom and "Accessibility statement" in bottom
    assert "(on working days, 08:30-17:00)" in bottom


def test_step_1_links_the_privacy_statement(client):
    main = client.get("/stap/1").get_data(as_text=True)
    main = main[main.index("<main"):main.index("</main>")]
    assert '<a href="/privacy">Wat wij met uw gegevens doen' in main


def help_block(html: str) -> str:
    start = html.index('<details class="details">\n  <summary>Hulp bij deze stap</summary>')
    return html[start:html.index("</details>", start)]


def test_there_is_help_for_each_of_the_ten_steps():
    assert sorted(STEP_HELP) == list(range(1, 11))
    for number, text in STEP_HELP.items():
        sentences = re.findall(r"[.!?](?:\s|$)", str(text))
        assert 2 <= len(sentences) <= 4, number


@pytest.mark.parametrize("number", range(1, 10))
@pytest.mark.parametrize("htmx", [False, True])
def test_every_step_offers_help_with_this_step_below_its_heading(at_step_9, number, htmx):
    html = at_step_9.get(f"/stap/{number}", htmx=htmx).get_data(as_text=True)
    heading = html.index('<h1 class="heading"')
    help_at = html.index("<summary>Hulp bij deze stap</summary>")
    assert heading < help_at < html.index("</h1>", heading) + 40
    assert f"<p>{escape(str(STEP_HELP[number]))}</p>" in help_block(html)
    assert html.count("Hulp bij deze stap") == 1


def test_step_10_offers_help_too(submitted):
    html = submitted.get("/stap/10").get_data(as_text=True)
    assert "iDIN" in help_block(html) and "AMP Groep" in help_block(html)


def test_step_1_offers_help_without_a_draft(client):
    assert "24 uur geldig" in help_block(client.get("/stap/1").get_data(as_text=True))


def test_pages_that_are_no_step_have_no_step_help(client):
    for url in ("/", "/privacy", "/toegankelijkheid"):
        assert "Hulp bij deze stap" not in client.get(url).get_data(as_text=True), url


def test_the_help_of_a_step_in_english(verified):
    verified.client.get("/taal/en?next=/")
    html = verified.get("/stap/2").get_data(as_text=True)
    assert "<summary>Help with this step</summary>" in html
    assert "Enter your company&#39;s KvK number" in html


def test_the_help_is_a_details_element_that_works_without_javascript(client):
    html = client.get("/stap/1").get_data(as_text=True)
    block = help_block(html)
    assert "<p>" in block and "hx-" not in block
    assert element(html, "main")["tag"] == "main"
