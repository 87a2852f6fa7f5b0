"""Steps 1-3 in a real Chromium, with htmx active and with htmx blocked (as without JavaScript).

Every test has its own browser context (own cookies) and its own e-mail address.
``test_whole_flow_steps_1_to_3`` runs axe-core on every page along the way (start, step 1 and its
errors, mail sent, mailbox, link page, step 2 with its errors and with the "registry unavailable"
notification, step 3 and its errors, the "incorrect data" page, step 4, the logged-out page) and
requires zero violations; the other tests check behaviour, so
that one markup fault fails one test per mode rather than all of them.
"""

import re

import pytest
from applicant import AGB, COMPANY, H1, KVK, SAVED, UNAVAILABLE_AGB, UNAVAILABLE_KVK, Flow, url
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(120)


# ---------------------------------------------------------------------------------------------
# The whole flow, with and without htmx, with axe on every page.
# ---------------------------------------------------------------------------------------------

def test_whole_flow_steps_1_to_3(flow):
    """Start page to step 4 and out, through every error, the "registry unavailable"
    notification and the "incorrect data" detour, axe on each page."""
    page = flow.page

    flow.start()
    # One service name in the title, not "Aansluiten bij VECOZO - Aansluiten bij VECOZO".
    expect(page).to_have_title("Aansluiten bij VECOZO")
    # A real way to get help; the external page itself is never loaded here.
    footer = page.locator("footer.footer")
    expect(footer).to_contain_text("Vragen over uw aanmelding? Kijk op de supportpagina's van VECOZO")
    expect(footer.get_by_role("link", name="supportpagina's van VECOZO")).to_have_attribute(
        "href", "https://www.vecozo.nl/support/")
    flow.axe()

    page.get_by_role("link", name="Start uw aanmelding").click()
    flow.at("/stap/1", H1[1])
    flow.axe()

    # Step 1 with an error first.
    page.get_by_label("E-mailadres").fill("geen-adres")
    flow.submit("Stuur mij de link")
    expect(page.locator("h1")).to_have_text(H1[1])
    flow.expect_errors(("geldig e-mailadres", "#email"))
    expect(page.get_by_label("E-mailadres")).to_have_value("geen-adres")
    flow.axe()

    page.get_by_label("E-mailadres").fill(flow.email)
    flow.submit("Stuur mij de link")
    flow.at("/stap/1/verstuurd", H1["sent"])
    expect(page.locator("#main")).to_contain_text(f"Wij hebben een e-mail met een link gestuurd naar {flow.email}.")
    flow.axe()

    flow.goto("/demo/mailbox")
    flow.at("/demo/mailbox", H1["mailbox"])
    flow.axe()
    newest = page.locator("article.mail").first
    expect(newest).to_contain_text(flow.email)
    newest.get_by_role("link", name="Open de link uit deze e-mail").click()
    # The link page, its token gone from the URL, naming the address before the button.
    flow.at_link_page()
    flow.axe()

    flow.continue_from_link()
    flow.axe()

    # Step 2 with field errors, then with a registry failure (a notification, not an error).
    flow.lookup("abc", "")
    expect(page.locator("h1")).to_have_text(H1[2])
    flow.expect_errors(("alleen uit cijfers", "#kvk_number"), ("Vul een AGB-code in", "#agb_code"))
    flow.axe()

    flow.lookup(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    flow.expect_registry_notification(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    flow.axe()

    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    main = page.locator("#main")
    expect(main).to_contain_text(COMPANY)
    expect(page).to_have_title(re.compile(r"^Controleer de gegevens"))
    # Plain words: "Naam in het Handelsregister", "Geregistreerd als", postcodes as "3551 CR".
    expect(main.locator(".summary__row", has_text="Naam in het Handelsregister").locator("dd")).to_have_text(COMPANY)
    expect(main.locator(".summary__row", has_text="Adres hoofdvestiging")).to_contain_text("3551 CR Utrecht")
    expect(main.get_by_role("columnheader", name="Geregistreerd als")).to_be_visible()
    expect(main).not_to_contain_text("Statutaire naam")
    flow.axe()

    # Step 3 with errors: no choice made.
    flow.submit("Doorgaan")
    expect(page.locator("h1")).to_have_text(H1[3])
    flow.expect_errors(("Geef aan of de gegevens kloppen", "#data_correct-0"))
    expect(page.locator("#main")).to_contain_text(COMPANY)
    flow.axe()

    # "No": the page that says where to correct the data, then start again at step 2,
    # which still holds the KvK number and AGB code (WCAG 3.3.7).
    flow.choose("Nee, er klopt iets niet")
    flow.at("/stap/3/onjuist", H1["incorrect"])
    flow.axe()
    flow.submit("Opnieuw beginnen vanaf stap 2")
    flow.at("/stap/2", H1[2])
    expect(page.get_by_label("KvK-nummer")).to_have_value("50000001")
    expect(page.get_by_label("AGB-code")).to_have_value(AGB)

    flow.submit("Opzoeken en doorgaan")
    flow.at("/stap/3", H1[3])
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])
    flow.axe()

    # A reload of the pushed URL gives the same page, whole.
    page.reload()
    flow.at("/stap/4", H1[4])
    expect(page.locator("header.header")).to_have_count(1)
    flow.expect_signed_in()

    # The start page with a draft: one verb for going on, the header with the address.
    flow.start()
    expect(page).to_have_title("Aansluiten bij VECOZO")
    expect(page.get_by_role("link", name="Doorgaan met uw aanmelding")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Ga verder")
    flow.expect_signed_in()

    # Logging out from the header of that page.
    flow.log_out()
    flow.axe()

    flow.assert_accessible_throughout()


# ---------------------------------------------------------------------------------------------
# With htmx: swaps instead of page loads, titles, focus, history.
# ---------------------------------------------------------------------------------------------

def test_htmx_swaps_without_page_load_and_moves_focus(js_flow):
    flow, page = js_flow, js_flow.page
    flow.sign_in()

    page.evaluate("window.__marker = 1")

    # An invalid submit: error summary focused, "Fout: " title, still the same document.
    flow.lookup("abc", "")
    flow.expect_errors(("alleen uit cijfers", "#kvk_number"), ("Vul een AGB-code in", "#agb_code"))
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Fout: Vul uw KvK-nummer en AGB-code in"))
    assert page.evaluate("window.__marker") == 1, "the error answer caused a full page load"
    expect(page).to_have_url(url("/stap/2"))

    # A valid submit: /stap/3 pushed, title and focus follow, still the same document.
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    assert page.evaluate("window.__marker") == 1, "going to step 3 caused a full page load"
    expect(page).to_have_title(re.compile(r"^Controleer de gegevens"))
    expect(page.locator("#main h1")).to_be_focused()
    expect(page.locator("#main")).to_contain_text(COMPANY)
    # Exactly one document around the fragment: no nested layout.
    expect(page.locator("main")).to_have_count(1)
    expect(page.locator("header.header")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    # The fragment is markup, not text: no tags shown to the applicant.
    expect(page.locator("#main")).not_to_contain_text("<")
    # The save is announced in the one live region (SPEC 2: status messages in aria-live).
    expect(page.locator("[role=status][aria-live]#status")).to_have_count(1)
    expect(page.locator("#status")).to_have_text(SAVED)

    # Step 3 invalid, then valid: same document throughout.
    flow.submit("Doorgaan")
    flow.expect_errors(("Geef aan of de gegevens kloppen", "#data_correct-0"))
    expect(page).to_have_title(re.compile(r"^Fout: Controleer de gegevens"))
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])
    expect(page.locator("#main h1")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Selecteer uw tekenbevoegde"))
    assert page.evaluate("window.__marker") == 1, "going to step 4 caused a full page load"


def test_htmx_back_and_forward_show_whole_pages(js_flow):
    flow, page = js_flow, js_flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])

    page.go_back()
    flow.at("/stap/2", H1[2])
    # A whole, correct page: layout, styles, one main, the form with what was saved.
    expect(page).to_have_title(re.compile(r"^Vul uw KvK-nummer en AGB-code in"))
    expect(page.locator("header.header")).to_have_count(1)
    expect(page.locator("main#main")).to_have_count(1)
    expect(page.locator("footer.footer")).to_have_count(1)
    expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body")).to_have_attribute("hx-headers", re.compile("X-CSRFToken"))
    expect(page.get_by_label("KvK-nummer")).to_have_value("50000001")
    expect(page.get_by_label("AGB-code")).to_have_value(AGB)

    page.go_forward()
    flow.at("/stap/3", H1[3])
    expect(page.locator("header.header")).to_have_count(1)
    expect(page.locator("main#main")).to_have_count(1)
    expect(page.locator("#main")).to_contain_text(COMPANY)

    # And the page still works after the history navigation.
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])


def test_what_was_typed_and_not_sent_comes_back_through_the_history(flow):
    """No answer is cached (no-store): Back and Forward load a page again, without what was typed
    on it and not sent. app.js keeps that for the page in this tab and fills it in when the history
    leads back there; a page reached any other way shows what the server has; and logging out
    forgets it."""
    page = flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    page.go_back()
    flow.at("/stap/2", H1[2])
    page.get_by_label("KvK-nummer").fill("1234 5678")
    page.go_forward()
    flow.at("/stap/3", H1[3])
    page.go_back()
    flow.at("/stap/2", H1[2])
    expect(page.get_by_label("KvK-nummer")).to_have_value("1234 5678")
    expect(page.get_by_label("AGB-code")).to_have_value(AGB)

    flow.goto("/stap/3")
    flow.at("/stap/3", H1[3])
    flow.goto("/stap/2")
    expect(page.get_by_label("KvK-nummer")).to_have_value("50000001")

    page.get_by_label("KvK-nummer").fill("1234 5678")
    flow.goto("/stap/3")
    assert page.evaluate("sessionStorage.getItem('aansluiten:left')"), "nothing was kept on leaving step 2"
    flow.log_out()
    assert page.evaluate("sessionStorage.getItem('aansluiten:left')") is None


def test_what_was_typed_comes_back_after_leaving_by_the_back_link_and_is_sent_as_of_its_version(flow):
    """Left by "Vorige" (an htmx link: the page is swapped, not unloaded), what was typed comes back
    with Back too. Only what was changed is kept, with the version the page was at: saved meanwhile
    in another tab, the kept answer is refused as changed in the meantime, not stored over it."""
    page = flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    page.get_by_label("Nee, er klopt iets niet").check()
    page.get_by_role("link", name="Vorige").click()
    flow.at("/stap/2", H1[2])
    page.go_back()
    flow.at("/stap/3", H1[3])
    expect(page.get_by_label("Nee, er klopt iets niet")).to_be_checked()
    kept = page.evaluate("sessionStorage.getItem('aansluiten:left')")
    assert kept is None, "what was filled in stays kept after it came back"

    other = page.context.new_page()  # another tab of the same browser saves step 3 meanwhile
    other.goto("/stap/3")
    other.get_by_label("Ja, de gegevens kloppen").check()
    other.get_by_role("button", name="Doorgaan").click()
    expect(other.locator("h1")).to_have_text(H1[4])
    other.close()
    page.get_by_role("button", name="Doorgaan").click()
    expect(page.locator("#main")).to_contain_text("intussen in een ander venster of tabblad gewijzigd")
    expect(page.locator("h1")).to_have_text(H1[3])


def test_without_htmx_every_step_is_a_page_load(nojs_page, live_server, assert_accessible, unique_email):
    flow = Flow(nojs_page, False, live_server, assert_accessible, unique_email("nojs"))
    page = flow.page
    flow.sign_in()
    page.evaluate("window.__marker = 1")
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    assert page.evaluate("window.__marker") is None, "without htmx the form must post and load a new page"

    page.go_back()
    flow.at("/stap/2", H1[2])


# ---------------------------------------------------------------------------------------------
# Errors at step 2.
# ---------------------------------------------------------------------------------------------

def test_step_2_field_errors(flow):
    page = flow.page
    flow.sign_in()

    flow.lookup("abc", "")
    expect(page.locator("h1")).to_have_text(H1[2])
    expect(page).to_have_url(url("/stap/2"))
    flow.expect_errors(("Een KvK-nummer bestaat alleen uit cijfers", "#kvk_number"),
                       ("Vul een AGB-code in", "#agb_code"))
    kvk, agb = page.get_by_label("KvK-nummer"), page.get_by_label("AGB-code")
    expect(kvk).to_have_value("abc")
    expect(agb).to_have_value("")
    expect(kvk).to_have_attribute("aria-invalid", "true")
    expect(agb).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#kvk_number-error")).to_contain_text("Een KvK-nummer bestaat alleen uit cijfers")
    expect(page.locator("#agb_code-error")).to_contain_text("Vul een AGB-code in")
    expect(kvk).to_have_attribute("aria-describedby", re.compile(r"(^|\s)kvk_number-error(\s|$)"))
    expect(agb).to_have_attribute("aria-describedby", re.compile(r"(^|\s)agb_code-error(\s|$)"))

    # The summary's links lead to the fields.
    page.locator(".error-summary").get_by_role("link", name=re.compile("AGB-code")).click()
    expect(agb).to_be_focused()

    # Corrected, it goes on.
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    expect(page.locator("#main")).to_contain_text(COMPANY)


REGISTRY_CASES = {
    "unknown-kvk": ("50000099", "01146889", "kvk_number", "staat niet in het Handelsregister"),
    "agb-of-other-company": ("50000001", "26606605", "agb_code", "hoort bij een andere onderneming"),
}


@pytest.mark.parametrize("case", list(REGISTRY_CASES))
def test_step_2_registry_errors(flow, case):
    kvk_value, agb_value, field, message = REGISTRY_CASES[case]
    page = flow.page
    flow.sign_in()

    flow.lookup(kvk_value, agb_value)
    expect(page.locator("h1")).to_have_text(H1[2])
    expect(page).to_have_url(url("/stap/2"))
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text(message)
    expect(page).to_have_title(re.compile(r"^Fout: "))
    # Next to the field, linked from the summary, the field marked invalid.
    expect(page.locator(f"#{field}-error")).to_contain_text(message)
    expect(summary.get_by_role("link", name=re.compile(re.escape(message)))).to_have_attribute("href", f"#{field}")
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("div.notification")).to_have_count(0)
    # Whatever the failure, what was typed is still there.
    expect(page.get_by_label("KvK-nummer")).to_have_value(kvk_value)
    expect(page.get_by_label("AGB-code")).to_have_value(agb_value)
    expect(summary).to_be_focused()

    # The applicant corrects it and goes on.
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])


def test_step_2_registry_unavailable_is_a_notification_and_keeps_the_input(flow):
    """Not a fault of what was typed: "Let op" above the form, no error summary, no field
    error; the typed values stay, and the same look-up goes through once the registry answers."""
    page = flow.page
    flow.sign_in()

    flow.lookup(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    flow.expect_registry_notification(UNAVAILABLE_KVK, UNAVAILABLE_AGB)

    # The applicant tries another number and goes on; the notification is gone.
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    expect(page.locator("div.notification")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# Step 3: "no, something is wrong".
# ---------------------------------------------------------------------------------------------

def test_step_3_incorrect_data_starts_again_from_step_2(flow):
    page = flow.page
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])

    flow.choose("Nee, er klopt iets niet")
    flow.at("/stap/3/onjuist", H1["incorrect"])
    main = page.locator("#main")
    expect(main.get_by_role("link", name="Handelsregister")).to_have_attribute("href", re.compile(r"kvk\.nl"))
    expect(main.get_by_role("link", name="AGB-register")).to_have_attribute("href", re.compile(r"vektis\.nl"))

    flow.submit("Opnieuw beginnen vanaf stap 2")
    flow.at("/stap/2", H1[2])
    # A correction in the registry does not change the numbers: nothing to type again (WCAG 3.3.7).
    expect(page.get_by_label("KvK-nummer")).to_have_value("50000001")
    expect(page.get_by_label("AGB-code")).to_have_value(AGB)
    expect(page.locator(".error-summary")).to_have_count(0)

    # Step 3 is closed again until a new lookup is done.
    flow.goto("/stap/3")
    flow.at("/stap/2", H1[2])

    # The verified e-mail address stays: step 1 says so.
    flow.goto("/stap/1")
    expect(page.locator("#main")).to_contain_text(flow.email)
    expect(page.locator("#main")).to_contain_text("is bevestigd")

    flow.goto("/stap/2")
    expect(page.get_by_label("KvK-nummer")).to_have_value("50000001")
    expect(page.get_by_label("AGB-code")).to_have_value(AGB)
    flow.submit("Opzoeken en doorgaan")
    flow.at("/stap/3", H1[3])
    expect(page.locator("#main")).to_contain_text(COMPANY)
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])


# ---------------------------------------------------------------------------------------------
# Gate, origin and console.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/stap/3", "/stap/2", "/stap/4"])
def test_gate_sends_a_new_visitor_to_step_1(page, path):
    page.goto(path)
    expect(page).to_have_url(url("/stap/1"))
    expect(page.locator("h1")).to_have_text(H1[1])
    expect(page.locator("header.header")).to_have_count(1)


# The app answers with these statuses on purpose (an invalid form is 422, a stale draft 409, a rate
# limit 429, an unreachable registry 503; htmx swaps them by its responseHandling config). Chromium
# reports every non-2xx response, document or fetch, in the console; that is not an error of the page.
_DELIBERATE_STATUS = re.compile(
    r"^Failed to load resource: the server responded with a status of (409|422|429|503)\b")


def test_only_own_origin_and_no_console_errors(flow, live_server):
    page = flow.page
    requests, console_errors, page_errors = [], [], []

    def on_console(message):
        if message.type != "error":
            return
        location = (message.location or {}).get("url", "")
        if _DELIBERATE_STATUS.match(message.text):
            return
        if not flow.js and re.search(r"/htmx[^/]*\.js$", location) and "net::ERR_FAILED" in message.text:
            return  # the script this context blocks on purpose
        console_errors.append(f"{message.text} (at {location or page.url})")

    page.on("request", lambda request: requests.append(request.url))
    page.on("console", on_console)
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    flow.sign_in()
    flow.lookup("abc", "")
    flow.expect_errors(("alleen uit cijfers", "#kvk_number"), ("Vul een AGB-code in", "#agb_code"))
    flow.lookup(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    flow.expect_registry_notification(UNAVAILABLE_KVK, UNAVAILABLE_AGB)
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])
    flow.submit("Doorgaan")
    flow.expect_errors(("Geef aan of de gegevens kloppen", "#data_correct-0"))
    flow.choose("Nee, er klopt iets niet")
    flow.at("/stap/3/onjuist", H1["incorrect"])
    flow.submit("Opnieuw beginnen vanaf stap 2")
    flow.at("/stap/2", H1[2])
    flow.submit("Opzoeken en doorgaan")
    flow.at("/stap/3", H1[3])
    flow.choose("Ja, de gegevens kloppen")
    flow.at("/stap/4", H1[4])
    page.go_back()
    flow.at("/stap/3", H1[3])
    page.reload()
    flow.at("/stap/3", H1[3])
    flow.log_out()

    assert requests, "no requests were seen"
    foreign = [address for address in requests if not address.startswith(live_server + "/")]
    assert not foreign, f"requests to another origin: {foreign}"
    assert not console_errors, "console errors (CSP violations show up here):\n" + "\n".join(console_errors)
    assert not page_errors, "uncaught page errors:\n" + "\n".join(page_errors)


# ---------------------------------------------------------------------------------------------
# Sessions with htmx.
# ---------------------------------------------------------------------------------------------

def test_htmx_session_warning_comes_after_signing_in_through_swaps(js_flow):
    """SPEC 2: with JavaScript a warning comes 2 minutes before the 30-minute idle timeout.

    The applicant signs in with the e-mail link and goes on with htmx only, without another full
    page load; then the browser's clock moves on 28.5 minutes.
    """
    flow, page = js_flow, js_flow.page
    page.clock.install()
    flow.sign_in()
    flow.lookup(KVK, AGB)
    flow.at("/stap/3", H1[3])

    # The default idle timeout, and the warning 2 minutes before it, as the page states them.
    expect(page.locator("body")).to_have_attribute("data-session-timeout", "1800")
    expect(page.locator("body")).to_have_attribute("data-session-warning", "120")

    page.clock.fast_forward("28:30")
    warning = page.locator("#session-warning")
    expect(warning, "no session warning for an applicant who signed in through htmx swaps").to_be_visible(
        timeout=3_000)
    expect(warning).to_contain_text("Uw sessie verloopt over 2 minuten")
