"""What the outside review of steps 1-3 (issue 5) found in Chromium, as tests that failed before.

- 13: the idle warning says what is lost, and Escape on it counts as "Ik ben er nog": the session
  is extended and the warning comes again later (on a server with an idle timeout of 8 s).
- 15: the live region says one thing at a time, and nothing stale after an error.
- 18: on a 320 px phone, after a swap the page starts at the top with focus on the heading or the
  error summary; the progress glyphs are not read out; registry values are marked Dutch in the
  English interface; a very long e-mail address wraps, even with WCAG text spacing.
- 6: "Uitloggen" in the header closes the draft for this browser, with and without htmx.
- 23: step 3 shows a long list of AGB codes in pages of 50.
"""

import re
import uuid

import pytest
from applicant import (
    AGB,
    COMPANY,
    H1,
    HOSPITAL,
    HOSPITAL_AGB,
    HOSPITAL_KVK,
    KVK,
    SAVED,
    SHORT_IDLE_TIMEOUT,
    UNAVAILABLE_AGB,
    UNAVAILABLE_KVK,
    Flow,
    url,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(120)

PHONE = {"width": 320, "height": 640}

# WCAG 1.4.12 text spacing, as the bookmarklets that test it apply it.
TEXT_SPACING = (
    "\n* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; }\np { margin-bottom: 2em !important; }\n"
)

# The idle warning comes min(120, timeout // 2) seconds before the end of the session.
WARN_BEFORE = min(120, SHORT_IDLE_TIMEOUT // 2)
# Long enough for the warning to come, with room for a slow machine; never a fixed sleep.
WARNING_WAIT_MS = (SHORT_IDLE_TIMEOUT - WARN_BEFORE + 4) * 1000


@pytest.fixture
def idle_flow(short_idle_page, short_idle_server, assert_accessible, unique_email):
    """The applicant with htmx, on the server whose idle timeout is SHORT_IDLE_TIMEOUT seconds."""
    return Flow(short_idle_page, True, short_idle_server, assert_accessible, unique_email("idle"))


def scroll_y(page) -> float:
    return page.evaluate("window.scrollY")


def no_horizontal_scroll(page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], (
        f"the page scrolls sideways on {page.url}: {widths['scroll']} px wide in a {widths['inner']} px window")


# ---------------------------------------------------------------------------------------------
# 13. The idle warning.
# ---------------------------------------------------------------------------------------------

def test_idle_warning_is_built_from_the_timeout_and_says_that_unsent_input_is_not_saved(idle_flow):
    flow, page = idle_flow, idle_flow.page
    flow.sign_in()
    body = page.locator("body")
    expect(body).to_have_attribute("data-session-timeout", str(SHORT_IDLE_TIMEOUT))
    expect(body).to_have_attribute("data-session-warning", str(WARN_BEFORE))

    warning = page.locator("#session-warning")
    expect(warning).to_be_visible(timeout=WARNING_WAIT_MS)
    title = f"Uw sessie verloopt over {WARN_BEFORE} seconden"
    expect(page.get_by_role("dialog", name=title)).to_be_visible()
    # Described by the paragraph that says what a timeout costs.
    described_by = warning.get_attribute("aria-describedby")
    assert described_by, "the idle warning has no aria-describedby"
    description = page.locator(f"#{described_by}")
    expect(description).to_be_visible()
    # How long the applicant has been away when it comes, not the whole timeout.
    expect(description).to_contain_text(f"U bent {SHORT_IDLE_TIMEOUT - WARN_BEFORE} seconden niet actief geweest.")
    expect(description).to_contain_text("op deze pagina heeft ingevuld maar nog niet verstuurd, wordt niet bewaard")
    expect(warning).to_have_accessible_description(re.compile("nog niet verstuurd, wordt niet bewaard"))
    flow.axe()
    flow.assert_accessible_throughout()


def test_escape_on_the_idle_warning_extends_the_session_and_the_warning_comes_again(idle_flow):
    """Escape counts as "Ik ben er nog": the keep-alive request is made, the applicant is still
    signed in after the original timeout, and the warning is armed again, not gone for good.

    (static/app.js handles this with a `cancel` listener on the dialog.)
    """
    flow, page = idle_flow, idle_flow.page
    flow.sign_in()
    warning = page.locator("#session-warning")

    expect(warning).to_be_visible(timeout=WARNING_WAIT_MS)
    try:
        with page.expect_response(lambda response: response.url.endswith("/sessie/verlengen")) as kept_alive:
            page.keyboard.press("Escape")
    except PlaywrightTimeoutError:
        pytest.fail("Escape on the idle warning made no keep-alive request (/sessie/verlengen)", pytrace=False)
    assert kept_alive.value.status == 204, "the session was not extended"
    expect(warning).to_be_hidden()
    expect(page).to_have_url(url("/stap/2"))

    # The warning is armed again and comes back before the extended session ends.
    expect(warning, "after Escape the idle warning never came again").to_be_visible(timeout=WARNING_WAIT_MS)

    # Then past the moment the session of this page load would have ended had Escape not
    # extended it: the server counts whole seconds from the request for this page, so wait on
    # the page's clock until SHORT_IDLE_TIMEOUT + 2 s have passed since its navigation started.
    page.wait_for_function(f"() => performance.now() > {(SHORT_IDLE_TIMEOUT + 2) * 1000}")
    page.reload()
    flow.at("/stap/2", H1[2])
    flow.expect_signed_in()


def test_a_session_that_lasts_a_few_seconds_past_the_countdown_keeps_its_warning_until_it_has_ended(idle_flow):
    """The server may let a session last up to a minute past the page's countdown (it moves its
    clock once a minute; SHORT_IDLE_TIMEOUT is too short for that lag, so the keep-alive's first
    answer plays it). Asked at the end of the countdown, it says so: the warning stays open and,
    once the session has ended, says that; it is not closed and counted down a whole timeout again."""
    flow, page = idle_flow, idle_flow.page
    flow.sign_in()
    asked = []

    def lasts_two_seconds_more(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            route.fulfill(status=204, headers={"X-Session-Remaining": "2"})
        else:
            route.continue_()

    page.route("**/sessie/verlengen", lasts_two_seconds_more)
    warning = page.locator("#session-warning")
    expect(warning).to_be_visible(timeout=WARNING_WAIT_MS)
    warning.evaluate("dialog => dialog.addEventListener('close', () => { dialog.dataset.closed = 'yes' })")
    ended = page.get_by_role("dialog", name="Uw sessie is verlopen")
    expect(ended).to_be_visible(timeout=(WARN_BEFORE + 8) * 1000)
    assert len(asked) == 2, f"the keep-alive was asked {len(asked)} times, not twice"
    assert warning.get_attribute("data-closed") is None, "the warning closed while the session still lasted"


def test_once_the_session_has_ended_the_warning_says_so_and_what_is_sent_then_comes_back_after_a_new_link(idle_flow):
    """Past the timeout the warning no longer counts down: it says the session ended, with the
    way to a new link, and its close button (a phone has no Escape) leaves the page as it was.
    Sent anyway, the form meets the page that says the session ended; it is kept in this browser
    and filled in again once the applicant is back with a new link (SPEC §2)."""
    flow, page = idle_flow, idle_flow.page
    flow.sign_in()
    page.locator("#kvk_number").fill("1234 5678")
    ended = page.get_by_role("dialog", name="Uw sessie is verlopen")
    expect(ended).to_be_visible(timeout=(SHORT_IDLE_TIMEOUT + 6) * 1000)
    expect(ended).to_have_accessible_description(re.compile("Sluit deze melding en verstuur"))
    expect(ended.get_by_role("link", name="Vraag een nieuwe link aan")).to_be_focused()
    flow.axe()
    ended.get_by_role("button", name="Sluit deze melding").click()
    expect(ended).to_be_hidden()
    expect(page).to_have_url(url("/stap/2"))
    expect(page.locator("#kvk_number")).to_have_value("1234 5678")
    page.locator("#main form button[type=submit]").first.click()
    expect(page).to_have_url(url("/sessie-verlopen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw sessie is verlopen")
    expect(page.locator("#main")).to_contain_text("Wij hebben het in deze browser bewaard")
    flow.axe()

    page.get_by_label("E-mailadres").fill(flow.email)
    flow.submit("Stuur mij een nieuwe link")
    # Sent: else the mailbox may be opened before the new mail exists, and show the old link.
    flow.at("/stap/1/verstuurd", H1["sent"])
    flow.open_mail()
    flow.continue_from_link()
    expect(page.locator("#kvk_number")).to_have_value("1234 5678")
    expect(page.locator("#main")).to_contain_text("Het is nog niet opgeslagen")
    flow.axe()
    flow.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 15. The live region.
# ---------------------------------------------------------------------------------------------

def test_live_region_is_emptied_when_an_error_follows_a_save(js_flow):
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    status = page.locator("#status")

    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    expect(status).to_have_text(SAVED)

    # Step 3 without a choice: 422, and the live region no longer says "saved".
    with page.expect_response(lambda response: response.url.endswith("/stap/3")) as answer:
        flow.submit("Doorgaan")
    assert answer.value.status == 422
    flow.expect_errors(("Geef aan of de gegevens kloppen", "#data_correct-0"))
    flow.settled()
    expect(status).to_have_text("")
    assert page.evaluate("document.getElementById('status').textContent.trim()") == ""


def test_live_region_is_emptied_by_a_registry_notification(js_flow):
    """A 503 answer (registry unavailable) empties the live region too. Step 2 is only reached
    through a page load or a swap that says nothing, so the earlier message is put in by hand."""
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    status = page.locator("#status")
    page.evaluate("text => { document.getElementById('status').textContent = text; }", SAVED)
    expect(status).to_have_text(SAVED)

    with page.expect_response(lambda response: response.url.endswith("/stap/2")) as answer:
        flow.lookup(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    assert answer.value.status == 503
    flow.expect_registry_notification(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    expect(status).to_have_text("")


def test_live_region_stays_silent_after_step_1_because_the_page_says_it(js_flow):
    flow, page = js_flow, js_flow.page
    flow.start()
    page.get_by_role("link", name="Start uw aanmelding").click()
    flow.at("/stap/1", H1[1])
    page.get_by_label("E-mailadres").fill(flow.email)
    flow.submit("Stuur mij de link")
    flow.at("/stap/1/verstuurd", H1["sent"])
    expect(page.locator("#main")).to_contain_text(f"Wij hebben een e-mail met een link gestuurd naar {flow.email}.")
    # One message: the page. Nothing besides it in the live region.
    expect(page.locator("#status")).to_have_text("")


# ---------------------------------------------------------------------------------------------
# 18. On a phone: scroll and focus after a swap, glyphs, language of registry values, wrapping.
# ---------------------------------------------------------------------------------------------

def test_on_a_phone_a_swap_to_the_next_step_starts_at_the_top_with_focus_on_the_heading(js_flow):
    flow, page = js_flow, js_flow.page
    page.set_viewport_size(PHONE)
    flow.sign_in()

    page.get_by_label("KvK-nummer").fill(HOSPITAL_KVK)
    page.get_by_label("AGB-code").fill(HOSPITAL_AGB)
    button = page.get_by_role("button", name="Opzoeken en doorgaan")
    button.scroll_into_view_if_needed()
    assert scroll_y(page) > 0, "precondition: at 320 px the button is below the fold"
    button.click()

    flow.at("/stap/3", H1[3])
    expect(page.locator("#main")).to_contain_text(HOSPITAL)
    expect(page.locator("#main h1")).to_be_focused()
    assert scroll_y(page) == 0, "after the swap the page should start at the top"
    # So the way back and the progress are in view, above the heading.
    expect(page.locator("a.back-link")).to_be_in_viewport()
    expect(page.locator("nav.progress")).to_be_in_viewport()


@pytest.mark.parametrize("case", ["field-errors", "registry-unavailable"])
def test_on_a_phone_an_error_swap_starts_at_the_top_with_focus_on_the_message(js_flow, case):
    flow, page = js_flow, js_flow.page
    page.set_viewport_size(PHONE)
    flow.sign_in()

    # A long first attempt, so that the form is scrolled down when it is sent.
    if case == "field-errors":
        flow.lookup("abc", "")
        flow.expect_errors(("alleen uit cijfers", "#kvk_number"), ("Vul een AGB-code in", "#agb_code"))
        message = page.locator("#main .error-summary")
    else:
        flow.lookup(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
        flow.expect_registry_notification(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
        message = page.locator("#main .notification")
    flow.settled()
    expect(message).to_be_focused()
    assert scroll_y(page) == 0, "after the error swap the page should start at the top"
    expect(page.locator("a.back-link")).to_be_in_viewport()

    # Once more from the bottom of the now longer form.
    page.get_by_role("button", name="Opzoeken en doorgaan").scroll_into_view_if_needed()
    assert scroll_y(page) > 0, "precondition: at 320 px the button is below the fold"
    flow.submit("Opzoeken en doorgaan")
    flow.settled()
    expect(message).to_be_focused()
    assert scroll_y(page) == 0, "after the second error swap the page should start at the top"


def test_progress_glyphs_are_not_part_of_the_accessible_names(js_flow):
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])

    progress = page.locator("nav.progress")
    progress.locator("summary").click()
    items = progress.locator("li.progress__item")
    expect(items).to_have_count(10)
    expect(items.nth(0)).to_be_visible()

    # The glyphs are CSS content with an empty alternative text: `content: "✓" / ""`.
    befores = items.evaluate_all(
        "items => items.map(item => ({cls: item.className, content: getComputedStyle(item, '::before').content}))")
    glyphs = {"progress__item--done": "\u2713", "progress__item--current": "\u25b6"}
    for item in befores:
        for cls, glyph in glyphs.items():
            if cls in item["cls"].split():
                assert glyph in item["content"], f"{cls}: expected the glyph {glyph} in {item['content']!r}"
                assert item["content"].rstrip().endswith('/ ""'), (
                    f"{cls}: the glyph has no empty alternative text: {item['content']!r}")
    assert any("progress__item--done" in item["cls"] for item in befores)
    assert any("progress__item--current" in item["cls"] for item in befores)

    # And what Chromium gives assistive technology: no glyph in any exposed name or text.
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("Accessibility.getFullAXTree")
    finally:
        cdp.detach()
    exposed = [node for node in tree["nodes"] if not node.get("ignored")]
    names = [str((node.get("name") or {}).get("value", "")) for node in exposed]
    spoken = [name for name in names if "\u2713" in name or "\u25b6" in name]
    assert not spoken, f"glyphs in the accessibility tree: {spoken}"
    # The open list is in the tree: its texts are read, just not the glyphs.
    assert any("Vul uw e-mailadres in" in name for name in names), "the progress list is not in the tree"


def test_what_was_typed_and_not_sent_is_still_there_after_the_language_switch(js_flow):
    """The switch is a link: the page keeps what was typed in this tab and fills it in once,
    back in the other language."""
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    page.get_by_label("KvK-nummer").fill(" 4100.00.01 ")
    page.get_by_label("AGB-code").fill("0105")
    page.locator("header.header").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(url("/stap/2"))
    flow.settled()
    expect(page.locator("#kvk_number")).to_have_value(" 4100.00.01 ")
    expect(page.locator("#agb_code")).to_have_value("0105")
    # Once: a reload shows the page as it is.
    page.reload()
    expect(page.locator("#kvk_number")).to_have_value("")


def test_registry_values_are_marked_dutch_in_the_english_interface(js_flow):
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])

    page.locator("header.header").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(url("/stap/3"))
    expect(page.locator("h1")).not_to_have_text(H1[3])
    flow.settled()

    # The language that applies to each registry value: the nearest lang attribute.
    values = [COMPANY, "Eenmanszaak", "Amsterdamsestraatweg 212", "Utrecht", "Eigenaar", "Öztürk"]
    languages = page.evaluate(
        """values => {
            const main = document.getElementById('main');
            const result = {};
            for (const value of values) {
                const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
                let found = null;
                while (walker.nextNode()) {
                    if (walker.currentNode.data.includes(value)) { found = walker.currentNode; break; }
                }
                result[value] = found ? found.parentElement.closest('[lang]').getAttribute('lang') : null;
            }
            return result;
        }""",
        values,
    )
    assert languages == dict.fromkeys(values, "nl"), f"the nearest lang of each registry value: {languages}"
    flow.axe()
    flow.assert_accessible_throughout()


def test_a_very_long_email_address_wraps_at_320_px_with_text_spacing(page, live_server, assert_accessible):
    # One unbroken word of 129 characters: 60 before the @, 68 after it.
    email = ("a" * 48 + uuid.uuid4().hex[:12]) + "@" + "b" * 60 + ".example"
    flow = Flow(page, True, live_server, assert_accessible, email)

    def with_text_spacing(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text() + TEXT_SPACING)

    # Through the stylesheet, as the CSP (style-src 'self') refuses an injected <style>.
    page.route("**/static/app.min.css", with_text_spacing)
    page.set_viewport_size(PHONE)

    flow.start()
    assert page.evaluate("getComputedStyle(document.body).letterSpacing") != "normal", "text spacing not applied"
    flow.request_link()
    no_horizontal_scroll(page)

    flow.open_mail()
    no_horizontal_scroll(page)

    flow.continue_from_link()
    expect(page.locator("header.header")).to_contain_text(email)
    no_horizontal_scroll(page)

    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    no_horizontal_scroll(page)


# ---------------------------------------------------------------------------------------------
# 6. Logging out from the header.
# ---------------------------------------------------------------------------------------------

def test_logging_out_from_the_header_closes_the_draft_in_this_browser(flow, browser, live_server):
    page = flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    copied_cookies = page.context.cookies()

    flow.log_out()
    flow.axe()
    main = page.locator("#main")
    expect(main).to_contain_text("is bewaard")
    # A new link can be asked for from here.
    expect(page.get_by_label("E-mailadres")).to_be_visible()
    expect(page.get_by_role("button", name="Stuur mij een nieuwe link")).to_be_visible()

    # Back to the step page: not the draft, not its data.
    page.go_back()
    flow.at("/stap/1", H1[1])
    expect(main).not_to_contain_text(COMPANY)
    expect(page.locator("header.header")).not_to_contain_text("Aanmelding van")

    for path in ("/stap/3", "/stap/2"):
        flow.goto(path)
        flow.at("/stap/1", H1[1])
        expect(main).not_to_contain_text(COMPANY)
        expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)

    # The session is dead on the server too: a copy of the old cookie opens nothing.
    other = browser.new_context(base_url=live_server)
    try:
        other.add_cookies(copied_cookies)
        copy = other.new_page()
        copy.goto("/stap/3")
        expect(copy).to_have_url(url("/stap/1"))
        expect(copy.locator("h1")).to_have_text(H1[1])
        expect(copy.locator("#main")).not_to_contain_text(COMPANY)
        expect(copy.get_by_role("button", name="Uitloggen")).to_have_count(0)
    finally:
        other.close()
    flow.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# 23. A long list of AGB codes at step 3.
# ---------------------------------------------------------------------------------------------

def test_step_3_shows_the_177_codes_of_the_hospital_in_pages_of_50(flow):
    page = flow.page
    flow.sign_in()
    flow.lookup(HOSPITAL_KVK, HOSPITAL_AGB)
    flow.at("/stap/3", H1[3])

    codes = page.locator("section#agb-codes")
    rows = codes.locator("tbody tr")
    pages = codes.get_by_role("navigation", name="Pagina's met AGB-codes")
    expect(codes.get_by_role("heading", name="AGB-codes (177)")).to_be_visible()
    expect(pages).to_contain_text("Pagina 1 van 4")
    expect(rows).to_have_count(50)
    expect(pages.get_by_role("link", name="Vorige pagina")).to_have_count(0)
    first_code = rows.first.locator("td").first.inner_text()
    page.evaluate("document.querySelector('#main h1').dataset.kept = 'yes'")

    pages.get_by_role("link", name="Volgende pagina").click()
    expect(page).to_have_url(re.compile(r"/stap/3\?pagina=2$"))
    expect(pages).to_contain_text("Pagina 2 van 4")
    flow.settled()
    expect(rows).to_have_count(50)
    expect(rows.first.locator("td").first).not_to_have_text(first_code)
    if flow.js:
        # Only the list was swapped, and it has the focus.
        expect(page.locator("#main h1")).to_have_attribute("data-kept", "yes")
        expect(codes).to_be_focused()
    else:
        expect(page.locator("#main h1")).not_to_have_attribute("data-kept", "yes")

    for number in (3, 4):
        pages.get_by_role("link", name="Volgende pagina").click()
        expect(pages).to_contain_text(f"Pagina {number} van 4")
        flow.settled()
    expect(page).to_have_url(re.compile(r"/stap/3\?pagina=4$"))
    expect(rows).to_have_count(177 - 150)
    expect(pages.get_by_role("link", name="Volgende pagina")).to_have_count(0)

    pages.get_by_role("link", name="Vorige pagina").click()
    expect(pages).to_contain_text("Pagina 3 van 4")
    flow.settled()
    expect(rows).to_have_count(50)
    flow.axe()

    # The answer is given on any page of the list.
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])
    flow.assert_accessible_throughout()


def test_a_long_word_in_a_choice_wraps_rather_than_widening_the_page(page):
    """A registry name without spaces (an officer, a service) in a radio or checkbox label: the
    label is a flex item, which does not shrink below its longest word unless told to."""
    word = "Bestuurder" + "x" * 90
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.evaluate("""word => {
        const main = document.querySelector("main");
        main.insertAdjacentHTML("beforeend",
            `<div class="radio"><input class="radio__input" type="radio" id="r"><label class="radio__label" for="r">${word}</label></div>` +
            `<div class="checkbox"><input class="checkbox__input" type="checkbox" id="c"><label class="checkbox__label" for="c">${word}</label></div>`);
    }""", word)
    no_horizontal_scroll(page)
