"""Step 10: identification online (simulated iDIN) or by a visit, signing (simulated
CM Sign with signed callbacks), the status page and completion."""

import json
import re
import threading
from datetime import datetime
from html.parser import HTMLParser

import pytest
from babel.dates import format_date
from icalendar import Calendar

from onboarding import mail, signing

from .conftest import (MAIN_CONTACT, SIGNATORY, Applicant, assert_htmx_posts_disable_their_button, hidden_inputs,
                       name_main_contact, sign, table)

NO_PROVIDER = "Online identificeren en ondertekenen is op dit moment niet beschikbaar"


class _Fields(HTMLParser):
    """Every named input of a page with its value (checked radios only)."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "input" or not attrs.get("name"):
            return
        if attrs.get("type") == "radio" and "checked" not in attrs:
            return
        self.values[attrs["name"]] = attrs.get("value", "")


def fields(html: str) -> dict:
    parser = _Fields()
    parser.feed(html)
    return parser.values


def choose(applicant, method: str, htmx=False):
    return applicant.submit("/stap/10", {"method": method}, htmx=htmx)


def at_bank(client, start: str, page: str, outcome="confirm", **changes):
    """Press the button that starts iDIN, answer at the simulated bank, and come back.
    Returns the last answer (the page the browser is sent to)."""
    opened = client.get(page)
    started = client.post(start, data=hidden_inputs(opened.get_data(as_text=True)))
    assert started.status_code == 303, started.get_data(as_text=True)
    bank = client.get(started.headers["Location"])
    assert bank.status_code == 200
    values = fields(bank.get_data(as_text=True)) | changes
    answered = client.post("/demo/idin/authorize", data=values | {"outcome": outcome})
    assert answered.status_code == 303
    return client.get(answered.headers["Location"])


def identify_signatory(applicant, outcome="confirm", **changes):
    return at_bank(applicant.client, "/stap/10/identificeren", "/stap/10", outcome, **changes)


def person_link(applicant, email=MAIN_CONTACT["email"]) -> str:
    return re.search(r"https?://[^/\s]+(/persoon/[\w-]+)", applicant.last_mail(email)[0]).group(1)


def main_contact_browser(applicant) -> Applicant:
    """The main contact opens the mailed link in a browser of their own."""
    other = Applicant(applicant.client.application.test_client(), applicant.db)
    opened = other.client.get(person_link(applicant), follow_redirects=True)
    assert opened.status_code == 200
    pressed = other.client.post("/persoon/bevestig", data=hidden_inputs(opened.get_data(as_text=True)))
    assert pressed.status_code == 303 and pressed.headers["Location"] == "/persoon"
    return other


def main_contact_browser_identifies(applicant) -> Applicant:
    other = main_contact_browser(applicant)
    at_bank(other.client, "/persoon/identificeren", "/persoon")
    return other


def sign_agreement(applicant, decision="sign"):
    opened = applicant.client.get("/stap/10")
    started = applicant.client.post("/stap/10/ondertekenen", data=hidden_inputs(opened.get_data(as_text=True)))
    assert started.status_code == 303
    page = applicant.client.get(started.headers["Location"])
    assert page.status_code == 200
    decided = applicant.client.post(started.headers["Location"],
                                    data=hidden_inputs(page.get_data(as_text=True)) | {"decision": decision})
    assert decided.status_code == 303
    return decided


def identifications(db) -> dict:
    return {row["role"]: row["state"] for row in table(db, "identifications")}


@pytest.fixture
def online(submitted):
    assert choose(submitted, "online").headers["Location"] == "/stap/10"
    return submitted


# -- choosing ------------------------------------------------------------------------------------


def test_without_providers_only_the_visit_is_offered(submitted, app):
    # AANSLUITEN_SIMULATED_PROVIDERS off and no real provider configured.
    app.config["SIMULATED_PROVIDERS"] = False
    html = submitted.get("/stap/10").get_data(as_text=True)
    assert 'value="appointment"' in html and 'value="online"' not in html and "Online: met iDIN" not in html
    assert NO_PROVIDER in html
    response = choose(submitted, "online")  # a form from before, or made up
    assert response.status_code == 503 and NO_PROVIDER in response.get_data(as_text=True)
    assert submitted.draft()["method"] is None
    assert choose(submitted, "appointment").headers["Location"] == "/stap/10"


def test_full_page_and_fragment(submitted):
    page = submitted.get("/stap/10").get_data(as_text=True)
    assert "<html" in page and "Stap 10 van 10" in page and 'name="method"' in page
    fragment = submitted.get("/stap/10", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and fragment.startswith("<title>Identificeren en ondertekenen")


@pytest.mark.parametrize("method", ["", "paper", "online; drop table"])
def test_a_method_must_be_chosen(submitted, method):
    response = choose(submitted, method)
    assert response.status_code == 422 and "Kies hoe de personen zich identificeren" in response.get_data(as_text=True)
    assert submitted.draft()["method"] is None


def test_choosing_online_mails_the_main_contact_a_link(online):
    text, _html = online.last_mail(MAIN_CONTACT["email"])
    assert "/persoon/" in text and "iDIN" in text


# -- online ----------------------------------------------------------------------------------------


def test_online_match_for_both_persons_then_signing_completes_the_application(online, db):
    back = identify_signatory(online)
    assert back.status_code == 303 and back.headers["Location"] == "/stap/10"
    assert identifications(db) == {"signatory": "identified"}
    assert "U bent geïdentificeerd." in online.get("/stap/10").get_data(as_text=True)

    other = main_contact_browser(online)
    came_back = at_bank(other.client, "/persoon/identificeren", "/persoon")
    assert came_back.headers["Location"] == "/persoon"
    assert identifications(db) == {"signatory": "identified", "main_contact": "identified"}

    decided = sign_agreement(online)
    assert decided.headers["Location"].endswith("/stap/10")
    draft = online.draft()
    assert draft["status"] == "completed"
    [agreement] = table(db, "agreements")
    assert agreement["signing_state"] == "signed" and agreement["signed_pdf"]
    cert = signing.demo_credentials(db)[1]
    assert signing.verify_pdf_signature(bytes(agreement["signed_pdf"]), cert)
    # Both persons are told, once, and so is the applicant, who alone can download the signed PDF.
    told = [row["recipient"] for row in table(db, "outbox") if "is rond" in row["subject"]]
    assert sorted(told) == sorted([SIGNATORY["email"], MAIN_CONTACT["email"], "praktijk@example.nl"])
    # The signed PDF is this session's only.
    pdf = online.get("/aanmelding/overeenkomst-ondertekend.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    stranger = online.client.application.test_client()
    assert stranger.get("/aanmelding/overeenkomst-ondertekend.pdf").status_code in (403, 404)
    assert other.client.get("/aanmelding/overeenkomst-ondertekend.pdf").status_code in (403, 404)


DOWNLOAD_ROUTE = "Vraag daarvoor een nieuwe link aan met het e-mailadres waarmee de aanmelding is gedaan"
APPLICANT_DOWNLOADS = "De aanvrager kan de ondertekende overeenkomst downloaden op de statuspagina van de aanmelding."


def completed_online(applicant) -> Applicant:
    """Both persons identified with iDIN, the agreement signed; the main contact's browser."""
    identify_signatory(applicant)
    other = main_contact_browser_identifies(applicant)
    sign_agreement(applicant)
    assert applicant.draft()["status"] == "completed"
    return other


def test_the_completion_mail_shows_the_download_only_to_the_applicant(online, db):
    main_contact = completed_online(online)
    text, html = online.last_mail("praktijk@example.nl")
    assert text.startswith("Beste aanvrager,") and DOWNLOAD_ROUTE in text and DOWNLOAD_ROUTE in html
    for email in (SIGNATORY["email"], MAIN_CONTACT["email"]):
        text, html = online.last_mail(email)
        assert "is afgerond" in text and APPLICANT_DOWNLOADS in text and APPLICANT_DOWNLOADS in html
        assert DOWNLOAD_ROUTE not in text
    # The main contact's own page says the same, and offers no PDF of its own.
    page = main_contact.client.get("/persoon").get_data(as_text=True)
    assert "De aanmelding is afgerond." in page and APPLICANT_DOWNLOADS in page and ".pdf" not in page


def test_a_signatory_who_is_the_applicant_gets_one_completion_mail_with_the_download(confirmed, db):
    assert sign(confirmed, email="praktijk@example.nl").status_code == 303
    assert name_main_contact(confirmed).status_code == 303
    confirmed.submit("/stap/6/aanvullen", page="/stap/6")
    for path, data in (("/stap/6", {}), ("/stap/7", {}), ("/stap/8", {"services_ok": "y"}),
                       ("/stap/9", {"declaration": "y"}), ("/stap/10", {"method": "online"})):
        assert confirmed.submit(path, data).status_code == 303
    completed_online(confirmed)
    told = sorted(row["recipient"] for row in table(db, "outbox") if "is rond" in row["subject"])
    assert told == sorted(["praktijk@example.nl", MAIN_CONTACT["email"]])
    text, _html = confirmed.last_mail("praktijk@example.nl")
    assert text.startswith("Beste M. van der Linden,") and DOWNLOAD_ROUTE in text
    assert APPLICANT_DOWNLOADS in confirmed.last_mail(MAIN_CONTACT["email"])[0]


def test_a_mismatch_goes_to_a_manual_check_with_a_date(online, db):
    identify_signatory(online, surname="Linde")
    [row] = table(db, "identifications")
    assert row["state"] == "manual_check" and row["due_on"]
    html = online.get("/aanmelding").get_data(as_text=True)
    assert "antwoordt uiterlijk" in html


def test_cancel_at_the_bank_changes_nothing(online, db):
    back = identify_signatory(online, outcome="cancel")
    assert back.headers["Location"] == "/stap/10"
    assert identifications(db) == {}
    assert "afgebroken" in online.get("/stap/10").get_data(as_text=True)


def test_cancel_at_the_bank_from_the_person_page_offers_what_that_person_can_do(online, db):
    # Only the applicant chooses an appointment, on step 10: the person page says to ask them.
    other = main_contact_browser(online)
    back = at_bank(other.client, "/persoon/identificeren", "/persoon", outcome="cancel")
    assert back.headers["Location"] == "/persoon"
    html = other.client.get("/persoon").get_data(as_text=True)
    assert "U heeft het identificeren bij de bank afgebroken. Probeer het opnieuw, of vraag de aanvrager" in html
    assert "of kies een afspraak" not in html
    assert identifications(db) == {}


def test_a_replayed_return_changes_nothing(online, db):
    client = online.client
    opened = client.get("/stap/10")
    started = client.post("/stap/10/identificeren", data=hidden_inputs(opened.get_data(as_text=True)))
    bank = client.get(started.headers["Location"])
    answered = client.post("/demo/idin/authorize", data=fields(bank.get_data(as_text=True)) | {"outcome": "confirm"})
    back = answered.headers["Location"]
    assert client.get(back).status_code == 303
    before = table(db, "identifications")
    again = client.get(back)
    assert again.status_code == 400
    assert table(db, "identifications") == before


def test_a_foreign_return_changes_nothing(online, db, app):
    client = online.client
    opened = client.get("/stap/10")
    started = client.post("/stap/10/identificeren", data=hidden_inputs(opened.get_data(as_text=True)))
    bank = client.get(started.headers["Location"])
    answered = client.post("/demo/idin/authorize", data=fields(bank.get_data(as_text=True)) | {"outcome": "confirm"})
    # Another browser brings this return back.
    assert app.test_client().get(answered.headers["Location"]).status_code == 400
    assert identifications(db) == {}
    # The applicant's own browser still can.
    assert client.get(answered.headers["Location"]).status_code == 303
    assert identifications(db) == {"signatory": "identified"}


def test_the_bank_sends_browsers_back_to_this_application_only(online):
    response = online.client.get("/demo/idin/authorize?redirect_uri=https://evil.example/&state=x&nonce=y")
    assert response.status_code == 400


def test_declining_at_signing_can_be_started_again(online, db):
    identify_signatory(online)
    sign_agreement(online, "decline")
    assert table(db, "agreements")[0]["signing_state"] == "declined"
    assert online.draft()["status"] == "submitted"
    # Back from the signing page, a whole page: what happened there has the focus, and the ways on (an
    # agreement that says something wrong is the service desk's: nothing is reopened once signing began).
    panel = re.search(r'<div class="panel" role="status" tabindex="-1" autofocus>(.*?)</div>',
                      online.get("/stap/10").get_data(as_text=True), re.S).group(1)
    assert "Het ondertekenen is geweigerd." in panel and 'href="tel:+31881234567"' in panel
    assert "Aanmelding wijzigen" not in online.get("/aanmelding").get_data(as_text=True)
    sign_agreement(online, "sign")
    assert table(db, "agreements")[0]["signing_state"] == "signed"


def test_declining_at_signing_after_the_visit_says_so_too(by_appointment, db):
    book(by_appointment)
    assert by_appointment.submit("/stap/10/demo-bezoek", page="/stap/10").status_code == 303
    sign_agreement(by_appointment, "decline")
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    assert "Het ondertekenen is geweigerd." in html and "opnieuw ondertekenen" in html


def test_once_both_persons_are_identified_online_no_visit_is_offered(online, db):
    identify_signatory(online)
    main_contact_browser_identifies(online)
    html = online.get("/stap/10").get_data(as_text=True)
    assert "Ondertekenen" in html and "Geen eigen bankrekening?" not in html


# -- the status page -------------------------------------------------------------------------------


def test_the_pages_ask_for_news_while_waiting_and_reload_when_there_is_some(online):
    html = online.get("/aanmelding").get_data(as_text=True)
    watch = re.search(r'hx-get="(/aanmelding/stand\?v=\w+)" hx-trigger="every 5s" hx-swap="none"', html).group(1)
    assert watch in online.get("/stap/10").get_data(as_text=True)
    poll = {"HX-Request": "true", "X-Aansluiten-Poll": "1"}
    assert online.client.get(watch, headers=poll).status_code == 204
    identify_signatory(online)
    changed = online.client.get(watch, headers=poll)
    assert changed.status_code == 200 and changed.headers["HX-Refresh"] == "true"


def test_nothing_is_asked_once_nothing_is_pending(online):
    identify_signatory(online)
    main_contact_browser_identifies(online)
    sign_agreement(online)
    assert "/aanmelding/stand" not in online.get("/aanmelding").get_data(as_text=True)


def test_status_page_without_a_submitted_application_sends_to_the_step(at_step_9):
    assert at_step_9.get("/aanmelding").headers["Location"] == "/stap/9"


# -- reopening ---------------------------------------------------------------------------------------


def test_reopen_after_submit_voids_step_10(online, db):
    identify_signatory(online)
    response = online.submit("/aanmelding/wijzigen", page="/aanmelding")
    assert response.headers["Location"] == "/stap/9"
    draft = online.draft()
    assert draft["status"] == "draft" and draft["method"] is None
    assert table(db, "identifications") == [] and table(db, "agreements") == []
    actions = [row["action"] for row in table(db, "audit_log")]
    assert "application reopened for a change" in actions
    # Submitting again keeps the reference.
    reference = draft["reference"]
    assert online.submit("/stap/9", {"declaration": "y"}).headers["Location"] == "/stap/10"
    assert online.draft()["reference"] == reference


def test_the_reopen_button_is_disabled_while_sending(online):
    html = online.get("/aanmelding").get_data(as_text=True)
    assert "Aanmelding wijzigen" in html
    assert_htmx_posts_disable_their_button(html)


def test_no_reopening_once_signing_started(online, db):
    identify_signatory(online)
    opened = online.client.get("/stap/10")
    online.client.post("/stap/10/ondertekenen", data=hidden_inputs(opened.get_data(as_text=True)))
    assert "Aanmelding wijzigen" not in online.get("/aanmelding").get_data(as_text=True)
    online.submit("/aanmelding/wijzigen", page="/stap/10")
    assert online.draft()["status"] == "submitted"


# -- the visit ----------------------------------------------------------------------------------------


@pytest.fixture
def by_appointment(submitted):
    assert choose(submitted, "appointment").headers["Location"] == "/stap/10"
    return submitted


def first_slot(html: str) -> str:
    return re.search(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html).group(1)


def book(applicant, slot=None, **changes):
    html = applicant.get("/stap/10").get_data(as_text=True)
    values = fields(html) | {"slot": first_slot(html) if slot is None else slot} | changes
    return applicant.client.post("/stap/10/afspraak", data=values)


def test_the_visit_form_is_prefilled_with_the_company_address(by_appointment):
    values = fields(by_appointment.get("/stap/10").get_data(as_text=True))
    assert values["street"] and values["postcode"] and values["city"]


def test_a_registry_address_with_a_long_addition_is_prefilled_as_one_the_form_takes(by_appointment, db):
    # The registry's number and addition, as the draft keeps them from the look-up.
    company = json.loads(by_appointment.draft()["company_json"])
    company["hoofdvestiging"]["adres"].update(huisnummer=1234, huisnummerToevoeging="bis-3hg")
    db.conn.execute("UPDATE drafts SET company_json = ?", (json.dumps(company),))
    db.conn.commit()
    values = fields(by_appointment.get("/stap/10").get_data(as_text=True))
    assert values["house_number"] == "1234 bis-3hg"
    assert book(by_appointment).status_code == 303
    assert table(db, "appointments")[0]["house_number"] == "1234 bis-3hg"


def test_booking_mails_both_persons_with_an_ics(by_appointment, db):
    assert book(by_appointment).status_code == 303
    [visit] = table(db, "appointments")
    mails = [row for row in table(db, "outbox") if row["subject"].startswith("Afspraak bevestigd")]
    assert {row["recipient"] for row in mails} == {SIGNATORY["email"], MAIN_CONTACT["email"]}
    assert all(row["attachment_type"] == "text/calendar" and b"BEGIN:VEVENT" in row["attachment"] for row in mails)
    slot = datetime.fromisoformat(visit["slot"])
    booked = f"{format_date(slot.date(), 'full', locale='nl')} om {slot:%H:%M} uur"
    assert f"komt op {booked} naar" in by_appointment.get("/stap/10").get_data(as_text=True)


def calendar_events(db, email: str) -> list[tuple[str, str, int]]:
    """Each .ics mailed to ``email``, in order: its METHOD, the event's UID and SEQUENCE."""
    events = []
    for row in table(db, "outbox"):
        if row["recipient"] == email and row["attachment_type"] == "text/calendar":
            calendar = Calendar.from_ical(bytes(row["attachment"]))
            [event] = calendar.walk("VEVENT")
            events.append((str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])))
    return events


def test_a_changed_and_cancelled_visit_is_one_calendar_event(by_appointment, db):
    assert book(by_appointment).status_code == 303
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html)[-1]
    assert book(by_appointment, slot=later).status_code == 303
    assert by_appointment.submit("/stap/10/afspraak/annuleren", page="/stap/10").status_code == 303
    for email in (SIGNATORY["email"], MAIN_CONTACT["email"]):
        events = calendar_events(db, email)
        assert [method for method, _uid, _sequence in events] == ["PUBLISH", "PUBLISH", "CANCEL"]
        assert len({uid for _method, uid, _sequence in events}) == 1
        sequences = [sequence for _method, _uid, sequence in events]
        assert sequences == sorted(set(sequences))
    # A visit booked afresh is another event.
    assert book(by_appointment).status_code == 303
    assert calendar_events(db, SIGNATORY["email"])[-1][1] != events[0][1]


@pytest.mark.parametrize("field, value, message", [
    ("postcode", "12345", "Vul een Nederlandse postcode in"),
    ("postcode", "", "Vul de postcode in"),
    ("house_number", "", "Vul het huisnummer in"),
    ("house_number", "twaalf", "Vul een huisnummer in"),
    ("street", "", "Vul de straat in"),
    ("city", "x" * 101, "Gebruik hoogstens 100 tekens"),
    ("slot", "", "Kies een datum en tijd"),
    ("slot", "morgen", "Kies een datum en tijd uit de lijst"),
    ("slot", "2020-01-06T09:00", "Dit tijdstip kan niet meer"),
])
def test_bad_visit_input_is_refused(by_appointment, db, field, value, message):
    response = book(by_appointment, **{field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert table(db, "appointments") == []


@pytest.mark.parametrize("visits_per_slot", [1, 2])
def test_a_slot_another_application_holds_is_taken_once_it_holds_a_visit_per_visitor(by_appointment, db, app,
                                                                                    visits_per_slot):
    app.config["VISITS_PER_SLOT"] = visits_per_slot
    slot = first_slot(by_appointment.get("/stap/10").get_data(as_text=True))
    db.conn.execute("INSERT INTO drafts (key, email, created_at, updated_at) VALUES ('k', 'x@y.nl', '', '')")
    other = db.conn.execute("SELECT id FROM drafts WHERE key = 'k'").fetchone()[0]
    db.conn.execute("INSERT INTO appointments (draft_id, slot, street, house_number, postcode, city, created_at) "
                    "VALUES (?, ?, 's', '1', '1234AB', 'c', '')", (other, slot))
    offered = first_slot(by_appointment.get("/stap/10").get_data(as_text=True)) == slot
    assert offered == (visits_per_slot == 2)
    response = book(by_appointment, slot=slot)
    if visits_per_slot == 2:  # a place left: offered and accepted
        assert response.status_code == 303
        return
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "net door iemand anders gekozen" in body and f'value="{slot}"' not in body


def test_change_and_cancel_from_the_mailed_link(by_appointment, db):
    book(by_appointment)
    other = main_contact_browser(by_appointment)
    page = other.client.get("/persoon").get_data(as_text=True)
    slots = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', page)
    values = fields(page) | {"slot": slots[-1]}
    assert other.client.post("/persoon/afspraak", data=values).status_code == 303
    assert [row["slot"] for row in table(db, "appointments") if row["cancelled_at"] is None] == [slots[-1]]
    page = other.client.get("/persoon").get_data(as_text=True)
    cancelled = other.client.post("/persoon/afspraak/annuleren", data=hidden_inputs(page))
    assert cancelled.status_code == 303
    assert all(row["cancelled_at"] for row in table(db, "appointments"))
    # The form that is left says what it is for.
    page = other.client.get("/persoon").get_data(as_text=True)
    assert '<h2 class="subheading">Afspraak maken</h2>' in page and "Er is geen afspraak." in page
    # Booked again from here, it is made, not changed.
    assert other.client.post("/persoon/afspraak", data=fields(page) | {"slot": slots[0]}).status_code == 303
    assert "De afspraak is gemaakt. Beide personen krijgen een e-mail." in other.client.get("/persoon").get_data(
        as_text=True)


def booked(db) -> list[str]:
    return [row["slot"] for row in table(db, "appointments") if row["cancelled_at"] is None]


def test_a_visit_changed_from_the_mailed_link_is_not_overwritten_from_an_older_page(by_appointment, db):
    """Two tabs (SPEC §2): the applicant's page still shows the first slot when the main contact
    moves the visit; the applicant's change is refused with a message, not saved over theirs."""
    book(by_appointment)
    old_page = by_appointment.get("/stap/10").get_data(as_text=True)
    slots = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', old_page)
    other = main_contact_browser(by_appointment)
    theirs = fields(other.client.get("/persoon").get_data(as_text=True)) | {"slot": slots[-1]}
    assert other.client.post("/persoon/afspraak", data=theirs).status_code == 303
    mails = len(table(db, "outbox"))

    refused = by_appointment.client.post("/stap/10/afspraak", data=fields(old_page) | {"slot": slots[-2]})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "De afspraak is intussen gewijzigd" in html and "<title>Fout: " in html
    assert booked(db) == [slots[-1]] and len(table(db, "outbox")) == mails
    # The page that says so is based on the visit as it is now: sent again, it counts.
    assert by_appointment.client.post("/stap/10/afspraak", data=fields(html) | {"slot": slots[-2]}).status_code == 303
    assert booked(db) == [slots[-2]]


def test_a_cancel_from_an_older_page_leaves_a_visit_changed_since(by_appointment, db):
    book(by_appointment)
    other = main_contact_browser(by_appointment)
    old_page = other.client.get("/persoon").get_data(as_text=True)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', old_page)[-1]
    assert book(by_appointment, slot=later).status_code == 303

    refused = other.client.post("/persoon/afspraak/annuleren", data=hidden_inputs(old_page))
    assert refused.status_code == 409 and "De afspraak is intussen gewijzigd" in refused.get_data(as_text=True)
    assert booked(db) == [later]
    # The same from step 10's older page.
    page = by_appointment.get("/stap/10").get_data(as_text=True)
    assert other.client.post("/persoon/afspraak", data=fields(other.client.get("/persoon").get_data(as_text=True))
                             | {"slot": first_slot(page)}).status_code == 303
    assert by_appointment.client.post("/stap/10/afspraak/annuleren", data=hidden_inputs(page)).status_code == 409
    assert booked(db) == [first_slot(page)]


def test_a_person_logs_out_of_their_own_page_and_a_copy_of_the_cookie_opens_nothing(online, db):
    person = main_contact_browser(online)
    html = person.client.get("/persoon").get_data(as_text=True)
    assert "Ingelogd als <strong>J. Jansen</strong>" in html and ">Uitloggen</button>" in html
    copied = person.client.get_cookie("aansluiten").value
    out = person.client.post("/uitloggen", data={"csrf_token": hidden_inputs(html)["csrf_token"]})
    assert out.status_code == 303 and out.headers["Location"] == "/uitgelogd?persoon=1"
    said = person.client.get(out.headers["Location"]).get_data(as_text=True)
    assert "neem dan contact op met wie de aanmelding voor uw onderneming doet" in said
    assert "Stuur mij een nieuwe link" not in said
    assert person.client.get("/persoon").status_code == 404
    thief = online.client.application.test_client()
    thief.set_cookie("aansluiten", copied)
    assert thief.get("/persoon").status_code == 404


def test_a_visit_is_changed_at_most_ten_times_an_hour_since_each_change_mails_both_persons(by_appointment, db):
    """The persons' addresses are not verified: changing the visit again and again would mail them
    without end. Counted per application, from step 10 and a person's own page together; what
    mails nobody (the same booking again, a refusal) does not count."""
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    slots = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html)[:2]
    for change in range(9):
        assert book(by_appointment, slot=slots[change % 2]).status_code == 303
        assert book(by_appointment, slot=slots[change % 2]).status_code == 303  # the same again: not counted
    assert book(by_appointment, slot="2000-01-03T09:00").status_code == 422  # refused: not counted
    assert by_appointment.submit("/stap/10/afspraak/annuleren", page="/stap/10").status_code == 303
    mails = len(table(db, "outbox"))
    refused = book(by_appointment, slot=slots[0])
    assert refused.status_code == 429
    assert "De afspraak is het afgelopen uur al vaak gewijzigd. Probeer het over" in refused.get_data(as_text=True)
    assert len(table(db, "outbox")) == mails
    person = Applicant(by_appointment.client.application.test_client(), db)
    opened = person.client.get(person_link(by_appointment, SIGNATORY["email"]), follow_redirects=True)
    person.client.post("/persoon/bevestig", data=hidden_inputs(opened.get_data(as_text=True)))
    own = person.client.get("/persoon").get_data(as_text=True)
    assert person.client.post("/persoon/afspraak", data=fields(own) | {"slot": slots[1]}).status_code == 429
    assert len(table(db, "outbox")) == mails


def test_choosing_online_after_the_visits_changes_ran_out_calls_the_visit_off_all_the_same(by_appointment, db):
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    slots = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html)[:2]
    for change in range(10):
        assert book(by_appointment, slot=slots[change % 2]).status_code == 303
    assert choose(by_appointment, "online").status_code == 303
    assert by_appointment.draft()["method"] == "online"
    assert all(row["cancelled_at"] is not None for row in table(db, "appointments"))
    assert mails_to(db, MAIN_CONTACT["email"], "Afspraak geannuleerd")
    assert mails_to(db, MAIN_CONTACT["email"], "Identificeer u")


def test_sending_the_same_first_booking_twice_makes_one_visit(by_appointment, db):
    page = by_appointment.get("/stap/10").get_data(as_text=True)
    for _ in range(2):  # a double click without JavaScript: both say what the applicant did, make it
        assert by_appointment.client.post("/stap/10/afspraak", data=fields(page) | {"slot": first_slot(page)}
                                          ).status_code == 303
        assert "De afspraak is gemaakt." in by_appointment.get("/stap/10").get_data(as_text=True)
    assert booked(db) == [first_slot(page)]


def test_sending_the_same_change_twice_is_one_change(by_appointment, db):
    book(by_appointment)
    page = by_appointment.get("/stap/10").get_data(as_text=True)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', page)[-1]
    for _ in range(2):  # a double click: the second is based on the visit the first replaced
        assert by_appointment.client.post("/stap/10/afspraak", data=fields(page) | {"slot": later}).status_code == 303
    assert booked(db) == [later]
    assert "De afspraak is gewijzigd. Beide personen krijgen een e-mail." in by_appointment.get(
        "/stap/10").get_data(as_text=True)


def test_a_persons_visit_form_with_an_error_says_so_in_the_title(by_appointment):
    book(by_appointment)
    other = main_contact_browser(by_appointment)
    page = other.client.get("/persoon").get_data(as_text=True)
    refused = other.client.post("/persoon/afspraak", data=fields(page) | {"street": ""})
    assert refused.status_code == 422
    assert re.search(r"<title>Fout: Uw deel van de aanmelding", refused.get_data(as_text=True))


def test_the_visit_forms_disable_their_button_while_sending(by_appointment):
    assert_htmx_posts_disable_their_button(by_appointment.get("/stap/10").get_data(as_text=True))
    book(by_appointment)
    other = main_contact_browser(by_appointment)
    page = other.client.get("/persoon").get_data(as_text=True)
    assert "Afspraak annuleren" in page and "Afspraak wijzigen" in page
    assert_htmx_posts_disable_their_button(page)


def test_a_visit_then_signing_completes_the_application(by_appointment, db):
    book(by_appointment)
    by_appointment.submit("/stap/10/demo-bezoek", page="/stap/10")
    assert identifications(db) == {"signatory": "identified", "main_contact": "identified"}
    sign_agreement(by_appointment)
    assert by_appointment.draft()["status"] == "completed"


def test_without_providers_a_visit_ends_where_signing_waits_for_them_and_says_so(by_appointment, app):
    book(by_appointment)
    app.config["SIMULATED_PROVIDERS"] = False
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    assert "Toch online identificeren?" not in html and NO_PROVIDER not in html  # the visit is chosen
    by_appointment.submit("/stap/10/demo-bezoek", page="/stap/10")
    html = by_appointment.get("/stap/10").get_data(as_text=True)
    assert "Beide personen zijn tijdens het bezoek geïdentificeerd" in html
    assert "Online ondertekenen is op dit moment niet beschikbaar" in html and ">Ondertekenen</button>" not in html
    assert "kan de overeenkomst nu ondertekenen, op stap 10" in by_appointment.get("/aanmelding").get_data(as_text=True)


def test_two_applicants_posting_the_same_slot_at_once_one_wins(by_appointment, db, app):
    """A second application, in another browser, at step 10; both post the same slot at once, the
    last place of it."""
    app.config["VISITS_PER_SLOT"] = 1
    other = Applicant(app.test_client(), db)
    other.verify("andere@example.nl")
    other.look_up()
    other.confirm()
    sign(other)
    name_main_contact(other)
    other.submit("/stap/6/aanvullen", page="/stap/6")
    for path, data in (("/stap/6", {}), ("/stap/7", {}), ("/stap/8", {"services_ok": "y"}),
                       ("/stap/9", {"declaration": "y"}), ("/stap/10", {"method": "appointment"})):
        assert other.submit(path, data).status_code == 303
    slot = first_slot(by_appointment.get("/stap/10").get_data(as_text=True))
    forms = {applicant: fields(applicant.get("/stap/10").get_data(as_text=True)) | {"slot": slot}
             for applicant in (by_appointment, other)}
    barrier = threading.Barrier(2)
    answers = {}

    def post(applicant):
        barrier.wait()
        answers[applicant] = applicant.client.post("/stap/10/afspraak", data=forms[applicant])

    threads = [threading.Thread(target=post, args=(applicant,)) for applicant in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers.values()) == [303, 409]
    loser = next(answer for answer in answers.values() if answer.status_code == 409).get_data(as_text=True)
    assert "net door iemand anders gekozen" in loser and f'value="{slot}"' not in loser
    assert len([row for row in table(db, "appointments") if row["slot"] == slot and not row["cancelled_at"]]) == 1


def test_a_main_contact_who_is_the_signatory_identifies_once(signed, db):
    """Step 5's shortcut: the signatory is the main contact too."""
    copied = signed.submit("/stap/5", SIGNATORY | {"birth_date": "1971-03-09", "employed": "y"},
                           page="/stap/5?van=tekenbevoegde", follow_page=True)
    assert copied.status_code == 303
    signed.submit("/stap/6/aanvullen", page="/stap/6")
    for path, data in (("/stap/6", {}), ("/stap/7", {}), ("/stap/8", {"services_ok": "y"}),
                       ("/stap/9", {"declaration": "y"}), ("/stap/10", {"method": "online"})):
        assert signed.submit(path, data).status_code == 303
    assert not [row for row in table(db, "outbox") if row["subject"].startswith("Identificeer u")]
    assert "één identificatie geldt voor beide" in signed.get("/stap/10").get_data(as_text=True)
    identify_signatory(signed)
    assert identifications(db) == {"signatory": "identified", "main_contact": "identified"}
    sign_agreement(signed)
    assert signed.draft()["status"] == "completed"


def submit_with_main_contact(applicant, method: str | None, **main_contact):
    """Steps 5 to 10 with the given main contact (step 5's shortcut: ``?van=tekenbevoegde``); the
    method of step 10 chosen, unless None."""
    if main_contact.get("shortcut"):
        data, page = SIGNATORY | {"birth_date": "1971-03-09", "employed": "y"}, "/stap/5?van=tekenbevoegde"
    else:
        data, page = MAIN_CONTACT | main_contact, "/stap/5"
    assert applicant.submit("/stap/5", data, page=page, follow_page=True).status_code == 303
    applicant.submit("/stap/6/aanvullen", page="/stap/6")
    for path, values in (("/stap/6", {}), ("/stap/7", {}), ("/stap/8", {"services_ok": "y"}),
                         ("/stap/9", {"declaration": "y"}), *([("/stap/10", {"method": method})] if method else [])):
        assert applicant.submit(path, values).status_code == 303
    return applicant


def mails_to(db, email: str, subject: str) -> list[dict]:
    return [row for row in table(db, "outbox") if row["recipient"] == email and row["subject"].startswith(subject)]


@pytest.mark.parametrize("main_contact, greeting, one_person", [
    ({"shortcut": True}, "Beste M. van der Linden,", True),
    ({"email": SIGNATORY["email"]}, "Beste M. van der Linden en J. Jansen,", False),
], ids=["the signatory is the main contact", "two persons share a mailbox"])
def test_one_address_gets_each_appointment_mail_once(signed, db, main_contact, greeting, one_person):
    applicant = submit_with_main_contact(signed, "appointment", **main_contact)
    address = SIGNATORY["email"]
    assert book(applicant).status_code == 303
    html = applicant.get("/stap/10").get_data(as_text=True)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html)[-1]
    assert book(applicant, slot=later).status_code == 303
    assert applicant.submit("/stap/10/afspraak/annuleren", page="/stap/10").status_code == 303
    for subject in ("Afspraak bevestigd", "Afspraak gewijzigd", "Afspraak geannuleerd"):
        assert len(mails_to(db, address, subject)) == 1, subject
    assert {row["recipient"] for row in table(db, "outbox") if row["subject"].startswith("Afspraak")} == {address}
    booked = mails_to(db, address, "Afspraak bevestigd")[0]
    text = mail.bodies(booked, applicant.client.application.extensions["aansluiten.seal"])[0]
    calendar = Calendar.from_ical(bytes(booked["attachment"])).walk("VEVENT")[0]
    assert text.startswith(greeting)
    if one_person:
        assert "om u als tekenbevoegde en hoofdcontactpersoon" in text and "allebei" not in text
        assert "allebei" not in str(calendar["DESCRIPTION"])
    else:
        assert "Neem allebei" in text


def test_one_person_holding_both_roles_is_named_not_spoken_of_as_both_persons(signed, db):
    """A practice whose signatory is its main contact too (step 5's shortcut): step 10, the
    status page, the person's own page and the completion mail name that person, from the
    choice of method to the end, and never speak of "both persons"."""
    applicant = submit_with_main_contact(signed, None, shortcut=True)
    name = "M. van der Linden"
    shown = []

    def page(url, client=None):
        html = (client or applicant.client).get(url).get_data(as_text=True)
        shown.append(html)
        return html

    html = page("/stap/10")
    assert f"Nu identificeert {name} zich, als tekenbevoegde en als hoofdcontactpersoon" in html
    assert f"{name} toont dan een paspoort" in html
    assert f"Daarvoor heeft {name} een eigen" in html and f"Hoe identificeert {name} zich?" in html
    refused = applicant.submit("/stap/10", {})
    assert refused.status_code == 422 and f"Kies hoe {name} zich identificeert" in refused.get_data(as_text=True)
    assert choose(applicant, "appointment").status_code == 303
    assert f"{name} moet erbij zijn" in page("/stap/10")
    assert book(applicant).status_code == 303
    html = page("/stap/10")
    assert f"De afspraak is gemaakt. {name} krijgt een e-mail." in html
    assert f"Een bevestiging met een agenda-bestand is naar {name} gemaild." in html
    assert f"Als {name} is geïdentificeerd en de overeenkomst heeft ondertekend" in page("/aanmelding")

    person = Applicant(applicant.client.application.test_client(), db)
    opened = person.client.get(person_link(applicant, SIGNATORY["email"]), follow_redirects=True)
    person.client.post("/persoon/bevestig", data=hidden_inputs(opened.get_data(as_text=True)))
    html = page("/persoon", person.client)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html)[-1]
    assert person.client.post("/persoon/afspraak", data=fields(html) | {"slot": later}).status_code == 303
    assert "De afspraak is gewijzigd. U krijgt een e-mail." in page("/persoon", person.client)

    assert applicant.submit("/stap/10/demo-bezoek", page="/stap/10").status_code == 303
    html = page("/stap/10")
    assert f"Het bezoek is verwerkt: {name} is geïdentificeerd." in html
    assert f"{name} is tijdens het bezoek geïdentificeerd." in html
    sign_agreement(applicant)
    assert applicant.draft()["status"] == "completed"
    assert f"{name} is geïdentificeerd en heeft de overeenkomst ondertekend. Kenmerk:" in page("/stap/10")
    assert f"{name} is geïdentificeerd en heeft de overeenkomst ondertekend." in page("/aanmelding")
    completion = [applicant.last_mail(address) for address in (SIGNATORY["email"], "praktijk@example.nl")]
    for text, html in completion:
        assert f"{name} is geïdentificeerd en heeft de aansluitovereenkomst ondertekend" in text
        shown.extend((text, html))
    assert not any("eide personen" in text or "beiden" in text for text in shown)


def status_tasks(applicant) -> list[str]:
    """The status page's tasks, each as its title, tag and text."""
    html = applicant.get("/aanmelding").get_data(as_text=True)
    return [" ".join(re.sub(r"<[^>]+>", " ", task).split())
            for task in re.findall(r'<li class="task">(.*?)</li>', html, re.S)]


def test_the_status_page_follows_one_person_holding_both_roles_as_one(signed, db):
    """One identification serves both roles: one task, never a second one that says a link was
    mailed, or, after a mismatch at the bank and a switch to a visit, something else than the
    first."""
    applicant = submit_with_main_contact(signed, "online", shortcut=True)
    name = "M. van der Linden"
    tasks = status_tasks(applicant)
    [task] = [task for task in tasks if task.startswith("Identificatie")]
    assert task.startswith("Identificatie tekenbevoegde en hoofdcontactpersoon Nog te doen")
    assert f"{name} identificeert zich met iDIN" in task
    assert not any("e-mail gekregen met een link" in task for task in tasks)

    identify_signatory(applicant, surname="Linde")
    assert choose(applicant, "appointment").status_code == 303
    [task] = [task for task in status_tasks(applicant) if task.startswith("Identificatie")]
    assert "Bezig" in task and "Een medewerker van VECOZO controleert dit" in task

    assert book(applicant).status_code == 303
    applicant.submit("/stap/10/demo-bezoek", page="/stap/10")
    [task] = [task for task in status_tasks(applicant) if task.startswith("Identificatie")]
    assert task == f"Identificatie tekenbevoegde en hoofdcontactpersoon Klaar {name} is geïdentificeerd."


def test_the_status_page_follows_two_persons_each(online, db):
    identify_signatory(online)
    titles = [task.split(" Klaar")[0].split(" Nog te doen")[0] for task in status_tasks(online)
              if task.startswith("Identificatie")]
    assert titles == ["Identificatie tekenbevoegde", "Identificatie hoofdcontactpersoon"]


def test_the_signatory_who_is_the_main_contact_is_told_of_completion_once(signed, db):
    applicant = submit_with_main_contact(signed, "appointment", shortcut=True)
    book(applicant)
    applicant.submit("/stap/10/demo-bezoek", page="/stap/10")
    sign_agreement(applicant)
    assert applicant.draft()["status"] == "completed"
    assert len(mails_to(db, SIGNATORY["email"], "Uw aansluiting bij VECOZO is rond")) == 1


def test_a_completed_application_sends_step_10_posts_to_the_status_page(online, db):
    identify_signatory(online)
    main_contact_browser_identifies(online)
    sign_agreement(online)
    mails = len(table(db, "outbox"))
    for path, data in (("/stap/10", {"method": "appointment"}), ("/stap/10/link-hoofdcontact", {}),
                       ("/stap/10/ondertekenen", {}), ("/stap/10/afspraak", {})):
        response = online.submit(path, data, page="/aanmelding")
        assert response.status_code == 303 and response.headers["Location"] in ("/aanmelding", "/stap/10"), path
    assert len(table(db, "outbox")) == mails and online.draft()["method"] == "online"


def test_reopening_cancels_a_booked_visit_and_tells_both_persons(by_appointment, db):
    book(by_appointment)
    assert by_appointment.submit("/aanmelding/wijzigen", page="/aanmelding").headers["Location"] == "/stap/9"
    cancelled = [row["recipient"] for row in table(db, "outbox") if row["subject"].startswith("Afspraak geannuleerd")]
    assert sorted(cancelled) == sorted([SIGNATORY["email"], MAIN_CONTACT["email"]])
    assert all(row["cancelled_at"] for row in table(db, "appointments"))


def test_a_persons_page_after_a_reopen_says_why_their_link_no_longer_works(by_appointment, db):
    book(by_appointment)
    other = main_contact_browser(by_appointment)
    page = other.client.get("/persoon").get_data(as_text=True)
    book(by_appointment, slot=re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', page)[-1])
    link = person_link(by_appointment)  # mailed with the change, never opened
    page = other.client.get("/persoon").get_data(as_text=True)
    assert by_appointment.submit("/aanmelding/wijzigen", page="/aanmelding").headers["Location"] == "/stap/9"
    response = other.client.get("/persoon")
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and "heeft de aanmelding heropend" in html
    assert "Deze link kennen wij niet" not in html
    # What it could reach stays out of reach.
    assert other.client.post("/persoon/afspraak/annuleren", data=hidden_inputs(page)).status_code == 410
    # The mail that calls the visit off says why, with no link: the application is a draft again.
    cancellation = by_appointment.last_mail(MAIN_CONTACT["email"])[0]
    assert "heeft de aanmelding heropend" in cancellation and "/persoon/" not in cancellation
    # A link mailed before and not opened yet says the same as the page, not "already used, ask for a new one".
    fresh = Applicant(by_appointment.client.application.test_client(), db)
    opened = fresh.client.get(link, follow_redirects=True)
    pressed = fresh.client.post("/persoon/bevestig", data=hidden_inputs(opened.get_data(as_text=True)))
    assert pressed.status_code == 410 and "heeft de aanmelding heropend" in pressed.get_data(as_text=True)


def cancellations(db) -> list[str]:
    return [row["recipient"] for row in table(db, "outbox") if row["subject"].startswith("Afspraak geannuleerd")]


def visit_took_place(applicant, db, how: str) -> None:
    """The visit is over: recorded (the demo's button), or its hour has passed unrecorded."""
    if how == "recorded":
        assert applicant.submit("/stap/10/demo-bezoek", page="/stap/10").status_code == 303
        assert identifications(db) == {"signatory": "identified", "main_contact": "identified"}
    else:
        db.conn.execute("UPDATE appointments SET slot = '2020-01-06T09:00'")
        db.conn.commit()


@pytest.mark.parametrize("how", ["recorded", "past"])
def test_reopening_after_the_visit_calls_nothing_off(by_appointment, db, how):
    book(by_appointment)
    visit_took_place(by_appointment, db, how)
    assert by_appointment.submit("/aanmelding/wijzigen", page="/aanmelding").headers["Location"] == "/stap/9"
    assert cancellations(db) == []


@pytest.mark.parametrize("how", ["recorded", "past"])
def test_a_cancel_sent_from_an_old_page_after_the_visit_calls_nothing_off(by_appointment, db, how):
    book(by_appointment)
    page = by_appointment.get("/stap/10").get_data(as_text=True)
    visit_took_place(by_appointment, db, how)
    assert by_appointment.client.post("/stap/10/afspraak/annuleren", data=hidden_inputs(page)).status_code == 303
    assert cancellations(db) == []
    if how == "recorded":  # what the visit established stays
        [visit] = table(db, "appointments")
        assert visit["outcome"] == "identified" and visit["cancelled_at"] is None


def test_a_visit_with_an_outcome_is_not_moved(by_appointment, db):
    book(by_appointment)
    page = by_appointment.get("/stap/10").get_data(as_text=True)
    later = re.findall(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', page)[-1]
    visit_took_place(by_appointment, db, "recorded")
    mails = len(table(db, "outbox"))
    moved = by_appointment.client.post("/stap/10/afspraak", data=fields(page) | {"slot": later})
    assert moved.status_code == 409
    [visit] = table(db, "appointments")
    assert visit["outcome"] == "identified" and visit["cancelled_at"] is None and visit["slot"] != later
    assert len(table(db, "outbox")) == mails


def test_a_stale_reopen_says_what_happened(online, db):
    page = online.client.get("/aanmelding").get_data(as_text=True)
    identify_signatory(online)
    choose(online, "appointment")
    response = online.client.post("/aanmelding/wijzigen", data=hidden_inputs(page))
    assert response.status_code == 409 and "in een ander venster" in response.get_data(as_text=True)
    assert online.draft()["status"] == "submitted"
