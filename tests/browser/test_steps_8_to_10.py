"""Steps 8-10 in a real Chromium, with htmx active and with htmx blocked (as without JavaScript).

The one-code practice (KvK 50000001) from step 1 to a completed application: the summary of
step 9 with a change link there and back, the declaration, and step 10 online (the signatory at the
simulated bank, the main contact from the mailed link on a device of their own, signing at the
simulated CM Sign page, the signed PDF that only this browser may download) and by appointment
(the visit form with an error, the status page, the demo button that records the visit, signing).
Besides: the status page that updates itself while the main contact identifies (htmx), and a
mismatch at the bank that goes to a manual check with a date.

axe-core runs on every page and state passed (steps 8, 9 and 10, the status page, the main
contact's pages, the simulated bank and signing pages) and each flow fails at its end on any
violation. Every test has its own browser contexts and e-mail addresses, and waits on
conditions, never on time.
"""

import re
from pathlib import Path

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from applicant import url
from onboarding.submission import today
from onboarding.workdays import add_working_days
from test_steps_4_to_7 import BULK, PRACTICE, TEXT, Applicant, page_summary

pytestmark = pytest.mark.timeout(240)

H1 = TEXT["nl"]["h1"] | {
    9: "Controleer uw aanmelding",
    10: "Identificeren en ondertekenen",
    "status": "Status van uw aanmelding",
    "person": "Uw deel van de aanmelding",
    "mailbox": "Demo-mailbox",
    "bank": "Gesimuleerde bank: identificeren met iDIN",
    "signer": "Gesimuleerd ondertekenen: CM Sign",
}

# The main contact is another person than the signatory, so that each page shows whose it is.
MAIN_CONTACT = {"initials": "K.", "surname": "Jansen", "name": "K. Jansen", "birth_date": "12-03-1985",
                "mobile": "06-23456789"}
NEW_MOBILE = "06-87654321"

SERVICES_OK = "Het overzicht van de diensten klopt en is volledig"
DECLARATION = re.compile(r"^Ik verklaar dat ik deze aanmelding naar waarheid heb ingevuld")
ONLINE = "Online, met iDIN bij de eigen bank"
APPOINTMENT = "Met een afspraak: een medewerker van AMP Groep komt langs"
COMPLETED = "Uw aanmelding is afgerond"
SIGNED_PDF = "/aanmelding/overeenkomst-ondertekend.pdf"
BANK_LABELS = {"initials": "Voorletters", "prefix": "Tussenvoegsel", "surname": "Achternaam",
               "birth_date": "Geboortedatum (JJJJ-MM-DD)"}
MANUAL_CHECK_WORKING_DAYS = 5  # SPEC §1, step 10: "answer within 5 working days"


def main(page):
    return page.locator("#main")


def task(page, title: str):
    """One task of the status page's list, by its title."""
    return page.locator("#status-tasks li.task").filter(has_text=title)


class Submitter(Applicant):
    """The applicant of ``test_steps_4_to_7`` on to steps 8, 9 and 10."""

    def __init__(self, page, js: bool, axe, email: str, main_email: str):
        super().__init__(page, js, axe, email)
        self.main_email = main_email

    def at_step(self, number: int, query: bool = False) -> None:
        self.at(f"/stap/{number}", H1[number], query)

    # -- steps 1-9 ----------------------------------------------------------------------------

    def to_step_8(self) -> None:
        """Steps 1-7 for the one-code practice: the signatory from KvK, a main contact of their
        own, the main contact as contact person of the code, no ICT administrator."""
        page, t = self.page, self.t
        self.to_step_4(PRACTICE)
        self.choose_signatory(PRACTICE)
        self.signatory_details()
        page.get_by_label(t["initials"], exact=True).fill(MAIN_CONTACT["initials"])
        page.get_by_label(t["surname"], exact=True).fill(MAIN_CONTACT["surname"])
        page.get_by_label(t["birth_date"], exact=True).fill(MAIN_CONTACT["birth_date"])
        page.get_by_label(t["business_email"], exact=True).fill(self.main_email)
        page.get_by_label(t["mobile"], exact=True).fill(MAIN_CONTACT["mobile"])
        self.save_main_contact()
        self.submit(BULK)
        self.at_step(6, query=True)
        expect(self.row(PRACTICE["agb"])).to_contain_text(MAIN_CONTACT["name"])
        self.submit(t["continue"])
        self.at_step(7)
        self.submit(t["no_ict"])
        self.at_step(8)

    def confirm_services(self) -> None:
        self.page.get_by_label(SERVICES_OK).check()
        self.submit(self.t["save_continue"])
        self.at_step(9)

    def to_step_9(self) -> None:
        self.to_step_8()
        self.confirm_services()

    def submit_application(self) -> None:
        self.page.get_by_label(DECLARATION).check()
        self.submit("Aanmelding versturen")
        self.at_step(10)
        expect(main(self.page)).to_contain_text(re.compile(r"kenmerk VZ-\d{4}-[A-Z0-9]{6}"))

    # -- step 10 ------------------------------------------------------------------------------

    def choose_method(self, label: str) -> None:
        self.page.get_by_label(label).check()
        self.submit("Doorgaan")
        self.at_step(10)

    def identify_signatory(self, **changes) -> None:
        """The signatory goes to the bank from step 10, answers there, and comes back."""
        self.submit("Identificeren met iDIN")
        at_bank(self, PRACTICE["surname"], **changes)
        self.at_step(10)

    def open_status(self) -> None:
        self.page.get_by_role("link", name="Bekijk de status van uw aanmelding").click()
        self.at("/aanmelding", H1["status"])

    def back_to_step_10(self) -> None:
        self.page.get_by_role("link", name="Naar identificeren en ondertekenen").click()
        self.at_step(10)

    def sign(self) -> None:
        """From step 10 to the simulated signing page, read the agreement, sign, and back: done."""
        page = self.page
        self.submit("Ondertekenen")
        expect(page).to_have_url(re.compile(r"/demo/ondertekenen/[\w-]+$"))
        expect(page.locator("h1")).to_have_text(H1["signer"])
        self.settled()
        self.axe("simulated signing page")
        document = page.get_by_role("link", name="Lees de aansluitovereenkomst (PDF)")
        response = page.request.get(document.get_attribute("href"))
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF")
        page.get_by_role("button", name="Ondertekenen", exact=True).click()
        self.at_step(10)
        expect(main(page).get_by_role("heading", name=COMPLETED)).to_be_visible()


def at_bank(person, entered_surname: str, outcome: str = "Bevestigen", **changes) -> None:
    """At the simulated bank: the attributes are prefilled with what was entered (the surname
    ``entered_surname``), ``changes`` alter them (field name to value), then ``outcome`` is pressed."""
    page = person.page
    expect(page).to_have_url(re.compile(r"/demo/idin/authorize\?"))
    expect(page.locator("h1")).to_have_text(H1["bank"])
    person.settled()
    expect(page.get_by_label(BANK_LABELS["surname"], exact=True)).to_have_value(entered_surname)
    person.axe("simulated bank")
    for field, value in changes.items():
        page.get_by_label(BANK_LABELS[field], exact=True).fill(value)
    page.get_by_role("button", name=outcome, exact=True).click()


def main_contact_identifies(person: Applicant) -> None:
    """The main contact, on a device of their own: the mailed link, the button, the bank."""
    page = person.page
    page.goto("/demo/mailbox")
    person.at("/demo/mailbox", H1["mailbox"])
    mail = page.locator("article.mail").filter(has_text=person.email).filter(has_text="Identificeer u")
    expect(mail).to_have_count(1)
    mail.get_by_role("link", name="Open de link uit deze e-mail").click()
    person.at("/persoon/bevestig", H1["person"])
    person.axe("the main contact's link page")
    person.submit("Doorgaan")
    person.at("/persoon", H1["person"])
    expect(main(page)).to_contain_text(
        f"{MAIN_CONTACT['name']}, u bent hoofdcontactpersoon in de aanmelding van Huisartsenpraktijk Öztürk")
    person.axe("the main contact's page")
    person.submit("Identificeren met iDIN")
    at_bank(person, MAIN_CONTACT["surname"])
    person.at("/persoon", H1["person"])
    expect(main(page)).to_contain_text("U bent geïdentificeerd. Verder hoeft u niets te doen.")
    person.axe("the main contact's page, identified")


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def axe():
    """axe-core as ``assert_accessible`` runs it, answering the violations rather than asserting
    them, so that a flow checks every page before it fails."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(params=["js", "nojs"])
def submitter(request, axe, unique_email):
    """The applicant with htmx active ("js") and with htmx blocked ("nojs")."""
    js = request.param == "js"
    page = request.getfixturevalue("page" if js else "nojs_page")
    return Submitter(page, js, axe, unique_email(f"steps10-{request.param}"), unique_email("hoofdcontact"))


@pytest.fixture
def js_submitter(page, axe, unique_email):
    return Submitter(page, True, axe, unique_email("steps10-js"), unique_email("hoofdcontact"))


@pytest.fixture
def other_device(new_context, live_server, axe):
    """``other_device(submitter)``: the main contact of ``submitter`` in a browser of their own
    (own cookies, own client address, htmx active or blocked like the applicant's)."""

    def open_for(submitter: Submitter) -> Applicant:
        context = new_context(live_server, submitter.js)
        return Applicant(context.new_page(), submitter.js, axe, submitter.main_email)

    return open_for


# ---------------------------------------------------------------------------------------------
# 1. Online, from step 1 to the signed agreement.
# ---------------------------------------------------------------------------------------------

def test_one_code_practice_online_from_step_1_to_the_signed_agreement(submitter, other_device, browser,
                                                                      live_server):
    a, page = submitter, submitter.page
    a.to_step_8()
    a.axe("step 8")
    a.confirm_services()
    a.axe("step 9")

    # The summary, and a change link there and back: the main contact's mobile number.
    card = page.locator("section.summary-card").filter(has=page.locator("#summary-main-contact"))
    expect(card).to_contain_text(MAIN_CONTACT["name"])
    expect(card).to_contain_text(MAIN_CONTACT["mobile"])
    expect(card).to_contain_text(a.main_email)
    expect(page.locator("section.summary-card").filter(has=page.locator("#summary-ict"))).to_contain_text(
        "Niet opgegeven")
    card.get_by_role("link", name="Wijzigen hoofdcontactpersoon", exact=True).click()
    a.at_step(5, query=True)
    expect(page).to_have_url(re.compile(r"/stap/5\?terug=overzicht$"))
    mobile = page.get_by_label(a.t["mobile"], exact=True)
    expect(mobile).to_have_value(re.compile(r"23456789$"))
    mobile.fill(NEW_MOBILE)
    a.submit(a.t["save_continue"])
    a.at_step(9)
    expect(card).to_contain_text(NEW_MOBILE)
    expect(card).not_to_contain_text(MAIN_CONTACT["mobile"])

    # The declaration is required.
    a.submit("Aanmelding versturen")
    a.at_step(9)
    expect(page_summary(page)).to_contain_text("Verklaar dat u de aanmelding naar waarheid heeft ingevuld")
    expect(page_summary(page)).to_be_focused()
    a.axe("step 9 with an error")
    a.submit_application()
    a.axe("step 10, the choice of method")

    a.choose_method(ONLINE)
    tasks = page.locator("#identify-tasks")
    expect(tasks.get_by_role("heading", name="1. De tekenbevoegde identificeert zich")).to_be_visible()
    expect(tasks).to_contain_text(f"een e-mail gekregen op {a.main_email}")
    a.axe("step 10, online")

    a.identify_signatory()
    expect(main(page).locator(".panel[role=status]")).to_contain_text("U bent geïdentificeerd.")
    # Back from the bank, a whole page: what came of it has the focus, so that it is read first.
    expect(main(page).locator(".panel[role=status]")).to_be_focused()
    expect(tasks).to_contain_text("E. Öztürk is geïdentificeerd.")
    a.axe("step 10, the signatory identified")

    a.open_status()
    expect(task(page, "Identificatie tekenbevoegde").locator(".task-tag")).to_have_text("Klaar")
    expect(task(page, "Identificatie hoofdcontactpersoon").locator(".task-tag")).to_have_text("Nog te doen")
    a.axe("status page, waiting for the main contact")
    a.back_to_step_10()

    person = other_device(a)
    main_contact_identifies(person)
    if a.js:
        # Step 10 asks again by itself while it waits for the main contact.
        expect(tasks).to_contain_text(f"{MAIN_CONTACT['name']} is geïdentificeerd.", timeout=15_000)
        a.settled()
    else:
        page.reload()
        a.at_step(10)
        expect(tasks).to_contain_text(f"{MAIN_CONTACT['name']} is geïdentificeerd.")

    a.sign()
    expect(main(page)).to_contain_text("Beide personen zijn geïdentificeerd en de overeenkomst is ondertekend.")
    expect(main(page).locator(".panel--done")).to_be_focused()
    a.axe("step 10, completed")

    # The signed PDF: for this browser only.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download de ondertekende aansluitovereenkomst (PDF)").click()
    signed = Path(download.value.path()).read_bytes()
    assert signed.startswith(b"%PDF"), signed[:20]
    assert b"/Sig" in signed, "the downloaded PDF carries no signature dictionary"
    stranger = browser.new_context(base_url=live_server)
    try:
        assert stranger.request.get(SIGNED_PDF, max_redirects=0).status in (403, 404)
    finally:
        stranger.close()
    assert person.page.request.get(SIGNED_PDF, max_redirects=0).status in (403, 404)

    page.goto("/aanmelding")
    a.at("/aanmelding", H1["status"])
    expect(main(page).get_by_role("heading", name=COMPLETED)).to_be_visible()
    expect(task(page, "Afronden").locator(".task-tag")).to_have_text("Klaar")
    expect(main(page).get_by_role("link", name="Ondertekende aansluitovereenkomst (PDF)")).to_be_visible()
    a.axe("status page, completed")

    a.violations += person.violations
    a.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 2. By appointment: the visit form (with an error), the status page, the visit, signing.
# ---------------------------------------------------------------------------------------------

def test_identification_by_appointment_then_signing(submitter):
    a, page = submitter, submitter.page
    a.to_step_9()
    a.submit_application()
    a.choose_method(APPOINTMENT)

    street = page.get_by_label("Straat", exact=True)
    house_number = page.get_by_label("Huisnummer en toevoeging", exact=True)
    postcode = page.get_by_label("Postcode", exact=True)
    city = page.get_by_label("Plaats", exact=True)
    slot = page.get_by_label("Datum en tijd van het bezoek", exact=True)
    # Prefilled with the company's address from KvK.
    for field in (street, house_number, postcode, city):
        expect(field).not_to_have_value("")
    expect(slot.locator("optgroup").first).to_be_attached()
    a.axe("step 10, the visit form")

    # An empty postcode: the error summary, the field marked, what was typed kept.
    known_postcode = postcode.input_value()
    known_house_number = house_number.input_value()
    first_slot = slot.locator("optgroup option").first.get_attribute("value")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", first_slot), first_slot
    street.fill("Kerkplein")
    slot.select_option(first_slot)
    postcode.fill("")
    a.submit("Afspraak bevestigen")
    # Without JavaScript the answer to the form's POST, with htmx the step's fragment.
    a.at("/stap/10" if a.js else "/stap/10/afspraak", H1[10])
    summary = page_summary(page)
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(page).to_have_title(re.compile(r"^Fout: "))
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link", name="Vul de postcode in")).to_have_attribute("href", "#postcode")
    expect(summary).to_be_focused()
    expect(postcode).to_have_attribute("aria-invalid", "true")
    expect(postcode).to_have_attribute("aria-describedby", re.compile(r"(^|\s)postcode-error(\s|$)"))
    expect(page.locator("#postcode-error")).to_contain_text("Vul de postcode in")
    expect(street).to_have_value("Kerkplein")
    expect(house_number).to_have_value(known_house_number)
    expect(slot).to_have_value(first_slot)
    a.axe("step 10, the visit form with an error")

    postcode.fill(known_postcode)
    a.submit("Afspraak bevestigen")
    a.at_step(10)
    visit = main(page).locator(".panel").filter(has=page.get_by_role("heading", name="Uw afspraak"))
    expect(visit).to_contain_text("Kerkplein")
    a.axe("step 10, the visit booked")

    a.open_status()
    booked = task(page, "Afspraak voor identificatie")
    expect(booked.locator(".task-tag")).to_have_text("Klaar")
    expect(booked).to_contain_text(f"Kerkplein {known_house_number}")
    a.axe("status page, the visit booked")
    a.back_to_step_10()

    a.submit("Demo: bezoek afgerond")
    a.at_step(10)
    expect(main(page)).to_contain_text("Beide personen zijn tijdens het bezoek geïdentificeerd.")
    a.axe("step 10, the visit done")

    a.sign()
    a.axe("step 10, completed")
    a.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 3. With htmx the status page updates itself while someone else acts.
# ---------------------------------------------------------------------------------------------

def test_the_status_page_updates_itself_when_the_main_contact_identifies(js_submitter, other_device):
    a, page = js_submitter, js_submitter.page
    a.to_step_9()
    a.submit_application()
    a.choose_method(ONLINE)
    a.identify_signatory()

    a.open_status()
    main_task = task(page, "Identificatie hoofdcontactpersoon")
    expect(main_task.locator(".task-tag")).to_have_text("Nog te doen")
    watch = page.locator("[hx-get^='/aanmelding/stand']")
    expect(watch).to_have_attribute("hx-trigger", "every 5s")
    expect(main(page)).to_contain_text("Deze pagina werkt zichzelf bij.")

    main_contact_identifies(other_device(a))

    # The page asks every 5 s whether anything changed, and reloads itself when it did.
    expect(main_task.locator(".task-tag")).to_have_text("Klaar", timeout=15_000)
    expect(main_task).to_contain_text(f"{MAIN_CONTACT['name']} is geïdentificeerd.")
    expect(page).to_have_url(url("/aanmelding"))
    a.axe("status page, reloaded by itself")
    # Nobody else is to act now: the page stops asking.
    expect(watch).to_have_count(0)
    expect(main(page)).not_to_contain_text("Deze pagina werkt zichzelf bij.")

    a.back_to_step_10()
    a.sign()
    page.goto("/aanmelding")
    a.at("/aanmelding", H1["status"])
    expect(main(page).get_by_role("heading", name=COMPLETED)).to_be_visible()
    expect(page.locator("#status-tasks")).to_be_visible()
    expect(page.locator("[hx-trigger]")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# 4. A mismatch at the bank goes to a manual check, with the date of the answer.
# ---------------------------------------------------------------------------------------------

def test_a_mismatch_at_the_bank_goes_to_a_manual_check_with_a_date(js_submitter):
    a, page = js_submitter, js_submitter.page
    a.to_step_9()
    a.submit_application()
    a.choose_method(ONLINE)
    a.identify_signatory(surname="Linde")

    due = format_date(add_working_days(today(), MANUAL_CHECK_WORKING_DAYS), "long", locale="nl_NL")
    due_next_day = format_date(add_working_days(today(), MANUAL_CHECK_WORKING_DAYS + 1), "long", locale="nl_NL")
    answer = re.compile(rf"antwoordt uiterlijk ({re.escape(due)}|{re.escape(due_next_day)})")  # midnight
    expect(main(page).locator(".panel[role=status]")).to_contain_text(
        "De gegevens van uw bank wijken af van wat is ingevuld.")
    signatory = page.locator("#identify-tasks")
    expect(signatory).to_contain_text(answer)
    expect(signatory.locator(".task-tag--waiting")).to_have_text("Bezig")
    # Signing waits for the identification.
    expect(page.get_by_role("button", name="Ondertekenen", exact=True)).to_have_count(0)
    a.axe("step 10, manual check")

    a.open_status()
    expect(task(page, "Identificatie tekenbevoegde")).to_contain_text(answer)
    a.axe("status page, manual check")
    a.assert_accessible_throughout()



def test_back_from_step_10_shows_the_status_page_at_its_own_address(submitter):
    """Once submitted, step 9 is the status page's: Back from step 10 shows it at /aanmelding, with
    and without JavaScript, not under the address of step 9."""
    a, page = submitter, submitter.page
    a.to_step_9()
    page.reload()  # step 9 opened as a whole page (a link from the mail, a bookmark), not swapped in
    a.at_step(9)
    a.submit_application()
    page.go_back()
    a.at("/aanmelding", H1["status"])
