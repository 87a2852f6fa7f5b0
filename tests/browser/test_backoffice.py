"""The back office (SPEC §4) in a real Chromium, with htmx active and with htmx blocked.

A staff member logs in for the first time (password, the authenticator app coupled from the
secret on the page, the recovery codes); finds a submitted application by its KvK number and
settles the signatory's manual check; records the outcome of a visit and finds it in the audit
log under their own name; deletes a completed application, but only after a page that asks
first; downloads the CSV export; logs out.

The applications are prepared by an applicant in a browser of their own (the helpers of
``test_steps_8_to_10``), the staff users straight in the live server's database: a browser adds
nothing there. axe-core runs on every back-office page and state passed; each test fails at its
end on any violation. Every test has its own staff user and e-mail addresses, and waits on
conditions, never on time.
"""

import contextlib
import re
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from playwright.sync_api import expect

from applicant import SHORT_IDLE_TIMEOUT, url, wait_settled
from onboarding import mail, staff, store
from test_steps_8_to_10 import APPOINTMENT, ONLINE, Submitter, main

pytestmark = pytest.mark.timeout(180)

PASSWORD = "correct horse battery"
SECRET_KEY = "browser-tests"  # conftest's _serve: the key that seals the TOTP secrets
KVK = "50000001"  # the one-code practice of test_steps_8_to_10
REFERENCE = re.compile(r"VZ-\d{4}-[A-Z0-9]{6}")

H1 = {
    "login": "Inloggen beheer",
    "code": "Tweede stap: uw code",
    "enrol": "Tweede stap instellen",
    "recovery": "Uw herstelcodes",
    "list": "Aanmeldingen",
    "funnel": "Trechter van de afgelopen 30 dagen",
    "logged_out": "U bent uitgelogd",
}
WRONG_LOGIN = "De gebruikersnaam of het wachtwoord klopt niet."
NO_REASON = "Vul de reden van afwijzen in"
APPROVE = "Goedkeuren: de persoon is geïdentificeerd"
REJECT = "Afwijzen"
VISIT_IDENTIFIED = "Beide personen zijn geïdentificeerd"
VISIT_SIGNED = "Beide personen zijn geïdentificeerd en de overeenkomst is op papier ondertekend"
DELETE = "Aanmelding verwijderen"
CONFIRM_DELETE = "Ja, definitief verwijderen"
KEEP = "Nee, terug naar de aanmelding"


class StaffMember:
    """A staff member at a browser page of their own, with htmx active (``js``) or blocked."""

    def __init__(self, page, js: bool, axe, username: str, secret: str | None):
        self.page = page
        self.js = js
        self.username = username
        self.secret = secret
        self._axe = axe
        self.violations: list[str] = []

    # -- waiting and checking ------------------------------------------------------------------

    def settled(self) -> None:
        wait_settled(self.page, self.js)

    def at(self, path, heading) -> None:
        expect(self.page).to_have_url(path if isinstance(path, re.Pattern) else url(path))
        expect(self.page.locator("h1")).to_have_text(heading)
        self.settled()

    def axe(self, where: str) -> None:
        """Run axe now and collect what it finds; ``assert_accessible_throughout`` fails the
        test at its end, so that every page is checked first."""
        self.settled()
        label = f"[{where}, {'htmx' if self.js else 'no htmx'}] {self.page.url}"
        for violation in self._axe.run(self.page).response["violations"]:
            for node in violation["nodes"]:
                target = ", ".join(map(str, node.get("target", [])))
                self.violations.append(
                    f"{label}: {violation['id']} ({violation.get('impact')}): {violation['help']}\n"
                    f"    target {target}\n    html   {node.get('html', '').strip()}")

    def assert_accessible_throughout(self) -> None:
        assert not self.violations, "\n\n".join(self.violations)

    def expect_error_summary(self, summary, *links: tuple[str, str]) -> None:
        """The error summary (an alert with focus) lists exactly ``links`` ((text, href) pairs),
        and the title starts with "Fout: " (SPEC §2)."""
        expect(summary).to_be_visible()
        expect(summary).to_have_attribute("role", "alert")
        items = summary.get_by_role("link")
        expect(items).to_have_count(len(links))
        for index, (text, href) in enumerate(links):
            expect(items.nth(index)).to_have_text(text)
            expect(items.nth(index)).to_have_attribute("href", href)
        # With htmx app.js moves focus; without it the summary's autofocus does.
        expect(summary).to_be_focused()
        expect(self.page).to_have_title(re.compile(r"^Fout: "))

    # -- actions -------------------------------------------------------------------------------

    def submit(self, button: str, scope=None) -> None:
        (scope or self.page).get_by_role("button", name=button, exact=True).click()

    def enter_password(self, password: str = PASSWORD) -> None:
        page = self.page
        page.get_by_label("Gebruikersnaam", exact=True).fill(self.username)
        page.get_by_label("Wachtwoord", exact=True).fill(password)
        self.submit("Inloggen")

    def log_in(self) -> None:
        """Password and code, from the login page to the list."""
        self.page.goto("/beheer/login")
        self.at("/beheer/login", H1["login"])
        self.enter_password()
        self.at("/beheer/code", H1["code"])
        # The enrolment used the code of this 30-second step; each is accepted once.
        self.page.get_by_label("Code", exact=True).fill(pyotp.TOTP(self.secret).at(time.time() + 30))
        self.submit("Doorgaan")
        self.at("/beheer", H1["list"])
        expect(self.header()).to_contain_text(f"Beheer: {self.username}")

    def header(self):
        return self.page.locator("header.header")

    def find(self, query: str, reference: str) -> None:
        """Search the list for ``query`` and open the application ``reference`` from the results."""
        page = self.page
        page.get_by_label("Zoek op KvK-nummer, naam of kenmerk", exact=True).fill(query)
        self.submit("Zoeken")
        expect(page).to_have_url(re.compile(r"/beheer\?q=" + re.escape(query) + r"(&|$)"))
        expect(page.get_by_label("Zoek op KvK-nummer, naam of kenmerk", exact=True)).to_have_value(query)
        self.settled()
        found = page.locator("#applications tbody tr").filter(has_text=reference)
        expect(found).to_have_count(1)
        expect(found).to_contain_text(query)
        self.open(reference)

    def open(self, reference: str) -> None:
        """Open the application ``reference`` from the list's table."""
        row = self.page.locator("#applications tbody tr").filter(has_text=reference)
        row.get_by_role("link", name=reference, exact=True).click()
        self.at(re.compile(r"/beheer/aanvraag/\d+$"), f"Aanmelding {reference}")


def identification(page, role: str):
    """The value of the detail's row "Identificatie <role>"."""
    return page.locator(".summary__row").filter(
        has=page.get_by_text(f"Identificatie {role}", exact=True)).locator("dd")


def reference_of(applicant: Submitter) -> str:
    return REFERENCE.search(main(applicant.page).inner_text()).group(0)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


class _NoAxe:
    """The applicant's pages are checked by their own browser tests; here they only prepare."""

    def run(self, page):
        return SimpleNamespace(response={"violations": []})


def server_database(tmp_path_factory, name: str) -> str:
    """The SQLite file of the server ``name``: conftest's ``_serve`` names it ``aansluiten.db`` in
    a numbered temporary folder named after the server, under this worker's base temp. The app
    creates the file on its first request."""
    found = [folder for folder in tmp_path_factory.getbasetemp().glob(f"{name}[0-9]*")
             if folder.is_dir() and not folder.is_symlink()]
    assert len(found) == 1, f"expected one folder of {name}, found {found}"
    return str(found[0] / "aansluiten.db")


@pytest.fixture(scope="session")
def live_database(live_server, tmp_path_factory) -> str:
    return server_database(tmp_path_factory, "browser-live-server")


@contextlib.contextmanager
def opened(path: str):
    database = store.connect(path)
    store.migrate(database)  # as the app does on its first request; safe beside it
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def db(live_database):
    with opened(live_database) as database:
        yield database


def make_staff_user(db, enrolled: bool = True) -> tuple[str, str | None]:
    """A fresh staff user in a server's database: (username, TOTP secret or None)."""
    username = f"mw-{uuid.uuid4().hex[:10]}"
    user = staff.create_user(db, username, PASSWORD)
    if not enrolled:
        return username, None
    seal = mail.Seal(SECRET_KEY)
    secret = staff.start_enrolment(db, user.id, seal)
    staff.confirm_enrolment(db, user.id, pyotp.TOTP(secret).now(), seal)
    return username, secret


@pytest.fixture
def new_staff_user(db):
    """``new_staff_user(enrolled=True)``: a fresh staff user in the live server's database;
    returns (username, TOTP secret or None)."""
    return lambda enrolled=True: make_staff_user(db, enrolled)


@pytest.fixture(params=["js", "nojs"])
def js(request) -> bool:
    return request.param == "js"


@pytest.fixture
def member(request, js, axe, new_staff_user):
    """An enrolled staff member, not yet logged in, on ``page`` (htmx) or ``nojs_page``."""
    page = request.getfixturevalue("page" if js else "nojs_page")
    return StaffMember(page, js, axe, *new_staff_user())


# Client addresses of the applicants: 10.251.x.y, beside conftest's 10.<pid % 250>.x.y and the
# other devices of test_steps_8_to_10 (10.250.x.y).
@pytest.fixture
def applicant(new_context, live_server, unique_email):
    """An applicant with htmx active, in a browser context of their own (own cookies, own client
    address), so that the staff member's page is theirs alone."""
    page = new_context(live_server).new_page()
    return Submitter(page, True, _NoAxe(), unique_email("beheer"), unique_email("hoofdcontact"))


def submit_with_manual_check(applicant: Submitter) -> str:
    """Steps 1-10 online, the signatory's surname changed at the bank: a manual check. Returns the reference."""
    applicant.to_step_9()
    applicant.submit_application()
    reference = reference_of(applicant)
    applicant.choose_method(ONLINE)
    applicant.identify_signatory(surname="Linde")
    expect(main(applicant.page).locator(".panel[role=status]")).to_contain_text(
        "De gegevens van uw bank wijken af van wat is ingevuld.")
    return reference


def submit_with_a_visit(applicant: Submitter) -> str:
    """Steps 1-10 by appointment, the first free slot at the company's address. Returns the reference."""
    page = applicant.page
    applicant.to_step_9()
    applicant.submit_application()
    reference = reference_of(applicant)
    applicant.choose_method(APPOINTMENT)
    slot = page.get_by_label("Datum en tijd van het bezoek", exact=True)
    slot.select_option(slot.locator("optgroup option").first.get_attribute("value"))
    applicant.submit("Afspraak bevestigen")
    applicant.at_step(10)
    expect(main(page).locator(".panel").filter(has=page.get_by_role("heading", name="Uw afspraak"))).to_be_visible()
    return reference


# ---------------------------------------------------------------------------------------------
# 1. The first login: password, coupling the authenticator app, the recovery codes.
# ---------------------------------------------------------------------------------------------

def test_first_login_couples_the_app_and_shows_the_recovery_codes(request, js, axe, new_staff_user):
    page = request.getfixturevalue("page" if js else "nojs_page")
    username, _ = new_staff_user(enrolled=False)
    person = StaffMember(page, js, axe, username, None)

    # A stranger at the back office is sent to the login.
    page.goto("/beheer")
    person.at("/beheer/login", H1["login"])
    expect(person.header().get_by_role("button", name="Uitloggen")).to_have_count(0)
    person.axe("login")

    # A wrong password: the error summary, the username kept, the password emptied.
    person.enter_password("not the password")
    person.at("/beheer/login", H1["login"])
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(WRONG_LOGIN)
    expect(page.get_by_label("Gebruikersnaam", exact=True)).to_have_value(username)
    expect(page.get_by_label("Wachtwoord", exact=True)).to_have_value("")
    person.axe("login with an error")
    person.expect_error_summary(summary, (WRONG_LOGIN, "#username"))

    # The right password, then the app is coupled from the secret on the page.
    person.enter_password()
    person.at("/beheer/koppelen", H1["enrol"])
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    person.axe("enrolment")
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    person.submit("Koppelen")

    person.at("/beheer/koppelen", H1["recovery"])
    expect(main(page).locator(".panel[role=status]")).to_contain_text("Uw app is gekoppeld.")
    codes = page.locator("ul.recovery-codes li code")
    expect(codes).to_have_count(10)
    assert len(set(codes.all_inner_texts())) == 10
    person.axe("recovery codes")

    page.get_by_role("link", name="Ik heb ze bewaard: naar de aanmeldingen").click()
    person.at("/beheer", H1["list"])
    expect(person.header()).to_contain_text(f"Beheer: {username}")
    expect(person.header().get_by_role("button", name="Uitloggen")).to_be_visible()
    person.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 2. Finding an application by its KvK number and settling the signatory's manual check.
# ---------------------------------------------------------------------------------------------

def test_staff_find_an_application_by_kvk_and_approve_the_signatorys_manual_check(member, applicant):
    reference = submit_with_manual_check(applicant)
    person, page = member, member.page
    person.log_in()

    waiting = page.locator("section[aria-labelledby=checks-title]")
    expect(waiting.get_by_role("heading", name=re.compile(r"^Handmatige controles die wachten"))).to_be_visible()
    expect(waiting.get_by_role("link", name=re.compile(re.escape(reference)))).to_be_visible()
    person.axe("list")

    person.find(KVK, reference)
    check = page.locator("section.summary-card").filter(
        has=page.get_by_role("heading", name="Handmatige controle: tekenbevoegde"))
    expect(check).to_contain_text("Linde")  # from the bank, beside what was entered
    expect(identification(page, "tekenbevoegde")).to_contain_text("Wacht op handmatige controle")
    person.axe("detail with the manual check form")

    # Rejecting needs a reason.
    check.get_by_label(REJECT, exact=True).check()
    person.submit("Besluit opslaan", check)
    person.at(re.compile(r"/beheer/aanvraag/\d+(/identificatie/signatory)?$"), f"Aanmelding {reference}")
    reason = page.get_by_label("Reden van afwijzen", exact=True)
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_attribute("aria-describedby", re.compile(r"(^|\s)signatory-reason-error(\s|$)"))
    expect(page.locator("#signatory-reason-error")).to_contain_text(NO_REASON)
    expect(page.get_by_label(REJECT, exact=True)).to_be_checked()
    person.axe("detail with an error")
    person.expect_error_summary(page.locator(".error-summary"), (NO_REASON, "#signatory-reason"))

    # Approving settles it.
    page.get_by_label(APPROVE, exact=True).check()
    person.submit("Besluit opslaan", check)
    person.at(re.compile(r"/beheer/aanvraag/\d+$"), f"Aanmelding {reference}")
    expect(identification(page, "tekenbevoegde")).to_have_text("Geïdentificeerd (door een medewerker)")
    expect(page.get_by_role("heading", name="Handmatige controle: tekenbevoegde")).to_have_count(0)
    expect(page.locator(".error-summary")).to_have_count(0)
    log = page.get_by_role("region", name="Logboek")
    expect(log.locator("tr").filter(has_text="manual check of the signatory approved")).to_contain_text(
        person.username)
    person.axe("detail, the check settled")

    person.header().get_by_role("link", name="Trechter", exact=True).click()
    person.at("/beheer/trechter", H1["funnel"])
    expect(page.locator("figure.funnel svg[role=img]")).to_be_visible()
    expect(page.get_by_role("region", name="Trechter").locator("tbody tr")).to_have_count(10)
    person.axe("funnel")
    person.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 3. The outcome of a visit, in the audit log under the staff member's name.
# ---------------------------------------------------------------------------------------------

def test_staff_record_a_visit_outcome_and_see_it_in_the_audit_log(member, applicant):
    reference = submit_with_a_visit(applicant)
    person, page = member, member.page
    person.log_in()
    # The latest change comes first in the list.
    expect(page.locator("#applications tbody tr").first).to_contain_text(reference)
    person.open(reference)

    outcome = page.locator("section.summary-card").filter(
        has=page.get_by_role("heading", name="Uitkomst van het bezoek vastleggen"))
    expect(outcome).to_be_visible()
    person.axe("detail with the visit outcome form")
    outcome.get_by_label(VISIT_IDENTIFIED, exact=True).check()
    person.submit("Vastleggen", outcome)

    person.at(re.compile(r"/beheer/aanvraag/\d+$"), f"Aanmelding {reference}")
    for role in ("tekenbevoegde", "hoofdcontactpersoon"):
        expect(identification(page, role)).to_have_text("Geïdentificeerd (bij het bezoek)")
    entry = page.get_by_role("region", name="Logboek").locator("tbody tr").filter(
        has_text="visit recorded: identified")
    expect(entry).to_have_count(1)
    expect(entry.locator("td").nth(1)).to_have_text(person.username)
    person.axe("detail, the visit recorded")
    person.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 4. Deleting asks first, even (above all) for a completed, signed application.
# ---------------------------------------------------------------------------------------------

def test_staff_delete_a_completed_application_only_after_confirming(member, applicant):
    reference = submit_with_a_visit(applicant)
    person, page = member, member.page
    person.log_in()
    person.open(reference)
    detail = page.url
    outcome = page.locator("section.summary-card").filter(
        has=page.get_by_role("heading", name="Uitkomst van het bezoek vastleggen"))
    outcome.get_by_label(VISIT_SIGNED, exact=True).check()
    person.submit("Vastleggen", outcome)
    person.at(detail, f"Aanmelding {reference}")
    status = page.locator(".summary__row").filter(has=page.get_by_text("Status", exact=True)).locator("dd")
    expect(status).to_have_text("Afgerond")

    # The button on the detail deletes nothing: it opens a page that names the application.
    confirmation = f"Weet u zeker dat u aanmelding {reference} wilt verwijderen?"
    page.get_by_role("link", name=DELETE, exact=True).click()
    person.at(re.compile(r"/beheer/aanvraag/\d+/verwijderen$"), confirmation)
    expect(page).to_have_title(re.compile("^" + re.escape(confirmation)))
    summary = main(page).locator("dl.summary")
    expect(summary).to_contain_text(reference)
    expect(summary).to_contain_text("Afgerond")
    expect(main(page)).to_contain_text("Dit kan niet ongedaan worden gemaakt.")
    person.axe("delete confirmation")

    # "No" goes back to the application, which is still there.
    page.get_by_role("link", name=KEEP, exact=True).click()
    person.at(detail, f"Aanmelding {reference}")
    expect(status).to_have_text("Afgerond")

    # "Yes" deletes it: the list no longer has it, and its page is gone.
    page.get_by_role("link", name=DELETE, exact=True).click()
    person.at(re.compile(r"/beheer/aanvraag/\d+/verwijderen$"), confirmation)
    person.submit(CONFIRM_DELETE)
    person.at("/beheer", H1["list"])
    if person.js:  # without JavaScript the list itself is the answer
        expect(page.locator("#status")).to_have_text("De aanmelding is verwijderd.")
    expect(page.locator("#applications")).not_to_contain_text(reference)
    person.axe("list after deleting")
    page.goto(detail)
    expect(page.locator("h1")).to_have_text("Pagina niet gevonden")
    person.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 5. The export opens in Dutch spreadsheet programs.
# ---------------------------------------------------------------------------------------------

def test_the_csv_export_starts_with_a_byte_order_mark_and_separates_with_semicolons(page, axe, new_staff_user):
    person = StaffMember(page, True, axe, *new_staff_user())
    person.log_in()
    with page.expect_download() as download:
        person.header().get_by_role("link", name="Exporteren (CSV)", exact=True).click()
    assert re.fullmatch(r"aansluitingen-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    header = body.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("kenmerk;") and ";" in header and "," not in header, header


# ---------------------------------------------------------------------------------------------
# 6. Logging out ends the session.
# ---------------------------------------------------------------------------------------------

def test_logging_out_ends_the_staff_session(member):
    person, page = member, member.page
    person.log_in()
    person.header().get_by_role("button", name="Uitloggen", exact=True).click()
    expect(page.locator("h1")).to_have_text(H1["logged_out"])
    person.settled()
    expect(main(page)).to_contain_text("U bent uitgelogd uit het beheer.")
    expect(person.header().get_by_role("button", name="Uitloggen")).to_have_count(0)
    expect(person.header()).not_to_contain_text(person.username)

    page.goto("/beheer")
    person.at("/beheer/login", H1["login"])
    expect(person.header().get_by_role("button", name="Uitloggen")).to_have_count(0)
    page.goto("/beheer/export.csv")
    person.at("/beheer/login", H1["login"])


@pytest.mark.parametrize("path", ["/privacy", "/toegankelijkheid"])
def test_the_statements_are_reachable_from_the_footer_and_accessible(page, live_server, assert_accessible, path):
    page.goto(live_server + "/")
    page.locator("footer").get_by_role("link", name=re.compile("rivacy" if path == "/privacy" else "oegankelijkheid"))\
        .click()
    page.wait_for_url(live_server + path)
    assert_accessible(page)
    page.goto(live_server + "/taal/en?next=" + path)
    page.wait_for_url(live_server + path)
    assert_accessible(page)


# ---------------------------------------------------------------------------------------------
# The idle warning (WCAG 2.2.1), on the server whose idle timeouts are SHORT_IDLE_TIMEOUT seconds
# ---------------------------------------------------------------------------------------------

WARN_BEFORE = min(120, SHORT_IDLE_TIMEOUT // 2)  # as pages.idle_warning
WARNING_WAIT_MS = (SHORT_IDLE_TIMEOUT - WARN_BEFORE + 4) * 1000


@pytest.fixture
def idle_member(short_idle_page, short_idle_server, tmp_path_factory, axe):
    with opened(server_database(tmp_path_factory, "browser-short-idle-server")) as database:
        return StaffMember(short_idle_page, True, axe, *make_staff_user(database))


def test_staff_are_warned_before_the_idle_timeout_and_escape_keeps_them_logged_in(idle_member):
    """As the applicant's: the warning says what is lost, Escape counts as "Ik ben er nog" (the
    staff keep-alive), and once the session has ended the dialog says so, with the way to log in
    again and what was typed left on the page."""
    member, page = idle_member, idle_member.page
    member.log_in()
    warning = page.get_by_role("dialog", name=f"Uw sessie verloopt over {WARN_BEFORE} seconden")
    expect(warning).to_be_visible(timeout=WARNING_WAIT_MS)
    expect(warning).to_have_accessible_description(re.compile("nog niet verstuurd, gaat verloren"))
    member.axe("idle warning")
    with page.expect_response(lambda response: response.url.endswith("/beheer/sessie/verlengen")) as kept:
        page.keyboard.press("Escape")
    assert kept.value.status == 204
    expect(warning).to_be_hidden()

    search = page.get_by_label("Zoek op KvK-nummer, naam of kenmerk", exact=True)
    search.fill("De Linde")
    ended = page.get_by_role("dialog", name="Uw sessie is verlopen")
    expect(ended).to_be_visible(timeout=(SHORT_IDLE_TIMEOUT + 8) * 1000)
    expect(ended).to_have_accessible_description(re.compile("bent u uitgelogd"))
    expect(ended.get_by_role("link", name="Opnieuw inloggen")).to_be_focused()
    member.axe("session ended")
    ended.get_by_role("button", name="Sluit deze melding").click()
    expect(search).to_have_value("De Linde")
    page.reload()
    member.at("/beheer/login", H1["login"])
    member.assert_accessible_throughout()
