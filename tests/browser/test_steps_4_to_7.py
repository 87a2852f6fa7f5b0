"""Steps 4-7 in a real Chromium, with htmx active and with htmx blocked (as without JavaScript).

Issue 6, "Done when": a person completes steps 1-7 with JavaScript on and off, on the one-code
practice (KvK 50000001) and on the demo hospital group (KvK 50000004, 177 AGB codes). Besides the
whole flow: the inline edit of a contact row with the keyboard only, the ICT administrators' list,
axe with zero violations on steps 4-7 in Dutch and in English, and the dead end of a company whose
officers are all jointly authorised (KvK 50000002).

Every test has its own browser context (the ``page`` / ``nojs_page`` fixtures) and its own e-mail
address, and waits on conditions, never on time. The helpers live here, not in ``applicant.py``:
``Applicant`` drives the applicant through the steps in either language and mode.
"""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from applicant import url, wait_settled

pytestmark = pytest.mark.timeout(180)

REGISTRY = Path(__file__).resolve().parents[2] / "data" / "registry.json"

# The demo companies (data/DEMO.md).
PRACTICE = {"kvk": "50000001", "agb": "01146889", "officer": "Öztürk", "initials": "E.", "surname": "Öztürk"}
HOSPITAL = {"kvk": "50000004", "agb": "06852447", "officer": "van 't Hof", "initials": "H.J.", "surname": "Hof"}
# 5 codes, known contacts on two of them: rows to edit beside rows to leave alone.
MAATSCHAP = {"kvk": "50000012", "agb": "01365139", "officer": "Bouzid", "initials": "A.S.", "surname": "Bouzid"}
# Only jointly authorised officers: the dead end at step 4.
JOINT_ONLY = {"kvk": "50000002", "agb": "04111730"}

TEXT = {
    "nl": {
        "h1": {4: "Selecteer uw tekenbevoegde", 5: "Geef uw hoofdcontactpersoon op",
               6: "Geef uw contactpersonen op", 7: "Geef uw ICT-beheerder(s) op (optioneel)",
               8: "Controleer uw diensten", "ict_add": "ICT-beheerder toevoegen"},
        "choose": "Kies deze persoon",
        "choose_nobody": "Kies wie de overeenkomst tekent.",
        "details": "Gegevens van de tekenbevoegde",
        "initials": "Voorletters",
        "surname": "Achternaam",
        "birth_date": "Geboortedatum",
        "business_email": "Zakelijk e-mailadres",
        "mobile": "Zakelijk mobiel nummer",
        "save_continue": "Opslaan en doorgaan",
        "copy_signatory": "Neem de gegevens van de tekenbevoegde over",
        "employed": "Deze persoon is in dienst van de onderneming",
        "add_contact": "Voeg een contactpersoon toe",
        "email": "E-mailadres",
        "phone": "Telefoonnummer",
        "name": "Naam",
        "save": "Opslaan",
        "cancel": "Annuleren",
        "continue": "Doorgaan",
        "no_ict": "Doorgaan zonder ICT-beheerder",
        "add_ict": "Voeg een ICT-beheerder toe",
        "add": "Toevoegen",
    },
    "en": {
        "h1": {4: "Select your authorised signatory", 5: "Add your main contact person",
               6: "Add your contact people", 7: "Add your ICT administrator(s) (optional)",
               8: "Check your services", "ict_add": "Add an ICT administrator"},
        "choose": "Choose this person",
        "choose_nobody": "Choose who signs the agreement.",
        "details": "Details of the authorised signatory",
        "initials": "Initials",
        "surname": "Surname",
        "birth_date": "Date of birth",
        "business_email": "Business email address",
        "mobile": "Business mobile number",
        "save_continue": "Save and continue",
        "copy_signatory": "Use the signatory's details",
        "employed": "This person is employed by the company",
        "add_contact": "Add a contact person",
        "email": "Email address",
        "phone": "Phone number",
        "name": "Name",
        "save": "Save",
        "cancel": "Cancel",
        "continue": "Continue",
        "no_ict": "Continue without an ICT administrator",
        "add_ict": "Add an ICT administrator",
        "add": "Add",
    },
}

BULK = "Maak de hoofdcontactpersoon contactpersoon bij alle codes zonder contactpersoon"
SEARCH = "Zoek op AGB-code of naam"
BAD_EMAIL = "Vul een geldig e-mailadres in, zoals naam@praktijk.nl"
MAX_ICT = "U heeft het hoogste aantal ICT-beheerders opgegeven."



def active_codes(kvk: str) -> list[str]:
    registry = json.loads(REGISTRY.read_text(encoding="utf-8"))
    return [entry["agbCode"] for entry in registry["agb"] if entry["kvkNummer"] == kvk and entry["actief"]]


def matching(kvk: str, query: str) -> int:
    """How many active codes of ``kvk`` the step-6 filter should keep for ``query``."""
    registry = json.loads(REGISTRY.read_text(encoding="utf-8"))
    query = query.lower()
    return sum(1 for entry in registry["agb"] if entry["kvkNummer"] == kvk and entry["actief"]
               and (query in entry["agbCode"] or query in entry["naam"].lower()))


def is_focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def page_summary(page):
    """The error summary at the top of a page (not one inside a table row)."""
    return page.locator(".error-summary[aria-labelledby='error-summary-title']")


class Applicant:
    """One applicant in one browser page, with htmx active (``js``) or blocked."""

    def __init__(self, page, js: bool, axe, email: str):
        self.page = page
        self.js = js
        self.email = email
        self.lang = "nl"
        self._axe = axe
        self.violations: list[str] = []

    @property
    def t(self) -> dict:
        return TEXT[self.lang]

    # -- waiting and checking ------------------------------------------------------------------

    def settled(self) -> None:
        wait_settled(self.page, self.js)

    def at(self, path: str, heading: str, query: bool = False) -> None:
        expect(self.page).to_have_url(url(path, query))
        expect(self.page.locator("h1")).to_have_text(heading)
        self.settled()

    def at_step(self, number: int, query: bool = False) -> None:
        self.at(f"/stap/{number}", self.t["h1"][number], query)

    def axe(self, where: str) -> None:
        """Run axe now and collect what it finds, so that the flow goes on and every page is
        checked; ``assert_accessible_throughout`` fails the test at its end."""
        self.settled()
        label = f"[{where}, {'htmx' if self.js else 'no htmx'}, {self.lang}] {self.page.url}"
        for violation in self._axe.run(self.page).response["violations"]:
            for node in violation["nodes"]:
                target = ", ".join(map(str, node.get("target", [])))
                line = (f"{label}: {violation['id']} ({violation.get('impact')}): {violation['help']}\n"
                        f"    target {target}\n    html   {node.get('html', '').strip()}\n"
                        f"    {(node.get('failureSummary') or '').replace(chr(10), chr(10) + '    ')}")
                self.violations.append(line)

    def assert_accessible_throughout(self) -> None:
        assert not self.violations, "\n\n".join(self.violations)

    # -- actions -------------------------------------------------------------------------------

    def submit(self, button: str, scope=None) -> None:
        (scope or self.page).get_by_role("button", name=button, exact=True).click()

    def sign_in(self) -> None:
        """Step 1, the demo mailbox, the link page: at step 2 with a verified address."""
        page = self.page
        page.goto("/stap/1")
        self.at("/stap/1", "Vul uw e-mailadres in")
        page.get_by_label("E-mailadres").fill(self.email)
        self.submit("Stuur mij de link")
        self.at("/stap/1/verstuurd", "Kijk in uw mailbox")
        page.goto("/demo/mailbox")
        self.at("/demo/mailbox", "Demo-mailbox")
        mail = page.locator("article.mail").filter(has_text=self.email).first
        mail.get_by_role("link", name="Open de link uit deze e-mail").click()
        self.at("/bevestig", "Doorgaan met uw aanmelding")
        self.submit("Bevestigen en doorgaan")
        self.at("/stap/2", "Vul uw KvK-nummer en AGB-code in")

    def to_step_4(self, company: dict) -> None:
        """Steps 1-3: look the company up and confirm its data."""
        page = self.page
        self.sign_in()
        page.get_by_label("KvK-nummer").fill(company["kvk"])
        page.get_by_label("AGB-code").fill(company["agb"])
        self.submit("Opzoeken en doorgaan")
        self.at("/stap/3", "Controleer de gegevens")
        page.get_by_label("Ja, de gegevens kloppen").check()
        self.submit("Doorgaan")
        self.at_step(4)

    def switch_to_english(self) -> None:
        path = re.sub(r"^https?://[^/]+", "", self.page.url)
        self.page.locator("header.header").get_by_role("link", name="English").click()
        self.lang = "en"
        expect(self.page.locator("html")).to_have_attribute("lang", "en")
        path = path.split("?")[0]
        self.at(path, self.t["h1"][int(path.split("/")[2])], query=True)

    def choose_signatory(self, company: dict) -> None:
        """Step 4: choose the officer; with htmx the radio alone swaps in the prefilled details,
        without JavaScript "Kies deze persoon" loads them."""
        page, t = self.page, self.t
        details = page.locator("#signatory-details")
        expect(details.get_by_role("heading", name=t["details"])).to_have_count(0)
        if self.js:
            page.evaluate("window.__marker = 1")
        self.submit(t["choose"])  # nobody chosen yet: the page says so
        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link", name=t["choose_nobody"])).to_have_attribute("href", "#signatory-0")
        self.axe("step 4, nobody chosen")
        page.get_by_role("radio", name=re.compile(re.escape(company["officer"]))).check()
        if not self.js:
            self.submit(t["choose"])
            self.at_step(4, query=True)
            expect(page).to_have_url(re.compile(r"/stap/4\?signatory="))
        expect(details.get_by_role("heading", name=t["details"])).to_be_visible()
        self.settled()
        if self.js:
            assert page.evaluate("window.__marker") == 1, "choosing the officer caused a full page load"
            # The address says whom, as without JavaScript: a reload (the language switch) shows the details.
            expect(page).to_have_url(re.compile(r"/stap/4\?signatory="))
        expect(page.get_by_role("radio", name=re.compile(re.escape(company["officer"])))).to_be_checked()
        # The error of the choice made without anybody chosen is gone, also when only a part was swapped.
        expect(page.locator(".error-summary")).to_have_count(0)
        expect(page.locator("#signatory-choice [aria-invalid]")).to_have_count(0)
        expect(page).not_to_have_title(re.compile(r"^(Fout|Error): "))
        if self.js:
            expect(page.get_by_role("radio", name=re.compile(re.escape(company["officer"])))).to_be_focused()
        # The names prefilled from the KvK extract; the birth date is the applicant's to type.
        expect(page.get_by_label(t["initials"], exact=True)).to_have_value(company["initials"])
        expect(page.get_by_label(t["surname"], exact=True)).to_have_value(company["surname"])
        expect(page.get_by_label(t["birth_date"], exact=True)).to_have_value("")

    def signatory_details(self, birth_date: str = "14-05-1980") -> None:
        """The names are filled in from the KvK; the birth date, e-mail address and mobile are typed."""
        page, t = self.page, self.t
        page.get_by_label(t["birth_date"], exact=True).fill(birth_date)
        page.get_by_label(t["business_email"], exact=True).fill("tekenbevoegde@praktijk.example")
        page.get_by_label(t["mobile"], exact=True).fill("06-12345678")
        self.submit(t["save_continue"])
        self.at_step(5)

    def main_contact_from_signatory(self, company: dict) -> None:
        """Step 5: the shortcut copies the signatory; "in dienst", save."""
        page, t = self.page, self.t
        expect(page.get_by_label(t["initials"], exact=True)).to_have_value("")
        page.get_by_role("link", name=re.compile(re.escape(t["copy_signatory"]))).click()
        # The step's own URL: Back, once saved, leads to what was saved, not to a copy again.
        self.at_step(5)
        expect(page.get_by_label(t["initials"], exact=True)).to_have_value(company["initials"])
        expect(page.get_by_label(t["surname"], exact=True)).to_have_value(company["surname"])
        expect(page.get_by_label(t["business_email"], exact=True)).to_have_value("tekenbevoegde@praktijk.example")
        expect(page.get_by_label(t["mobile"], exact=True)).to_have_value("06-12345678")

    def save_main_contact(self) -> None:
        page, t = self.page, self.t
        page.get_by_label(t["employed"]).check()
        self.submit(t["save_continue"])
        self.at_step(6)

    def to_step_6(self, company: dict, birth_date: str = "14-05-1980") -> None:
        self.to_step_4(company)
        self.choose_signatory(company)
        self.signatory_details(birth_date)
        self.main_contact_from_signatory(company)
        self.save_main_contact()

    def row(self, code: str):
        return self.page.locator(f"#row-{code}")

    def open_row(self, code: str) -> None:
        """Click the row's "add a contact" link: with htmx the row becomes a form, without
        JavaScript the form opens as a page."""
        t = self.t
        self.row(code).get_by_role("link", name=re.compile("^" + re.escape(t["add_contact"]))).click()
        if self.js:
            expect(self.row(code).locator("form.contact-form")).to_be_visible()
            self.settled()
            expect(self.row(code).get_by_label(t["initials"], exact=True)).to_be_focused()
        else:
            heading = ("Contactpersoon bij AGB-code " if self.lang == "nl" else "Contact person for AGB code ") + code
            self.at(f"/stap/6/code/{code}/1", heading)

    def fill_contact(self, code: str, initials: str, surname: str, email: str, phone: str) -> None:
        scope = self.row(code) if self.js else self.page
        t = self.t
        scope.get_by_label(t["initials"], exact=True).fill(initials)
        scope.get_by_label(t["surname"], exact=True).fill(surname)
        scope.get_by_label(t["email"], exact=True).fill(email)
        scope.get_by_label(t["phone"], exact=True).fill(phone)

    def save_row(self, code: str, shown: str) -> None:
        """Save the open row: with htmx the saved row comes back in place, without JavaScript
        the table loads at that row."""
        scope = self.row(code) if self.js else self.page
        self.submit(self.t["save"], scope)
        if not self.js:
            self.at_step(6, query=True)
            expect(self.page).to_have_url(re.compile(rf"/stap/6(\?pagina=\d+)?#row-{code}$"))
        row = self.row(code)
        expect(row.locator("form.contact-form")).to_have_count(0)
        expect(row).to_contain_text(shown)
        self.settled()

    def add_ict(self, name: str, email: str, phone: str) -> None:
        page, t = self.page, self.t
        page.get_by_role("link", name=re.compile(r"^(Voeg (een|nog een) ICT-beheerder toe|Add (an|another) ICT administrator)$")).click()
        self.at("/stap/7/toevoegen", t["h1"]["ict_add"])
        page.get_by_label(t["name"], exact=True).fill(name)
        page.get_by_label(t["email"], exact=True).fill(email)
        page.get_by_label(t["phone"], exact=True).fill(phone)
        self.submit(t["add"])
        self.at_step(7)
        expect(page.locator("#main .admin-list")).to_contain_text(name)


@pytest.fixture(scope="session")
def axe():
    """axe-core through axe-playwright-python, as ``assert_accessible`` runs it, but answering
    the violations rather than asserting, so that a flow checks every page before it fails."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(params=["js", "nojs"])
def applicant(request, axe, unique_email):
    """The applicant with htmx active ("js") and with htmx blocked ("nojs"), each in its own context."""
    js = request.param == "js"
    page = request.getfixturevalue("page" if js else "nojs_page")
    return Applicant(page, js, axe, unique_email(f"steps-{request.param}"))


@pytest.fixture
def js_applicant(page, axe, unique_email):
    return Applicant(page, True, axe, unique_email("steps-js"))


@pytest.fixture
def nojs_applicant(nojs_page, axe, unique_email):
    return Applicant(nojs_page, False, axe, unique_email("steps-nojs"))


# ---------------------------------------------------------------------------------------------
# 1. The one-code practice, steps 1-7, axe along the way.
# ---------------------------------------------------------------------------------------------

def test_one_code_practice_steps_1_to_8(applicant):
    a, page, t = applicant, applicant.page, applicant.t
    code = PRACTICE["agb"]
    # htmx settles the attributes of elements that keep their id (steps 4 and 5 share field ids). A
    # style among them, as password managers and other extensions put on fields, would be set inline,
    # which the CSP refuses (and Chromium says so in the console): the app settles no style.
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    a.to_step_4(PRACTICE)
    a.axe("step 4")

    a.choose_signatory(PRACTICE)
    a.axe("step 4 with the signatory's details")
    if a.js:
        page.locator("#initials").evaluate("field => { field.style.outlineColor = 'blue' }")
    a.signatory_details()
    a.axe("step 5")

    a.main_contact_from_signatory(PRACTICE)
    a.axe("step 5 with the signatory's details")
    a.save_main_contact()
    a.axe("step 6")

    # One row, no contact yet.
    rows = page.locator("tr.contact-row")
    expect(rows).to_have_count(1)
    expect(a.row(code)).to_contain_text("Nog geen contactpersoon")
    a.open_row(code)
    a.axe("step 6, row open" if a.js else "step 6, contact page")
    a.fill_contact(code, "k", "Jansen", "k.jansen@praktijk.example", "030-2345678")
    a.save_row(code, "K. Jansen")
    expect(a.row(code)).to_contain_text("k.jansen@praktijk.example")
    expect(a.row(code)).not_to_contain_text("Nog geen contactpersoon")
    if a.js:
        expect(a.row(code).get_by_role("link", name=re.compile(r"^Wijzig"))).to_be_focused()

    a.submit(t["continue"])
    a.at_step(7)
    a.axe("step 7")
    page.get_by_role("link", name=t["add_ict"]).click()
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"])
    a.axe("add an ICT administrator")
    page.get_by_role("link", name=t["cancel"]).click()
    a.at_step(7)

    a.submit(t["no_ict"])
    a.at_step(8)
    expect(page.locator("main h2").first).to_have_text("Controle op verzekeringsrecht (COV)")
    a.submit(t["save_continue"])  # without the confirmation: the error, next to the box
    a.at_step(8)
    expect(page.locator(".error-summary")).to_contain_text("Bevestig dat het overzicht van de diensten klopt")
    a.axe("step 8 with an error")
    page.get_by_label("Het overzicht van de diensten klopt en is volledig").check()
    page.get_by_label("Mist er iets, of klopt er iets niet? (optioneel)").fill("Wij missen de Wlz-declaraties.")
    a.submit(t["save_continue"])
    expect(page).to_have_url(re.compile(r"/stap/9$"))

    # Every answer stays: back at step 6 the row still holds its contact.
    page.goto("/stap/6")
    a.at_step(6)
    expect(a.row(code)).to_contain_text("K. Jansen")

    a.assert_accessible_throughout()
    assert not refused, "\n".join(refused)


# ---------------------------------------------------------------------------------------------
# 2. The hospital group: 177 codes in pages of 50, filter, bulk fill, on to step 8.
# ---------------------------------------------------------------------------------------------

def test_hospital_group_steps_1_to_7(applicant):
    a, page, t = applicant, applicant.page, applicant.t
    codes = active_codes(HOSPITAL["kvk"])
    assert len(codes) == 177
    a.to_step_6(HOSPITAL)

    section = page.locator("#contact-rows")
    expect(section.get_by_role("heading", name=f"AGB-codes ({len(codes)})")).to_be_visible()
    expect(section.locator(".pagination__current")).to_have_text("Pagina 1 van 4")
    expect(section.locator("tr.contact-row")).to_have_count(50)
    # Codes without a contact first.
    expect(section.locator("tr.contact-row").first).to_have_class(re.compile(r"contact-row--missing"))
    a.axe("step 6, 177 codes")

    if a.js:
        # The next page of the list, from the keyboard at the bottom of a phone's screen: the new page
        # is shown from its top, where its heading and count are, not from where the link was.
        page.set_viewport_size({"width": 375, "height": 700})
        section.get_by_role("link", name="Volgende pagina").focus()
        page.keyboard.press("Enter")
        expect(section.locator(".pagination__current")).to_have_text("Pagina 2 van 4")
        a.settled()
        expect(section).to_be_focused()
        top = section.evaluate("element => element.getBoundingClientRect().top")
        assert -2 <= top < 100, f"the list's top is at {top} px"
        section.get_by_role("link", name="Vorige pagina").click()
        expect(section.locator(".pagination__current")).to_have_text("Pagina 1 van 4")
        a.settled()
        page.set_viewport_size({"width": 1280, "height": 720})

    # The filter: part of a code narrows the table.
    search = page.get_by_label(SEARCH)
    rows = section.locator("tr.contact-row")
    if a.js:
        searched = []
        page.on("request", lambda request: searched.extend(
            re.findall(r"[?&]zoek=([^&]*)", request.url) if "/stap/6?" in request.url else []))
        search.click()
        search.press_sequentially("03", delay=20)
        expect(section).to_contain_text(f"{matching(HOSPITAL['kvk'], '03')} codes gevonden voor “03”")
        a.settled()
        expect(search).to_be_focused()
        # Typing goes on after the list was swapped: focus and what was typed stay.
        search.press_sequentially("8", delay=20)
        expect(section).to_contain_text(f"{matching(HOSPITAL['kvk'], '038')} codes gevonden voor “038”")
        a.settled()
        expect(search).to_be_focused()
        expect(search).to_have_value("038")
        expect(page).to_have_url(re.compile(r"/stap/6\?zoek=038$"))
        # Debounced: one request per pause in the typing, not one per key.
        assert searched == ["03", "038"], searched
    else:
        search.fill("038")
        a.submit("Zoeken")
        a.at_step(6, query=True)
        expect(page).to_have_url(re.compile(r"/stap/6\?zoek=038$"))
        expect(section).to_contain_text(f"{matching(HOSPITAL['kvk'], '038')} codes gevonden voor “038”")
        expect(search).to_have_value("038")
    expected = matching(HOSPITAL["kvk"], "038")
    assert 1 < expected < 50  # one page
    expect(rows).to_have_count(expected)
    for index in range(expected):
        expect(rows.nth(index).locator("th")).to_contain_text("038")
    expect(section.locator(".pagination")).to_have_count(0)

    # The bulk action fills every code without a contact person.
    a.submit(BULK)
    a.at_step(6, query=True)
    expect(page.get_by_role("button", name=BULK)).to_have_count(0)
    expect(page.locator("#main")).not_to_contain_text("nog geen contactpersoon")
    expect(page.locator("tr.contact-row--missing")).to_have_count(0)
    expect(section.locator(".pagination__current")).to_have_text("Pagina 1 van 4")
    expect(rows).to_have_count(50)
    expect(section.locator(".tag", has_text="hoofdcontactpersoon").first).to_be_visible()
    if a.js:
        filled = len(codes) - 4  # four codes have contacts known at VECOZO
        expect(page.locator("#status")).to_have_text(
            f"{filled} AGB-codes hebben de hoofdcontactpersoon als contactpersoon gekregen.")

    a.submit(t["continue"])
    a.at_step(7)
    a.submit(t["no_ict"])
    a.at_step(8)
    a.assert_accessible_throughout()


def test_a_row_being_typed_in_stays_open_when_the_table_is_filtered_or_paged_and_actions_wait_for_it(js_applicant):
    """A filter or another page of the table swaps the whole list: the row being typed in is kept as
    it is (hx-preserve), in its place or above the list, and can still be saved; the bulk fill waits."""
    a, page = js_applicant, js_applicant.page
    a.to_step_6(HOSPITAL)
    section = page.locator("#contact-rows")
    ids = section.locator("tr.contact-row").evaluate_all("rows => rows.map(row => row.id.slice(4))")
    opened, other = ids[0], ids[1]
    # Doorgaan with codes without a contact: its summary stays while the list is paged (which puts
    # nothing right), and loses a code's link once that row has a contact (below).
    a.submit(a.t["continue"])
    expect(page_summary(page)).to_contain_text(f"AGB-code {opened}")
    a.settled()
    section.get_by_role("link", name="Volgende pagina").click()
    expect(section.locator(".pagination__current")).to_have_text("Pagina 2 van 4")
    a.settled()
    expect(page_summary(page)).to_contain_text(f"AGB-code {opened}")
    section.get_by_role("link", name="Vorige pagina").click()
    expect(section.locator(".pagination__current")).to_have_text("Pagina 1 van 4")
    a.settled()
    a.open_row(opened)
    a.row(opened).get_by_label("Achternaam", exact=True).fill("Half-Getypt")

    # Filtered on another code: that code, and the open row above it.
    page.get_by_label(SEARCH).fill(other)
    expect(section).to_contain_text(f"1 code gevonden voor “{other}”")
    a.settled()
    expect(section.locator("tr.contact-row")).to_have_count(2)
    expect(section.locator("tr.contact-row").first).to_have_id(f"row-{opened}")
    expect(a.row(opened).get_by_label("Achternaam", exact=True)).to_have_value("Half-Getypt")
    a.axe("step 6, a row kept open above the filtered list")

    # The filter emptied: the row in its own place, once; the live region counts all codes again.
    page.get_by_label(SEARCH).fill("")
    expect(section.locator("tr.contact-row")).to_have_count(50)
    a.settled()
    expect(page.locator("#status")).to_have_text("Alle 177 AGB-codes.")
    expect(section.locator("tr.contact-row").first).to_have_id(f"row-{opened}")
    expect(a.row(opened).get_by_label("Achternaam", exact=True)).to_have_value("Half-Getypt")

    # The next page: the row above it, and the focus on the list, not in the row.
    section.get_by_role("link", name="Volgende pagina").click()
    expect(section.locator(".pagination__current")).to_have_text("Pagina 2 van 4")
    a.settled()
    expect(section).to_be_focused()
    expect(section.locator("tr.contact-row")).to_have_count(51)
    expect(a.row(opened).get_by_label("Achternaam", exact=True)).to_have_value("Half-Getypt")

    # The bulk fill would close it and put the main contact where someone else is being typed: it waits,
    # and its error leads to what was typed.
    a.submit(BULK)
    summary = page_summary(page)
    expect(summary).not_to_contain_text("Nog zonder contactpersoon")  # the new summary, not Doorgaan's
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("nog niet opgeslagen")
    expect(a.row(opened).get_by_label("Achternaam", exact=True)).to_have_value("Half-Getypt")
    a.settled()
    a.axe("step 6, an action waiting for a row being typed in")
    summary.get_by_role("link", name=f"AGB-code {opened}").click()
    expect(a.row(opened).get_by_label("Achternaam", exact=True)).to_be_focused()

    # Saved from there, as from its own place.
    a.fill_contact(opened, "H.", "Half-Getypt", "half@ziekenhuis.example", "030-1234567")
    a.save_row(opened, "H. Half-Getypt")
    # The summary's link led to the row just saved: it goes, and the title's "Fout: " with it.
    expect(page_summary(page)).to_have_count(0)
    expect(page).not_to_have_title(re.compile(r"^Fout: "))
    # Nothing typed any more: the bulk fill goes on.
    a.submit(BULK)
    expect(page.get_by_role("button", name=BULK)).to_have_count(0)
    expect(a.row(opened)).to_contain_text("H. Half-Getypt")


# ---------------------------------------------------------------------------------------------
# 3. A row edited with the keyboard only (htmx), and the same through pages (no htmx).
# ---------------------------------------------------------------------------------------------

# The medium-size practice: missing rows first, then the two with known contacts.
ROW_A, ROW_B = "01674388", "01134272"


def tab_to(page, target, limit: int = 120) -> None:
    """Press Tab until ``target`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if is_focused(target):
            return
    raise AssertionError(f"{target} never got the focus in {limit} presses of Tab")


def other_rows_html(page, code: str) -> list[str]:
    """The markup of every row but ``code``'s, without the CSRF tokens (signed afresh on each page)."""
    rows = page.eval_on_selector_all(
        "tr.contact-row", f"rows => rows.filter(r => r.id !== 'row-{code}').map(r => r.outerHTML)")
    return [re.sub(r'(name="csrf_token" value=")[^"]*', r"\1", row) for row in rows]


def test_keyboard_only_inline_edit_with_htmx(js_applicant):
    a, page = js_applicant, js_applicant.page
    a.to_step_6(MAATSCHAP, birth_date="14-05-1980")
    expect(page.locator("tr.contact-row")).to_have_count(5)
    expect(a.row(ROW_A)).to_have_class(re.compile("contact-row--missing"))
    expect(a.row(ROW_B)).to_have_class(re.compile("contact-row--missing"))
    page.evaluate("window.__marker = 1")

    # Row A: Tab to its link, Enter, the row becomes a form with focus in its first field.
    add_a = a.row(ROW_A).get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_A}")
    tab_to(page, add_a)
    untouched = other_rows_html(page, ROW_A)
    page.keyboard.press("Enter")
    initials = a.row(ROW_A).get_by_label("Voorletters", exact=True)
    expect(initials).to_be_focused()
    expect(page.locator("tr.contact-row--editing")).to_have_count(1)
    page.keyboard.type("jw")
    page.keyboard.press("Tab")
    page.keyboard.type("Van der")
    page.keyboard.press("Tab")
    page.keyboard.type("Berg")
    page.keyboard.press("Tab")
    page.keyboard.type("j.vanderberg@zuiderhout.example")
    page.keyboard.press("Tab")
    page.keyboard.type("023-5123499")
    page.keyboard.press("Enter")

    # The saved row comes back, normalised, with focus on its "Wijzig" link.
    row_a = a.row(ROW_A)
    expect(row_a.locator("form.contact-form")).to_have_count(0)
    expect(row_a).to_contain_text("J.W. van der Berg")
    expect(row_a).to_contain_text("j.vanderberg@zuiderhout.example")
    expect(row_a.get_by_role("link", name=f"Wijzig contactpersoon 1 van {ROW_A}")).to_be_focused()
    a.settled()
    assert other_rows_html(page, ROW_A) == untouched, "saving row A changed another row"
    assert page.evaluate("window.__marker") == 1, "the inline edit caused a full page load"

    # Row A again, through its "Wijzig" link: the form holds the saved values.
    page.keyboard.press("Enter")
    expect(a.row(ROW_A).get_by_label("Voorletters", exact=True)).to_be_focused()
    expect(a.row(ROW_A).get_by_label("Voorletters", exact=True)).to_have_value("J.W.")
    expect(a.row(ROW_A).get_by_label("Achternaam", exact=True)).to_have_value("Berg")
    tab_to(page, a.row(ROW_A).get_by_role("link", name="Annuleren"))
    page.keyboard.press("Enter")
    expect(a.row(ROW_A).locator("form.contact-form")).to_have_count(0)
    expect(a.row(ROW_A).get_by_role("link", name=f"Wijzig contactpersoon 1 van {ROW_A}")).to_be_focused()
    a.settled()

    # Row B with a bad e-mail address: the error stays in the row.
    add_b = a.row(ROW_B).get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_B}")
    tab_to(page, add_b)
    page.keyboard.press("Enter")
    expect(a.row(ROW_B).get_by_label("Voorletters", exact=True)).to_be_focused()
    untouched = other_rows_html(page, ROW_B)
    page.keyboard.type("K.")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Jansen")
    page.keyboard.press("Tab")
    page.keyboard.type("geen-adres")
    page.keyboard.press("Tab")
    page.keyboard.type("030-2345678")
    page.keyboard.press("Enter")

    row_b = a.row(ROW_B)
    summary = row_b.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text(BAD_EMAIL)
    expect(summary).to_be_focused()
    expect(page.locator(".error-summary")).to_have_count(1)
    # The page's title says so, as a page with an error says it (SPEC §2).
    expect(page).to_have_title(re.compile(r"^Fout: Geef uw contactpersonen op - Stap 6 van 10"))
    email = row_b.get_by_label("E-mailadres", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    described = email.get_attribute("aria-describedby") or ""
    assert f"row-{ROW_B}-1-email-error" in described.split(), described
    expect(page.locator(f"#row-{ROW_B}-1-email-error")).to_contain_text(BAD_EMAIL)
    expect(row_b.locator(f"#row-{ROW_B}-1-email-error")).to_have_count(1)
    # What was typed stays; other fields are not marked.
    expect(email).to_have_value("geen-adres")
    expect(row_b.get_by_label("Achternaam", exact=True)).to_have_value("Jansen")
    expect(row_b.locator("[aria-invalid=true]")).to_have_count(1)
    # The summary's link leads to the field in the row.
    expect(summary.get_by_role("link", name=BAD_EMAIL)).to_have_attribute("href", f"#row-{ROW_B}-1-email")
    a.settled()
    assert other_rows_html(page, ROW_B) == untouched, "an error in row B changed another row"

    # Cancel: the row as it was, focus back on its link.
    tab_to(page, row_b.get_by_role("link", name="Annuleren"))
    page.keyboard.press("Enter")
    expect(row_b.locator("form.contact-form")).to_have_count(0)
    expect(row_b).to_contain_text("Nog geen contactpersoon")
    expect(row_b.get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_B}")).to_be_focused()
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page).to_have_title(re.compile(r"^Geef uw contactpersonen op - Stap 6 van 10"))
    a.settled()
    assert other_rows_html(page, ROW_B) == untouched, "cancelling row B changed another row"
    assert page.evaluate("window.__marker") == 1

    # An error of the page and one of a row: "Fout: " once, and while either shows.
    a.submit(a.t["continue"])
    expect(page_summary(page)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fout: Geef uw contactpersonen op"))
    a.settled()
    a.open_row(ROW_B)
    a.submit("Opslaan", a.row(ROW_B))
    expect(a.row(ROW_B).locator(".error-summary")).to_be_visible()
    a.settled()
    expect(page).to_have_title(re.compile(r"^Fout: Geef uw contactpersonen op"))
    a.row(ROW_B).get_by_role("link", name="Annuleren").click()
    expect(a.row(ROW_B).locator("form.contact-form")).to_have_count(0)
    a.settled()
    expect(page).to_have_title(re.compile(r"^Fout: Geef uw contactpersonen op"))  # the page's error still shows


def test_contact_row_through_pages_without_htmx(nojs_applicant):
    a, page = nojs_applicant, nojs_applicant.page
    a.to_step_6(MAATSCHAP, birth_date="14-05-1980")
    expect(page.locator("tr.contact-row")).to_have_count(5)

    # The row's link, with the keyboard, opens the form as a page.
    add_a = a.row(ROW_A).get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_A}")
    expect(add_a).to_have_attribute("href", f"/stap/6/code/{ROW_A}/1")
    tab_to(page, add_a)
    page.keyboard.press("Enter")
    a.at(f"/stap/6/code/{ROW_A}/1", f"Contactpersoon bij AGB-code {ROW_A}")
    a.axe("contact page")

    # A bad e-mail address: the error on the page, the field tied to its message.
    a.fill_contact(ROW_A, "jw", "Berg", "geen-adres", "023-5123499")
    page.get_by_label("Tussenvoegsel (optioneel)", exact=True).fill("Van der")
    page.get_by_label("Telefoonnummer", exact=True).press("Enter")
    a.at(f"/stap/6/code/{ROW_A}/1", f"Contactpersoon bij AGB-code {ROW_A}")
    summary = page_summary(page)
    expect(summary).to_contain_text(BAD_EMAIL)
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Fout: "))
    email = page.get_by_label("E-mailadres", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(rf"(^|\s)row-{ROW_A}-1-email-error(\s|$)"))
    expect(page.locator(f"#row-{ROW_A}-1-email-error")).to_contain_text(BAD_EMAIL)
    expect(email).to_have_value("geen-adres")
    expect(page.get_by_label("Achternaam", exact=True)).to_have_value("Berg")
    a.axe("contact page with an error")

    # Corrected and saved with Enter: the table, at that row.
    email.fill("j.vanderberg@zuiderhout.example")
    email.press("Enter")
    a.at_step(6, query=True)
    expect(page).to_have_url(re.compile(rf"/stap/6#row-{ROW_A}$"))
    row_a = a.row(ROW_A)
    expect(row_a).to_contain_text("J.W. van der Berg")
    expect(row_a).to_be_in_viewport()
    expect(page.locator(".error-summary")).to_have_count(0)

    # Row B: open, then "Annuleren" leads back to the table at that row, nothing saved.
    before = other_rows_html(page, ROW_B)
    a.row(ROW_B).get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_B}").click()
    a.at(f"/stap/6/code/{ROW_B}/1", f"Contactpersoon bij AGB-code {ROW_B}")
    page.get_by_label("Voorletters", exact=True).fill("K.")
    page.get_by_role("link", name="Annuleren").click()
    a.at_step(6, query=True)
    expect(page).to_have_url(re.compile(rf"/stap/6#row-{ROW_B}$"))
    expect(a.row(ROW_B)).to_contain_text("Nog geen contactpersoon")
    expect(a.row(ROW_B)).to_be_in_viewport()
    assert other_rows_html(page, ROW_B) == before, "cancelling row B changed another row"

    # Row B from the filtered table: saving returns to the table filtered as it was.
    page.get_by_label(SEARCH).fill(ROW_B)
    a.submit("Zoeken")
    a.at_step(6, query=True)
    a.row(ROW_B).get_by_role("link", name=f"Voeg een contactpersoon toe bij {ROW_B}").click()
    a.at(f"/stap/6/code/{ROW_B}/1?zoek={ROW_B}", f"Contactpersoon bij AGB-code {ROW_B}", query=True)
    a.fill_contact(ROW_B, "K.", "Jansen", "k.jansen@zuiderhout.example", "023-5123400")
    a.submit("Opslaan")
    a.at_step(6, query=True)
    expect(page).to_have_url(re.compile(rf"/stap/6\?zoek={ROW_B}#row-{ROW_B}$"))
    expect(page.get_by_label(SEARCH)).to_have_value(ROW_B)
    expect(page.locator("tr.contact-row")).to_have_count(1)
    expect(a.row(ROW_B)).to_contain_text("K. Jansen")
    a.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 4. Step 7: add, add another, remove, at most five.
# ---------------------------------------------------------------------------------------------

def test_ict_administrators_add_and_remove(applicant):
    a, page, t = applicant, applicant.page, applicant.t
    a.to_step_6(PRACTICE)
    a.open_row(PRACTICE["agb"])
    a.fill_contact(PRACTICE["agb"], "K.", "Jansen", "k.jansen@praktijk.example", "030-2345678")
    a.save_row(PRACTICE["agb"], "K. Jansen")
    a.submit(t["continue"])
    a.at_step(7)
    main = page.locator("#main")
    expect(main).to_contain_text("U heeft nog geen ICT-beheerder opgegeven.")
    expect(page.get_by_role("button", name=t["no_ict"])).to_be_visible()

    # A bad e-mail address on the add page: the error there, what was typed kept.
    page.get_by_role("link", name=t["add_ict"]).click()
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"])
    page.get_by_label("Naam", exact=True).fill("Servicedesk Öztürk")
    page.get_by_label("E-mailadres", exact=True).fill("geen-adres")
    page.get_by_label("Telefoonnummer", exact=True).fill("030-2345678")
    a.submit(t["add"])
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"])
    expect(page_summary(page)).to_contain_text(BAD_EMAIL)
    expect(page.get_by_label("E-mailadres", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Servicedesk Öztürk")
    page.get_by_label("E-mailadres", exact=True).fill("servicedesk@praktijk.example")
    a.submit(t["add"])
    a.at_step(7)
    expect(main.get_by_role("heading", name="1 ICT-beheerder", exact=True)).to_be_visible()
    expect(main.locator(".admin-list")).to_contain_text("servicedesk@praktijk.example")
    if a.js:
        expect(page.locator("#status")).to_have_text("De ICT-beheerder is toegevoegd.")

    a.add_ict("ICT Partners B.V.", "support@ictpartners.example", "020-1234567")
    expect(main.get_by_role("heading", name="2 ICT-beheerders", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=t["continue"], exact=True)).to_be_visible()

    # Remove the first one: the other stays.
    page.get_by_role("button", name="Verwijder Servicedesk Öztürk").click()
    a.at_step(7)
    expect(main.get_by_role("heading", name="1 ICT-beheerder", exact=True)).to_be_visible()
    expect(main.locator(".admin-list")).not_to_contain_text("Servicedesk Öztürk")
    expect(main.locator(".admin-list")).to_contain_text("ICT Partners B.V.")
    if a.js:
        expect(page.locator("#status")).to_have_text("De ICT-beheerder is verwijderd.")

    # Up to five: then the add link is gone and the page says why.
    for number in range(2, 6):
        a.add_ict(f"Afdeling ICT {number}", f"ict{number}@praktijk.example", "030-234567" + str(number))
    expect(main.get_by_role("heading", name="5 ICT-beheerders", exact=True)).to_be_visible()
    expect(main.locator(".admin-list__item")).to_have_count(5)
    expect(page.get_by_role("link", name=re.compile("ICT-beheerder toe"))).to_have_count(0)
    expect(main).to_contain_text(MAX_ICT)
    # Without the link, the add page itself refuses a sixth.
    page.goto("/stap/7/toevoegen")
    a.settled()
    page.get_by_label("Naam", exact=True).fill("Nummer zes")
    page.get_by_label("E-mailadres", exact=True).fill("zes@praktijk.example")
    page.get_by_label("Telefoonnummer", exact=True).fill("030-2345670")
    a.submit(t["add"])
    expect(page.locator(".error-summary")).to_contain_text("hoogstens 5 ICT-beheerders")
    page.goto("/stap/7")
    a.at_step(7)
    expect(main.locator(".admin-list__item")).to_have_count(5)

    a.submit(t["continue"])
    a.at_step(8)


# ---------------------------------------------------------------------------------------------
# 5. Steps 4-7 in English, axe on each.
# ---------------------------------------------------------------------------------------------

def test_steps_4_to_7_in_english_accessible(applicant):
    a, page = applicant, applicant.page
    code = PRACTICE["agb"]
    a.to_step_4(PRACTICE)
    a.switch_to_english()
    t = a.t
    a.axe("step 4")
    a.choose_signatory(PRACTICE)
    expect(page.locator("#signatory-details")).to_contain_text(t["details"])
    a.axe("step 4 with the signatory's details")
    a.signatory_details()
    a.axe("step 5")
    a.main_contact_from_signatory(PRACTICE)
    page.get_by_label(t["employed"]).check()
    a.submit(t["save_continue"])
    a.at_step(6)
    expect(a.row(code)).to_contain_text("No contact person yet")
    a.axe("step 6")

    a.open_row(code)
    a.axe("step 6, row open" if a.js else "step 6, contact page")
    a.fill_contact(code, "K.", "Jansen", "k.jansen@praktijk.example", "030-2345678")
    scope = a.row(code) if a.js else page
    scope.get_by_label(t["email"], exact=True).fill("not-an-address")
    a.submit(t["save"], scope)
    summary = a.row(code).locator(".error-summary") if a.js else page_summary(page)
    expect(summary).to_contain_text("Enter an email address in the correct format, like name@practice.nl")
    a.axe("step 6, row with an error" if a.js else "step 6, contact page with an error")
    scope.get_by_label(t["email"], exact=True).fill("k.jansen@praktijk.example")
    a.save_row(code, "K. Jansen")
    a.axe("step 6, saved")

    a.submit(t["continue"])
    a.at_step(7)
    a.axe("step 7")
    a.add_ict("ICT Partners B.V.", "support@ictpartners.example", "020-1234567")
    a.axe("step 7 with an administrator")
    page.get_by_role("link", name="Add another ICT administrator").click()
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"])
    a.axe("add an ICT administrator")
    a.submit(t["add"])
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"])
    expect(page.locator(".error-summary")).to_be_visible()
    a.axe("add an ICT administrator with errors")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    a.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 6. Step 4's dead end: only jointly authorised officers.
# ---------------------------------------------------------------------------------------------

def test_step_4_dead_end_without_a_sole_signatory(applicant):
    a, page = applicant, applicant.page
    a.to_step_4(JOINT_ONLY)
    main = page.locator("#main")
    expect(main.get_by_role("heading", name="Niemand kan de overeenkomst alleen tekenen")).to_be_visible()
    expect(main.locator("form")).to_have_count(0)
    expect(main.get_by_role("radio")).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
    # Both officers shown, with the reason they cannot sign alone.
    expect(main).to_contain_text("J.W. van der Veen")
    expect(main).to_contain_text("R. de Boer")
    expect(main.get_by_text("gezamenlijk bevoegd, kan niet alleen tekenen")).to_have_count(2)
    expect(main.get_by_role("link", name="Handelsregister van de KvK")).to_be_visible()
    a.axe("step 4, dead end")

    # Step 5 stays closed; the draft keeps what it has.
    page.goto("/stap/5")
    a.at_step(4)
    page.goto("/stap/2")
    expect(page.get_by_label("KvK-nummer")).to_have_value(re.compile(r"^5000\s?0002$"))
    a.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# Bugs found while writing these tests, fixed since: they stay as tests of the behaviour.
# ---------------------------------------------------------------------------------------------

def test_step_6_has_no_axe_violations_as_swapped_in_and_as_a_whole_page(js_applicant, assert_accessible):
    a, page = js_applicant, js_applicant.page
    a.to_step_6(PRACTICE)
    a.settled()
    assert_accessible(page)  # as swapped in by htmx
    page.reload()
    a.at_step(6)
    assert_accessible(page)  # the whole page, as without JavaScript


def test_the_contact_page_without_htmx_has_one_error_summary(nojs_applicant):
    a, page = nojs_applicant, nojs_applicant.page
    a.to_step_6(PRACTICE)
    code = PRACTICE["agb"]
    a.open_row(code)
    a.fill_contact(code, "K.", "Jansen", "geen-adres", "030-2345678")
    a.submit("Opslaan")
    a.at(f"/stap/6/code/{code}/1", f"Contactpersoon bij AGB-code {code}")
    expect(page_summary(page)).to_contain_text(BAD_EMAIL)
    # The page has loaded: what it holds is final, no need to wait for a count to change.
    assert page.locator(".error-summary").count() == 1
    assert page.get_by_role("alert").count() == 1


def test_a_link_of_step_6s_error_summary_moves_the_focus_to_its_rows_add_link(applicant):
    """GOV.UK's error summary: a link leads to what can take the focus. Before, it pointed at the row (a
    <tr>), and activating it left the focus on the page's body, far from the row's controls."""
    a, page, t = applicant, applicant.page, applicant.t
    a.to_step_6(MAATSCHAP, birth_date="14-05-1980")
    missing = page.locator("tr.contact-row--missing")
    codes = [row_id.removeprefix("row-") for row_id in missing.evaluate_all("rows => rows.map(r => r.id)")]
    assert len(codes) >= 2 and ROW_A in codes
    a.submit(t["continue"])
    a.at_step(6)
    summary = page_summary(page)
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(len(codes))
    # With the keyboard, as from the summary that has the focus: the last code's link, not the first.
    code = codes[-1]
    summary.get_by_role("link", name=f"AGB-code {code}", exact=True).press("Enter")
    add = a.row(code).get_by_role("link", name=re.compile("^" + re.escape(t["add_contact"])))
    expect(add).to_be_focused()
    expect(add).to_be_in_viewport()
    # And on from there: Enter opens that row's form.
    page.keyboard.press("Enter")
    if a.js:
        expect(a.row(code).get_by_label(t["initials"], exact=True)).to_be_focused()
    else:
        a.at(f"/stap/6/code/{code}/1", f"Contactpersoon bij AGB-code {code}")

def test_changes_started_from_the_summary_return_to_it(applicant):
    """Step 9's change links (SPEC §1): a change through step 5's shortcut, step 6's filter and a row,
    and step 7's add page, each saved with the step's own button, comes back to the summary."""
    a, page, t = applicant, applicant.page, applicant.t
    code = PRACTICE["agb"]
    summary_heading = "Controleer uw aanmelding"
    a.to_step_6(PRACTICE)
    a.open_row(code)
    a.fill_contact(code, "K.", "Jansen", "k.jansen@praktijk.example", "030-2345678")
    a.save_row(code, "K. Jansen")
    a.submit(t["continue"])
    a.at_step(7)
    a.submit(t["no_ict"])
    a.at_step(8)
    page.get_by_label("Het overzicht van de diensten klopt en is volledig").check()
    a.submit(t["save_continue"])
    a.at("/stap/9", summary_heading)

    def change(section: str, number: int) -> None:
        page.get_by_role("link", name=f"Wijzigen {section}", exact=True).click()
        a.at_step(number, query=True)
        expect(page).to_have_url(re.compile(rf"/stap/{number}\?terug=overzicht$"))

    # Step 5: the shortcut that copies the signatory.
    change("hoofdcontactpersoon", 5)
    page.get_by_role("link", name=re.compile(re.escape(t["copy_signatory"]))).click()
    expect(page.get_by_label(t["surname"], exact=True)).to_have_value(PRACTICE["surname"])
    expect(page).to_have_url(re.compile(r"/stap/5\?terug=overzicht$"))
    page.get_by_label(t["employed"]).check()
    a.submit(t["save_continue"])
    a.at("/stap/9", summary_heading)

    # Step 6: the filter (a GET form), then the row's form.
    change("contactpersonen per AGB-code", 6)
    search = page.get_by_label(SEARCH)
    if a.js:
        search.click()
        search.press_sequentially(code[:4], delay=20)
        expect(page.locator("#contact-rows")).to_contain_text("1 code gevonden")
        a.settled()
    else:
        search.fill(code[:4])
        a.submit("Zoeken")
        a.at_step(6, query=True)
    expect(page).to_have_url(re.compile(r"/stap/6\?.*terug=overzicht"))
    a.row(code).get_by_role("link", name=re.compile("^Wijzig")).click()
    if a.js:
        expect(a.row(code).locator("form.contact-form")).to_be_visible()
        a.settled()
    else:
        a.at(f"/stap/6/code/{code}/1", f"Contactpersoon bij AGB-code {code}", query=True)
    (a.row(code) if a.js else page).get_by_label(t["surname"], exact=True).fill("Jansen-Smit")
    a.submit(t["save"], a.row(code) if a.js else page)
    expect(a.row(code)).to_contain_text("K. Jansen-Smit")
    if not a.js:
        # The table filtered as it was, with the way back.
        expect(page).to_have_url(re.compile(rf"/stap/6\?zoek={code[:4]}&terug=overzicht#row-{code}$"))
    a.settled()
    a.submit(t["continue"])
    a.at("/stap/9", summary_heading)
    expect(page.locator("#main")).to_contain_text("K. Jansen-Smit")

    # Step 7: the add page, then the list's own button.
    change("ICT-beheerders", 7)
    page.get_by_role("link", name=t["add_ict"]).click()
    a.at("/stap/7/toevoegen", t["h1"]["ict_add"], query=True)
    page.get_by_label(t["name"], exact=True).fill("ICT Partners B.V.")
    page.get_by_label(t["email"], exact=True).fill("support@ictpartners.example")
    page.get_by_label(t["phone"], exact=True).fill("020-1234567")
    a.submit(t["add"])
    a.at_step(7, query=True)
    expect(page).to_have_url(re.compile(r"/stap/7\?terug=overzicht$"))
    a.submit(t["continue"])
    a.at("/stap/9", summary_heading)
    expect(page.locator("#main")).to_contain_text("ICT Partners B.V.")

def test_with_htmx_the_bulk_action_leaves_one_history_entry_for_step_6(js_applicant):
    """The bulk action answers the page it was on: Back then goes to step 5, not to step 6 again."""
    a, page = js_applicant, js_applicant.page
    a.to_step_6(MAATSCHAP)
    a.submit(BULK)
    expect(page.locator("tr.contact-row--missing")).to_have_count(0)
    a.settled()
    page.go_back()
    a.at_step(5)  # the step as saved (the shortcut that copied the signatory leads to its own URL)
    expect(page.get_by_label(a.t["employed"])).to_be_checked()


def test_a_contact_row_with_long_values_wraps_rather_than_being_cut_off(js_applicant):
    """Each row of step 6 stacks as a card on a phone: its cells must wrap a long surname, a long
    e-mail address and a registry name without spaces, or the table region grows wider than the
    screen and cuts them off (and the "add a second contact" link with them)."""
    a, page = js_applicant, js_applicant.page
    code = PRACTICE["agb"]
    a.to_step_6(PRACTICE)
    page.set_viewport_size({"width": 320, "height": 640})
    a.open_row(code)
    a.fill_contact(code, "A.B.", "O'Neill-Vandenbroucke-Oppenheimer",
                   "administratie.contactpersoon@huisartsenpraktijk-sintjansdal.example", "030-2345678")
    a.save_row(code, "O'Neill-Vandenbroucke-Oppenheimer")
    expect(a.row(code).get_by_role("link", name=re.compile("^Voeg een tweede contactpersoon toe"))).to_be_visible()

    def assert_nothing_cut_off(what: str) -> None:
        widths = page.locator(".table-wrap").evaluate(
            "region => ({scroll: region.scrollWidth, client: region.clientWidth})")
        assert widths["scroll"] <= widths["client"], (
            f"{what}: the table region is {widths['scroll']} px wide inside {widths['client']} px")
        page_widths = page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
        assert page_widths["scroll"] <= page_widths["inner"], f"{what}: the page scrolls sideways"

    assert_nothing_cut_off("a long surname and e-mail address")
    # A registry name of 70 characters without a space (the registry file is the demo's own).
    a.row(code).locator("td").first.evaluate("cell => { cell.textContent = 'Huisartsenpraktijk' + 'x'.repeat(52) }")
    assert_nothing_cut_off("a long name without spaces")
    # Wider than a phone the table is a table again: its columns share the width, and still wrap.
    page.set_viewport_size({"width": 700, "height": 800})
    assert_nothing_cut_off("a table 700 px wide")
    page.set_viewport_size({"width": 320, "height": 640})
    # And the row's form, opened on the same row.
    a.row(code).get_by_role("link", name=re.compile("^Wijzig")).click()
    expect(a.row(code).locator("form.contact-form")).to_be_visible()
    a.settled()
    assert_nothing_cut_off("the row's form")


def test_what_was_typed_survives_the_language_switch_in_a_part_of_the_page_and_after_an_error(js_applicant):
    """The switch reloads the page: what htmx swapped in must come back (step 4's details of the
    officer chosen, a row of step 6 being edited), and so must what came back with an error."""
    a, page = js_applicant, js_applicant.page
    a.to_step_4(PRACTICE)
    a.choose_signatory(PRACTICE)
    page.get_by_label(a.t["business_email"], exact=True).fill("getypt@praktijk.example")
    a.switch_to_english()
    expect(page).to_have_url(re.compile(r"/stap/4\?signatory="))
    expect(page.get_by_label(a.t["business_email"], exact=True)).to_have_value("getypt@praktijk.example")
    expect(page.get_by_label(a.t["initials"], exact=True)).to_have_value(PRACTICE["initials"])
    a.signatory_details()

    # Step 5 sent with an error: what was typed comes back in the page, and across the switch.
    page.get_by_label(a.t["surname"], exact=True).fill("Zonder-Mobiel")
    a.submit(a.t["save_continue"])
    expect(page.locator(".error-summary")).to_be_visible()
    a.settled()
    page.locator("header.header").get_by_role("link", name="Nederlands").click()
    a.lang = "nl"
    a.at_step(5)
    expect(page.get_by_label(a.t["surname"], exact=True)).to_have_value("Zonder-Mobiel")
    a.main_contact_from_signatory(PRACTICE)
    a.save_main_contact()

    code = PRACTICE["agb"]
    # The filter used first: what it asked is in the URL, and the row's typed values decide the page.
    page.get_by_label(SEARCH).fill(code[:4])
    expect(page).to_have_url(re.compile(rf"/stap/6\?zoek={code[:4]}$"))
    a.settled()
    a.open_row(code)
    a.row(code).get_by_label(a.t["surname"], exact=True).fill("Half-Getypt")
    page.locator("header.header").get_by_role("link", name="English").click()
    a.lang = "en"
    # Back as the row's own page (the form without JavaScript, the filter kept), with what was typed.
    a.at(f"/stap/6/code/{code}/1?zoek={code[:4]}", f"Contact person for AGB code {code}")
    expect(page.get_by_label(a.t["surname"], exact=True)).to_have_value("Half-Getypt")
