"""The applicant's side of the app in one browser page, with or without htmx.

Shared by the browser tests (``conftest.py`` makes ``flow`` and ``js_flow`` fixtures of it).
"""

import re

from playwright.sync_api import expect

COMPANY = "Huisartsenpraktijk Öztürk"
KVK = "5000 0001"
AGB = "01146889"

# The demo hospital group (data/DEMO.md): 177 active AGB codes, shown 50 to a page at step 3.
HOSPITAL = "Stichting Ziekenhuisgroep Rijn en Vecht"
HOSPITAL_KVK = "50000004"
HOSPITAL_AGB = "06852447"

# The demo KvK number whose registry look-up fails as if the registry were down.
UNAVAILABLE_KVK = "50000010"
UNAVAILABLE_AGB = "24779642"

SAVED = "Uw antwoorden zijn opgeslagen."

# The idle timeout of conftest's ``short_idle_server``, in seconds: its warning comes
# min(120, 8 // 2) = 4 s before the end.
SHORT_IDLE_TIMEOUT = 8

H1 = {
    "start": "Aansluiten bij VECOZO",
    1: "Vul uw e-mailadres in",
    "sent": "Kijk in uw mailbox",
    "mailbox": "Demo-mailbox",
    "link": "Doorgaan met uw aanmelding",
    2: "Vul uw KvK-nummer en AGB-code in",
    3: "Controleer de gegevens",
    "incorrect": "Gegevens laten aanpassen",
    4: "Selecteer uw tekenbevoegde",
    "logged_out": "U bent uitgelogd",
}


def url(path: str, query: bool = False):
    """A matcher for the page's URL ending in ``path`` (with ``query``: any query and fragment may follow)."""
    return re.compile(re.escape(path) + (r"(\?[^#]*)?(#.*)?$" if query else r"$"))


def wait_settled(page, js: bool) -> None:
    """The page is loaded and, with htmx, no request or swap is in flight."""
    page.wait_for_load_state("load")
    if js:
        page.wait_for_function(
            "() => document.readyState === 'complete' && window.htmx !== undefined"
            " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
        )
    else:
        assert page.evaluate("typeof window.htmx") == "undefined", "htmx should be blocked"


class Flow:
    """Drives the applicant's side of the app in one browser page, with or without htmx."""

    def __init__(self, page, js: bool, base_url: str, assert_accessible, email: str):
        self.page = page
        self.js = js
        self.base_url = base_url
        self.email = email
        self._axe = assert_accessible
        self.violations: list[str] = []

    # -- waiting -------------------------------------------------------------------------------

    def settled(self) -> None:
        wait_settled(self.page, self.js)

    def at(self, path: str, heading: str) -> None:
        expect(self.page).to_have_url(url(path))
        expect(self.page.locator("h1")).to_have_text(heading)
        self.settled()

    def axe(self) -> None:
        """Run axe now; violations are collected so that the flow goes on and every page is
        checked, and ``assert_accessible_throughout()`` fails the test at its end."""
        self.settled()
        try:
            self._axe(self.page)
        except AssertionError as violation:
            self.violations.append(str(violation).split("\nassert ")[0])

    def assert_accessible_throughout(self) -> None:
        assert not self.violations, "\n\n".join(self.violations)

    # -- pages ---------------------------------------------------------------------------------

    def goto(self, path: str) -> None:
        self.page.goto(path)
        self.settled()

    def submit(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()

    def start(self) -> None:
        self.goto("/")
        self.at("/", H1["start"])

    def request_link(self) -> None:
        page = self.page
        page.get_by_role("link", name="Start uw aanmelding").click()
        self.at("/stap/1", H1[1])
        page.get_by_label("E-mailadres").fill(self.email)
        self.submit("Stuur mij de link")
        self.at("/stap/1/verstuurd", H1["sent"])
        expect(page.locator("#main")).to_contain_text(
            f"Wij hebben een e-mail met een link gestuurd naar {self.email}.")

    def open_mail(self) -> None:
        """From the demo mailbox through the e-mail's link to the page with the button."""
        page = self.page
        self.goto("/demo/mailbox")
        self.at("/demo/mailbox", H1["mailbox"])
        newest = page.locator("article.mail").first
        expect(newest).to_contain_text(self.email)
        link = newest.get_by_role("link", name="Open de link uit deze e-mail")
        # The whole link of the e-mail, as the applicant's mail program would open it.
        expect(link).to_have_attribute("href", re.compile("^" + re.escape(self.base_url) + r"/bevestig/[\w-]+$"))
        link.click()
        self.at_link_page()

    def at_link_page(self) -> None:
        """The link page: the token has left the URL, the page names the address it goes on as."""
        page = self.page
        expect(page).to_have_url(url("/bevestig"))
        expect(page.locator("h1")).to_have_text(H1["link"])
        self.settled()
        expect(page.locator("#main")).to_contain_text(f"U gaat verder als {self.email}.")
        expect(page.get_by_role("button", name="Bevestigen en doorgaan")).to_be_visible()

    def continue_from_link(self) -> None:
        self.submit("Bevestigen en doorgaan")
        self.at("/stap/2", H1[2])
        self.expect_signed_in()

    def expect_signed_in(self) -> None:
        """The header names the draft's address and offers to log out."""
        header = self.page.locator("header.header")
        expect(header).to_contain_text(f"Aanmelding van {self.email}")
        expect(header.get_by_role("button", name="Uitloggen")).to_be_visible()

    def sign_in(self) -> None:
        """From the start page to step 2 with a verified e-mail address."""
        self.start()
        self.request_link()
        self.open_mail()
        self.continue_from_link()

    def lookup(self, kvk: str, agb: str) -> None:
        page = self.page
        page.get_by_label("KvK-nummer").fill(kvk)
        page.get_by_label("AGB-code").fill(agb)
        self.submit("Opzoeken en doorgaan")

    def choose(self, label: str) -> None:
        self.page.get_by_label(label).check()
        self.submit("Doorgaan")

    def log_out(self) -> None:
        self.page.locator("header.header").get_by_role("button", name="Uitloggen").click()
        self.at("/uitgelogd", H1["logged_out"])
        expect(self.page.locator("header.header")).not_to_contain_text("Aanmelding van")
        expect(self.page.get_by_role("button", name="Uitloggen")).to_have_count(0)

    def expect_errors(self, *links: tuple[str, str]) -> None:
        """The error summary (an alert) lists exactly ``links`` ((text part, href) pairs), the
        title starts with "Fout: " and the summary has focus."""
        page = self.page
        summary = page.locator(".error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_have_attribute("role", "alert")
        expect(page).to_have_title(re.compile(r"^Fout: "))
        items = summary.get_by_role("link")
        expect(items).to_have_count(len(links))
        for index, (text, href) in enumerate(links):
            expect(items.nth(index)).to_contain_text(text)
            expect(items.nth(index)).to_have_attribute("href", href)
        # With htmx app.js moves focus; without it the summary's autofocus does.
        expect(summary).to_be_focused()

    def expect_registry_notification(self, kvk: str, agb: str) -> None:
        """An unreachable registry: a notification above the form ("Let op"), not an error of
        what was typed; no error summary, no field marked invalid, the typed values kept."""
        page = self.page
        expect(page.locator("h1")).to_have_text(H1[2])
        expect(page).to_have_url(url("/stap/2"))
        notification = page.locator("#main div.notification")
        expect(notification).to_be_visible()
        expect(notification).to_have_attribute("role", "alert")
        expect(notification.get_by_role("heading", name="Let op")).to_be_visible()
        expect(notification).to_contain_text("niet bereikbaar")
        expect(page.locator(".error-summary")).to_have_count(0)
        expect(page.locator(".field-error")).to_have_count(0)
        expect(page.locator("[aria-invalid]")).to_have_count(0)
        expect(page).not_to_have_title(re.compile(r"^Fout: "))
        # Above the form, where the error summary would be.
        assert page.evaluate(
            "() => !!(document.querySelector('#main .notification').compareDocumentPosition("
            "document.querySelector('#main form')) & Node.DOCUMENT_POSITION_FOLLOWING)"
        ), "the notification should come before the form"
        expect(page.get_by_label("KvK-nummer")).to_have_value(kvk)
        expect(page.get_by_label("AGB-code")).to_have_value(agb)
        if self.js:
            expect(notification).to_be_focused()
