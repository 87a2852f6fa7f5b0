"""The back office: staff log in with two factors, find applications and act on them."""

import csv
import html as markup
import io
import re
import time

import pyotp
import pytest
from itsdangerous import URLSafeTimedSerializer

from onboarding import mail, staff
from onboarding.spreadsheet import neutralised
from routes import staff_session

from .conftest import (MAIN_CONTACT, SIGNATORY, assert_htmx_posts_disable_their_button, edit_registry, hidden_inputs,
                       table)
from .test_step10 import at_bank, book, choose, identify_signatory, main_contact_browser, submit_with_main_contact

PASSWORD = "correct horse battery"


class Staff:
    """A staff member at a browser of their own."""

    def __init__(self, app, db, username="anna"):
        self.client = app.test_client()
        self.db = db
        self.seal = mail.Seal(app.config["SECRET_KEY"])
        user = staff.create_user(db, username, PASSWORD)
        self.secret = staff.start_enrolment(db, user.id, self.seal)
        self.codes = staff.confirm_enrolment(db, user.id, pyotp.TOTP(self.secret).now(), self.seal)
        self.username = username

    def token(self, path="/beheer/login") -> str:
        html = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def log_in(self, password=PASSWORD, code=None):
        response = self.client.post("/beheer/login", data={"csrf_token": self.token(), "username": self.username,
                                                           "password": password})
        if response.status_code != 303:
            return response
        code = code or pyotp.TOTP(self.secret).at(time.time() + 30)  # the next step: the enrolment used this one
        return self.client.post("/beheer/code", data={"csrf_token": self.token("/beheer/code"), "code": code})

    def post(self, path, data=None, page=None, htmx=False):
        html = self.client.get(page or path).get_data(as_text=True)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        return self.client.post(path, data=fields | (data or {}), headers={"HX-Request": "true"} if htmx else {})


@pytest.fixture
def anna(app, db):
    person = Staff(app, db)
    assert person.log_in().headers["Location"] == "/beheer"
    return person


# -- who may come in --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/beheer", "/beheer/aanvraag/1", "/beheer/trechter", "/beheer/export.csv"])
def test_a_stranger_is_sent_to_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/login"


def test_an_applicants_session_never_opens_the_back_office(submitted):
    assert submitted.get("/beheer").headers["Location"] == "/beheer/login"


def test_a_staff_cookie_does_not_open_an_application(anna):
    assert anna.client.get("/stap/4").headers["Location"] == "/stap/1"
    cookie = anna.client.get_cookie("aansluiten_beheer", path="/beheer")
    assert cookie is not None and cookie.path == "/beheer" and cookie.http_only and cookie.same_site == "Strict"


def test_login_needs_the_second_factor(app, db):
    person = Staff(app, db)
    response = person.client.post("/beheer/login", data={"csrf_token": person.token(), "username": "anna",
                                                         "password": PASSWORD})
    assert response.headers["Location"] == "/beheer/code"
    assert person.client.get("/beheer").headers["Location"] == "/beheer/login"
    wrong = person.client.post("/beheer/code", data={"csrf_token": person.token("/beheer/code"), "code": "000000"})
    assert wrong.status_code == 422 and "Deze code klopt niet" in wrong.get_data(as_text=True)


@pytest.mark.parametrize("username, password", [("anna", "wrong password!"), ("nobody", PASSWORD)])
def test_a_wrong_password_or_user_gives_no_hint(app, db, username, password):
    person = Staff(app, db)
    person.username = username
    response = person.log_in(password=password)
    assert response.status_code == 422
    assert "De gebruikersnaam of het wachtwoord klopt niet." in response.get_data(as_text=True)


def test_login_is_locked_after_five_tries(app, db):
    person = Staff(app, db)
    for _ in range(5):
        person.log_in(password="wrong password!")
    response = person.log_in()
    assert response.status_code == 422 and "te vaak geprobeerd" in response.get_data(as_text=True)


def test_a_recovery_code_logs_in_once(app, db):
    person = Staff(app, db)
    code = person.codes[0]
    response = person.log_in(code=code)
    assert response.headers["Location"] == "/beheer?melding=herstelcode"
    assert "nog 9" in person.client.get(response.headers["Location"]).get_data(as_text=True)
    person.client.post("/beheer/uitloggen", data={"csrf_token": person.token("/beheer")})
    assert person.log_in(code=code).status_code == 422


def test_first_login_enrols_the_second_factor(app, db):
    client = app.test_client()
    staff.create_user(db, "bram", PASSWORD)
    html = client.get("/beheer/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/beheer/login", data={"csrf_token": token, "username": "bram", "password": PASSWORD})
    assert response.headers["Location"] == "/beheer/koppelen"
    page = client.get("/beheer/koppelen").get_data(as_text=True)
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    done = client.post("/beheer/koppelen", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.get_data(as_text=True))) == 10
    assert client.get("/beheer").status_code == 200


def test_a_mistyped_code_or_a_reload_keeps_the_secret_being_enrolled(app, db):
    """The app has stored the secret of the first QR code: a reload or a wrong code must not
    make another, or no code of the app could ever confirm it."""
    client = app.test_client()
    staff.create_user(db, "bram", PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/beheer/login").get_data(as_text=True)).group(1)
    client.post("/beheer/login", data={"csrf_token": token, "username": "bram", "password": PASSWORD})

    def shown(html):
        return re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)

    secret = shown(client.get("/beheer/koppelen").get_data(as_text=True))
    assert shown(client.get("/beheer/koppelen").get_data(as_text=True)) == secret
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 10**6:06d}"
    for code in (wrong, ""):  # refused, and not a code at all
        refused = client.post("/beheer/koppelen", data={"csrf_token": token, "code": code})
        assert refused.status_code == 422 and shown(refused.get_data(as_text=True)) == secret
    done = client.post("/beheer/koppelen", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and staff.by_username(db, "bram").totp_enrolled


def test_a_code_too_long_is_refused_in_the_words_of_the_service(app, db):
    bram = Staff(app, db, "bram")
    bram.client.post("/beheer/login", data={"csrf_token": bram.token(), "username": "bram", "password": PASSWORD})
    response = bram.client.post("/beheer/code", data={"csrf_token": bram.token("/beheer/code"), "code": "1" * 45})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Gebruik hoogstens 40 tekens" in html and "karakters" not in html


def test_a_refused_code_is_not_sent_back(app, db):
    bram = Staff(app, db, "bram")
    bram.client.post("/beheer/login", data={"csrf_token": bram.token(), "username": "bram", "password": PASSWORD})
    response = bram.client.post("/beheer/code", data={"csrf_token": bram.token("/beheer/code"), "code": "ABCD-EFGH-JKLM"})
    assert response.status_code == 422 and "ABCD-EFGH-JKLM" not in response.get_data(as_text=True)


def test_a_refused_password_is_never_sent_back(app, db):
    bram = Staff(app, db, "bram")
    response = bram.client.post("/beheer/login", data={"csrf_token": bram.token(), "username": "bram",
                                                       "password": "not the password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "not the password" not in html
    assert 'value="bram"' in html  # the user name comes back


def test_logout_and_idle_timeout(anna, app):
    assert anna.client.get("/beheer").status_code == 200
    response = anna.client.post("/beheer/uitloggen", data={"csrf_token": anna.token("/beheer")})
    # Post, redirect, get: reloading the page that says so sends nothing again.
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/login?uitgelogd=1"
    assert "U bent uitgelogd uit het beheer" in anna.client.get(response.headers["Location"]).get_data(as_text=True)
    assert anna.client.get("/beheer").headers["Location"] == "/beheer/login"
    anna.log_in()
    app.config["STAFF_IDLE_TIMEOUT"] = -1
    assert anna.client.get("/beheer").headers["Location"] == "/beheer/login"


def staff_session_of(person) -> dict:
    serializer = URLSafeTimedSerializer(person.client.application.secret_key, salt=staff_session.SALT)
    return serializer.loads(person.client.get_cookie(staff_session.COOKIE, path="/beheer").value)


def set_staff_session(person, **changes) -> None:
    serializer = URLSafeTimedSerializer(person.client.application.secret_key, salt=staff_session.SALT)
    person.client.set_cookie(staff_session.COOKIE, serializer.dumps(staff_session_of(person) | changes),
                             path="/beheer")


def test_staff_are_warned_before_the_idle_timeout_as_applicants_are(anna, app):
    """WCAG 2.2.1: the back office's pages warn before its idle timeout ends the session, with a way
    to stay (the staff keep-alive) and, once ended, the way to log in again; the login has none."""
    html = anna.client.get("/beheer").get_data(as_text=True)
    assert 'data-session-timeout="1800"' in html and 'data-session-warning="120"' in html
    assert 'data-keep-alive="/beheer/sessie/verlengen"' in html
    assert "Uw sessie verloopt over 2 minuten" in html and "U bent 28 minuten niet actief geweest." in html
    assert "gaat verloren als uw sessie verloopt" in html
    assert "Om de gegevens van de aanmeldingen te beschermen, bent u uitgelogd." in html
    assert '<a class="button" href="/beheer/login">Opnieuw inloggen</a>' in html
    assert "Vraag een nieuwe link aan" not in html
    login = app.test_client().get("/beheer/login").get_data(as_text=True)
    assert "data-session-timeout" not in login and "session-warning" not in login


def test_the_staff_keep_alive_says_how_long_the_session_lasts_and_a_poll_does_not_extend_it(anna):
    ten_minutes_ago = int(time.time()) - 600
    set_staff_session(anna, seen=ten_minutes_ago)
    asked = anna.client.get("/beheer/sessie/verlengen", headers={"X-Aansluiten-Poll": "1"})
    assert asked.status_code == 204
    assert 1800 + 60 - 600 - 2 <= int(asked.headers["X-Session-Remaining"]) <= 1800 + 60 - 600
    assert staff_session_of(anna)["seen"] == ten_minutes_ago
    kept = anna.client.get("/beheer/sessie/verlengen")
    assert kept.status_code == 204 and int(kept.headers["X-Session-Remaining"]) >= 1800 + 60 - 2
    assert staff_session_of(anna)["seen"] >= ten_minutes_ago + 600 - 2


def test_the_staff_keep_alive_after_the_session_ended_sends_to_the_login_and_remembers_no_page(anna):
    set_staff_session(anna, seen=int(time.time()) - 1800 - 61)
    asked = anna.client.get("/beheer/sessie/verlengen", headers={"X-Aansluiten-Poll": "1"})
    assert asked.status_code == 303 and asked.headers["Location"] == "/beheer/login"
    assert anna.client.get_cookie(staff_session.ASKED_COOKIE, path="/beheer") is None


@pytest.mark.parametrize("asked", ["/beheer/aanvraag/1", "/beheer?q=Z%C3%B6rg&status=submitted", "/beheer/trechter"])
def test_after_logging_in_staff_land_on_the_page_they_asked_for(app, db, asked):
    person = Staff(app, db)
    assert person.client.get(asked).headers["Location"] == "/beheer/login"
    assert person.log_in().headers["Location"] == asked


def test_a_session_that_ran_out_returns_to_its_page_after_logging_in_again(app, db):
    person = Staff(app, db)
    user = staff.by_username(db, person.username)
    serializer = URLSafeTimedSerializer(app.secret_key, salt=staff_session.SALT)
    an_hour_ago = int(time.time()) - 3600
    person.client.set_cookie(staff_session.COOKIE, serializer.dumps(
        {"uid": user.id, "epoch": user.session_epoch, "stage": "ok", "seen": an_hour_ago, "since": an_hour_ago}),
        path="/beheer")
    assert person.client.get("/beheer/trechter").headers["Location"] == "/beheer/login"
    assert "Uw sessie in het beheer is verlopen" in person.client.get("/beheer/login").get_data(as_text=True)
    assert person.log_in().headers["Location"] == "/beheer/trechter"
    assert person.client.get_cookie(staff_session.ASKED_COOKIE, path="/beheer") is None  # once


def test_a_request_without_the_staff_cookie_leaves_the_session_alone(anna, app):
    """SameSite=Strict leaves the cookie off a link followed from another site (a mail, a ticket): such
    a request is sent to the login, and must not overwrite (log out) the session it did not carry."""
    stranger = app.test_client()
    for response in (stranger.get("/beheer/aanvraag/12"),
                     stranger.post("/beheer/aanvraag/12/heropenen", data={"csrf_token": anna.token("/beheer")})):
        assert response.status_code in (303, 400)
        assert not any(header.startswith(staff_session.COOKIE + "=") for header in response.headers.getlist("Set-Cookie"))
    assert anna.client.get("/beheer").status_code == 200


def test_only_a_page_is_remembered_for_after_the_login(app, db):
    person = Staff(app, db)
    person.client.get("/beheer/trechter")
    # A form sent without a session is not sent again, and leaves the list as the way in.
    person.client.post("/beheer/aanvraag/1/heropenen", data={"csrf_token": person.token()})
    assert person.log_in().headers["Location"] == "/beheer"


@pytest.mark.parametrize("draft_id", [10**18 - 1, 2**63 - 1, 2**63, 10**30])
@pytest.mark.parametrize("action", ["", "/heropenen", "/bezoek", "/identificatie/signatory", "/verwijderen"])
def test_an_application_that_no_row_could_hold_is_not_found(anna, draft_id, action):
    path = f"/beheer/aanvraag/{draft_id}{action}"
    response = anna.client.get(path) if not action else anna.client.post(path, data={"csrf_token": anna.token("/beheer")})
    assert response.status_code == 404


def test_logging_out_ends_the_session_on_the_server_too(anna, app):
    # A copy of the cookie (another browser, a stolen one) must not outlive the log-out.
    stolen = app.test_client()
    stolen.set_cookie("aansluiten_beheer", anna.client.get_cookie("aansluiten_beheer", path="/beheer").value,
                      path="/beheer")
    assert stolen.get("/beheer").status_code == 200
    anna.client.post("/beheer/uitloggen", data={"csrf_token": anna.token("/beheer")})
    assert stolen.get("/beheer").headers["Location"] == "/beheer/login"


def test_an_applicants_log_out_in_the_same_browser_leaves_the_back_office_open_in_another_tab(anna, verified):
    # The tab with the back office was loaded before the applicant's log-out in another tab.
    staff_page = hidden_fields(anna.client.get("/beheer").get_data(as_text=True))
    with anna.client.session_transaction() as session:
        session.update(draft=verified.draft()["key"], seen=int(time.time()))
    applicant_page = anna.client.get("/stap/2").get_data(as_text=True)
    assert anna.client.post("/uitloggen", data=hidden_fields(applicant_page)).status_code == 303
    with anna.client.session_transaction() as session:
        assert "draft" not in session
    response = anna.client.post("/beheer/uitloggen", data=staff_page)
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/login?uitgelogd=1"


def test_a_password_reset_ends_the_session(anna, db):
    staff.reset_password(db, "anna", "another good password")
    assert anna.client.get("/beheer").headers["Location"] == "/beheer/login"


# -- the list -----------------------------------------------------------------------------------------


def test_the_list_finds_an_application_by_kvk_name_or_reference(anna, submitted):
    draft = submitted.draft()
    reference = draft["reference"]
    for query in (draft["kvk_number"], draft["company_name"][:8], reference, reference.lower(),
                  reference.replace("-", " "), reference[-6:].lower(),  # read out on the phone, or only its code
                  f"{reference[-6:-3]} {reference[-3:]}"):  # in groups
        html = anna.client.get("/beheer", query_string={"q": query}).get_data(as_text=True)
        assert reference in html and "1 aanmelding" in html, query
    assert "Geen aanmeldingen gevonden" in anna.client.get("/beheer?q=99999999").get_data(as_text=True)


@pytest.mark.parametrize("query, found", [
    ("zuiderhout", True), ("Huisartsen Zuider", True), ("zuider maatschap", True), ("MAATSCHAP", True),
    ("’s-hertogen", True), ("bosch", False), ("artsen", False), ("zuiderhout x", False), ("--", False),
])
def test_a_name_is_found_by_the_start_of_any_of_its_words(anna, verified, registry_path, query, found):
    """A caller says "Zuiderhout", not "Maatschap Huisartsen Zuiderhout": every word typed is the
    start of a word of the name, in any order."""
    edit_registry(registry_path, lambda data: data["companies"][0].update(
        naam="Maatschap Huisartsen Zuiderhout ’s-Hertogenbosch"))
    assert verified.look_up().status_code == 303
    html = anna.client.get("/beheer", query_string={"q": query}).get_data(as_text=True)
    assert ("1 aanmelding" in html) is found, query


@pytest.mark.parametrize("query", ["Huisartsenpraktijk Öztürk", "huisartsenpraktijk öztürk", "HUISARTSENPRAKTIJK ÖZ",
                                   "huisartsenpraktijk ozturk"])
def test_a_name_is_found_whatever_the_case_and_accents_typed(anna, verified, registry_path, query):
    def rename(data):
        data["companies"][0]["naam"] = "Huisartsenpraktijk Öztürk B.V."
    edit_registry(registry_path, rename)
    assert verified.look_up().status_code == 303
    html = anna.client.get("/beheer", query_string={"q": query}).get_data(as_text=True)
    assert "Huisartsenpraktijk Öztürk B.V." in html and "1 aanmelding" in html


@pytest.mark.parametrize("name, query", [
    ("Stichting Zorggroep ’s-Hertogenbosch", "Stichting Zorggroep 's"),
    ("Stichting Zorggroep 's-Hertogenbosch", "Stichting Zorggroep ’s"),
    ("Praktijk O’Neill", "praktijk o`neill"),
    ("Huisartsenpraktijk De Linde", "huisartsenpraktijk  de  l"),  # two spaces typed for one
])
def test_a_name_is_found_whatever_the_apostrophe_typed(anna, verified, registry_path, name, query):
    # A phone types a curly apostrophe for a straight one.
    edit_registry(registry_path, lambda data: data["companies"][0].update(naam=name))
    assert verified.look_up().status_code == 303
    html = anna.client.get("/beheer", query_string={"q": query}).get_data(as_text=True)
    assert "1 aanmelding" in html, query


def test_with_htmx_a_search_says_how_many_it_found(anna, verified):
    assert verified.look_up().status_code == 303
    response = anna.client.get("/beheer", query_string={"q": "41000001"},
                               headers={"HX-Request": "true", "HX-Target": "main"})
    assert '<div id="status" hx-swap-oob="innerHTML">1 aanmelding</div>' in response.get_data(as_text=True)
    # The list as it opens says nothing: nothing was asked.
    plain = anna.client.get("/beheer", headers={"HX-Request": "true", "HX-Target": "main"})
    assert '<div id="status" hx-swap-oob="innerHTML"></div>' in plain.get_data(as_text=True)


def test_the_search_field_takes_no_more_than_the_search_keeps(anna):
    html = anna.client.get("/beheer", query_string={"q": "9" * 150}).get_data(as_text=True)
    assert re.search(r'<input[^>]* name="q" [^>]*value="9{100}" maxlength="100"', html)


def test_a_manual_check_waits_on_top_with_its_days_left(anna, submitted):
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    html = anna.client.get("/beheer").get_data(as_text=True)
    assert "Handmatige controles die wachten (1)" in html and "nog 5 werkdagen" in html
    assert submitted.draft()["reference"] in anna.client.get("/beheer?status=manual_check").get_data(as_text=True)


# -- acting on an application -----------------------------------------------------------------------


def test_settling_a_manual_check_is_audited_with_the_staff_name(anna, submitted, db):
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    draft_id = submitted.draft()["id"]
    page = f"/beheer/aanvraag/{draft_id}"
    assert "Linde" in anna.client.get(page).get_data(as_text=True)
    response = anna.post(f"{page}/identificatie/signatory", {"decision": "approve"}, page=page)
    assert response.status_code == 303
    assert {row["role"]: row["state"] for row in table(db, "identifications")} == {"signatory": "identified"}
    assert ("anna", "manual check of the signatory approved") in [(row["actor"], row["action"])
                                                                 for row in table(db, "audit_log")]


def test_rejecting_needs_a_reason_and_mails_it(anna, submitted, db):
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    refused = anna.post(f"{page}/identificatie/signatory", {"decision": "reject"}, page=page)
    assert refused.status_code == 422 and "Vul de reden van afwijzen in" in refused.get_data(as_text=True)
    anna.post(f"{page}/identificatie/signatory", {"decision": "reject", "reason": "Andere achternaam"}, page=page)
    assert table(db, "identifications")[0]["state"] == "rejected"
    text, _html = submitted.last_mail(SIGNATORY["email"])
    assert "Andere achternaam" in text


def test_both_persons_waiting_for_a_check_get_forms_with_ids_of_their_own(anna, submitted, db):
    """Two checks on one page: each label, hint and error link points into its own person's form,
    and each table of claims is a region named after its person."""
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    at_bank(main_contact_browser(submitted).client, "/persoon/identificeren", "/persoon", surname="Janssens")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    html = anna.client.get(page).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted(ids) == sorted(set(ids))
    for role in ("signatory", "main_contact"):
        assert f'for="{role}-decision-1"' in html and f'id="{role}-reason-hint"' in html
    regions = re.findall(r'role="region" aria-label="(Ingevuld en teruggekomen van de bank[^"]*)"', html)
    assert len(regions) == 2 and len(set(regions)) == 2
    refused = anna.post(f"{page}/identificatie/main_contact", {"decision": "reject"}, page=page)
    assert refused.status_code == 422 and 'href="#main_contact-reason"' in refused.get_data(as_text=True)


def test_a_visit_of_one_person_holding_both_roles_is_recorded_of_that_person(anna, signed):
    applicant = submit_with_main_contact(signed, "appointment", shortcut=True)
    book(applicant)
    html = anna.client.get(f"/beheer/aanvraag/{applicant.draft()['id']}").get_data(as_text=True)
    assert "De tekenbevoegde, ook hoofdcontactpersoon, is geïdentificeerd" in html
    assert "Beide personen" not in html


def test_after_a_rejection_the_pages_point_to_a_visit_and_start_no_bank_again(anna, submitted, db):
    """The rejection mail says that only a visit identifies the person now: step 10 and the
    person's own page say so too, without the iDIN button, and its POST starts nothing."""
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    main_contact = main_contact_browser(submitted)
    at_bank(main_contact.client, "/persoon/identificeren", "/persoon", surname="Janssens")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    for role in ("signatory", "main_contact"):
        rejected = anna.post(f"{page}/identificatie/{role}", {"decision": "reject", "reason": "Andere naam"}, page=page)
        assert rejected.status_code == 303
    step_10 = submitted.get("/stap/10").get_data(as_text=True)
    assert "De identificatie van M. van der Linden via de bank is afgewezen" in step_10
    assert "De identificatie van J. Jansen via de bank is afgewezen" in step_10
    assert "Identificeren met iDIN" not in step_10
    assert "/aanmelding/stand" not in step_10  # nothing to wait for: the next move is the applicant's
    own = main_contact.client.get("/persoon").get_data(as_text=True)
    assert "Uw identificatie via de bank is afgewezen" in own and "Identificeren met iDIN" not in own
    requests = len(table(db, "identity_requests"))
    assert submitted.submit("/stap/10/identificeren", page="/stap/10").headers["Location"] == "/stap/10"
    token = re.search(r'"X-CSRFToken": "([^"]+)"', own).group(1)  # the page has no form of its own now
    posted = main_contact.client.post("/persoon/identificeren", headers={"X-CSRFToken": token})
    assert posted.status_code == 303 and posted.headers["Location"] == "/persoon"
    assert len(table(db, "identity_requests")) == requests


def test_a_visit_nobody_was_at_is_said_where_a_new_one_is_chosen(anna, submitted, db):
    """"Niemand aanwezig" ends the visit: step 10, the status page and the person's own page say
    that nobody was there, beside the form for a new one, until one is booked."""
    choose(submitted, "appointment")
    book(submitted)
    person = main_contact_browser(submitted)
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    assert anna.post(f"{page}/bezoek", {"outcome": "no_show"}, page=page).status_code == 303
    missed = "was niemand aanwezig. Kies"
    assert missed in submitted.get("/stap/10").get_data(as_text=True)
    assert missed in submitted.get("/aanmelding").get_data(as_text=True)
    assert missed in person.client.get("/persoon").get_data(as_text=True)
    for who in (SIGNATORY, MAIN_CONTACT):
        [row] = [row for row in table(db, "outbox") if row["recipient"] == who["email"]
                 and row["subject"].startswith("Afspraak niet doorgegaan")]
        assert row["attachment"] is None
        text, html = submitted.last_mail(who["email"])
        assert "maar er was niemand aanwezig. Maak via de link hieronder een nieuwe afspraak." in text
        assert "Een nieuwe afspraak maken:" in text
        link = re.search(r"https?://[^/\s]+(/persoon/[\w-]+)", text).group(1)
        assert f'{link}">' in html
        # The link leads to the person's page, where a new visit is chosen.
        someone = submitted.client.application.test_client()
        opened = someone.get(link, follow_redirects=True)
        someone.post("/persoon/bevestig", data=hidden_inputs(opened.get_data(as_text=True)))
        assert missed in someone.get("/persoon").get_data(as_text=True)
    assert book(submitted).status_code == 303
    assert missed not in submitted.get("/stap/10").get_data(as_text=True)
    assert missed not in submitted.get("/aanmelding").get_data(as_text=True)


def test_a_rejection_sent_from_the_back_office_in_english_is_mailed_in_dutch(anna, submitted, db):
    """Staff may read the back office in English; the person the mail goes to is not them."""
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    anna.client.set_cookie("taal", "en")
    answer = anna.post(f"{page}/identificatie/signatory", {"decision": "reject", "reason": "Andere naam"}, page=page)
    assert answer.status_code == 303
    text, html = submitted.last_mail(SIGNATORY["email"])
    assert text.startswith("Beste M. van der Linden,") and "Uw identificatie is afgewezen" in text
    assert 'lang="nl"' in html
    assert '<html lang="en">' in anna.client.get(page).get_data(as_text=True)  # the back office stays English


def test_recording_a_visit_completes_after_signing(anna, submitted, db):
    choose(submitted, "appointment")
    book(submitted)
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    assert anna.post(f"{page}/bezoek", {"outcome": "signed"}, page=page).status_code == 303
    assert submitted.draft()["status"] == "completed"
    subjects = [row["subject"] for row in table(db, "outbox") if row["recipient"] == MAIN_CONTACT["email"]]
    assert any("is rond" in subject for subject in subjects)


def test_two_staff_on_one_application_the_second_gets_a_stale_message(app, anna, submitted, db):
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    bram = Staff(app, db, "bram")
    bram.log_in()
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    anna_form = anna.client.get(page).get_data(as_text=True)
    bram_form = bram.client.get(page).get_data(as_text=True)
    fields = lambda html: dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))  # noqa: E731
    first = anna.client.post(f"{page}/identificatie/signatory", data=fields(anna_form) | {"decision": "approve"})
    second = bram.client.post(f"{page}/identificatie/signatory",
                              data=fields(bram_form) | {"decision": "reject", "reason": "x"})
    assert first.status_code == 303 and second.status_code == 409
    assert STALE in second.get_data(as_text=True)
    assert table(db, "identifications")[0]["state"] == "identified"


def hidden_fields(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


STALE = "Deze aanmelding is intussen gewijzigd, door een collega of door de aanvrager."


def assert_refused(response, message: str) -> None:
    """A 409 that says what is true, and blames no colleague."""
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and message in html and STALE not in html


def no_check(role: str) -> str:
    return f"Voor de {role} is geen handmatige controle (meer) nodig."


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("situation, role, name", [
    ("not identified yet", "signatory", "tekenbevoegde"),
    ("identified by the bank", "signatory", "tekenbevoegde"),
    ("only the other person waits", "main_contact", "hoofdcontactpersoon"),
])
def test_settling_a_person_who_waits_for_no_check_says_so(anna, submitted, db, situation, role, name, htmx):
    choose(submitted, "online")
    if situation == "identified by the bank":
        identify_signatory(submitted)
    elif situation == "only the other person waits":
        identify_signatory(submitted, surname="Linde")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    before = (submitted.draft()["version"], table(db, "identifications"), len(table(db, "audit_log")))
    response = anna.post(f"{page}/identificatie/{role}", {"decision": "approve"}, page=page, htmx=htmx)
    assert_refused(response, no_check(name))
    assert (submitted.draft()["version"], table(db, "identifications"), len(table(db, "audit_log"))) == before


def test_settling_a_check_twice_is_not_blamed_on_a_colleague(anna, submitted, db):
    # Sent twice (a double click without JavaScript, or Back and again): the first one counts.
    choose(submitted, "online")
    identify_signatory(submitted, surname="Linde")
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    fields = hidden_fields(anna.client.get(page).get_data(as_text=True))
    first = anna.client.post(f"{page}/identificatie/signatory", data=fields | {"decision": "approve"})
    again = anna.client.post(f"{page}/identificatie/signatory", data=fields | {"decision": "reject", "reason": "x"})
    assert first.status_code == 303
    assert_refused(again, no_check("tekenbevoegde"))
    assert table(db, "identifications")[0]["state"] == "identified"


def test_a_visit_recorded_on_a_completed_application_says_it_is_completed(anna, submitted, db):
    draft = completed_by_a_visit(anna, submitted)
    page = f"/beheer/aanvraag/{draft['id']}"
    # The detail has no visit form any more: the fields of a page of the same version.
    response = anna.post(f"{page}/bezoek", {"outcome": "identified"}, page=f"{page}/verwijderen")
    assert_refused(response, "Deze aanmelding is al afgerond: er valt geen bezoek meer vast te leggen.")
    assert submitted.draft()["version"] == draft["version"]


RECORDED = "Het bezoek is al vastgelegd: er valt geen tweede uitkomst vast te leggen."


@pytest.mark.parametrize("first, second, message", [
    # Signed at the visit: the application is completed.
    ("signed", "signed", "Deze aanmelding is al afgerond: er valt geen bezoek meer vast te leggen."),
    # Identified at the visit: it waits for the signature, and the visit has its outcome.
    ("identified", "no_show", RECORDED),
])
def test_a_visit_recorded_twice_is_not_blamed_on_a_colleague(anna, submitted, db, first, second, message):
    # Sent twice (a double click without JavaScript, or Back and again): the first one counts.
    choose(submitted, "appointment")
    book(submitted)
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    fields = hidden_fields(anna.client.get(page).get_data(as_text=True))
    assert anna.client.post(f"{page}/bezoek", data=fields | {"outcome": first}).status_code == 303
    again = anna.client.post(f"{page}/bezoek", data=fields | {"outcome": second})
    assert_refused(again, message)
    assert table(db, "appointments")[0]["outcome"] == first


def identified_at_the_visit(anna, applicant) -> str:
    """A visit at which both persons showed their ID: the application waits for the signature."""
    choose(applicant, "appointment")
    book(applicant)
    page = f"/beheer/aanvraag/{applicant.draft()['id']}"
    assert anna.post(f"{page}/bezoek", {"outcome": "identified"}, page=page).status_code == 303
    assert applicant.draft()["status"] == "submitted"
    return page


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("outcome", ["no_show", "identified", "signed"])
def test_a_visit_with_an_outcome_is_not_recorded_again(anna, submitted, db, outcome, htmx):
    page = identified_at_the_visit(anna, submitted)
    assert "Uitkomst van het bezoek vastleggen" not in anna.client.get(page).get_data(as_text=True)
    before = (submitted.draft()["version"], table(db, "appointments"), table(db, "identifications"))
    # The detail offers no visit form any more: the fields of a page of the same version.
    response = anna.post(f"{page}/bezoek", {"outcome": outcome}, page=f"{page}/verwijderen", htmx=htmx)
    assert_refused(response, RECORDED)
    assert (submitted.draft()["version"], table(db, "appointments"), table(db, "identifications")) == before
    [visit] = table(db, "appointments")
    assert visit["outcome"] == "identified" and visit["cancelled_at"] is None


@pytest.mark.parametrize("first", ["signed", "identified"])
def test_a_visit_outcome_a_colleague_recorded_meanwhile_gets_the_stale_message(app, anna, submitted, db, first):
    choose(submitted, "appointment")
    book(submitted)
    bram = Staff(app, db, "bram")
    bram.log_in()
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    bram_fields = hidden_fields(bram.client.get(page).get_data(as_text=True))
    assert anna.post(f"{page}/bezoek", {"outcome": first}, page=page).status_code == 303
    late = bram.client.post(f"{page}/bezoek", data=bram_fields | {"outcome": "no_show"})
    assert late.status_code == 409 and STALE in late.get_data(as_text=True)
    assert table(db, "appointments")[0]["outcome"] == first


def test_after_the_visit_the_status_and_person_pages_say_both_are_identified(anna, submitted, db):
    page = identified_at_the_visit(anna, submitted)
    anna.post(f"{page}/bezoek", {"outcome": "no_show"}, page=f"{page}/verwijderen")  # refused
    status = submitted.get("/aanmelding").get_data(as_text=True)
    assert "Kies op stap 10 een tijdstip voor het bezoek." not in status
    # What took place, not what is to come.
    assert "Een medewerker van AMP Groep is op " in status and "langsgekomen op" in status and "komt op" not in status
    assert status.count("is geïdentificeerd.") == 2
    detail = anna.client.get(page).get_data(as_text=True)
    assert detail.count("Geïdentificeerd (bij het bezoek)") == 2 and "<dt>Afspraak</dt>" in detail
    main_contact = main_contact_browser(submitted).client.get("/persoon").get_data(as_text=True)
    assert "U bent geïdentificeerd. Verder hoeft u niets te doen." in main_contact


ALREADY_OPEN = "Deze aanmelding hoeft niet te worden heropend: de aanvrager kan haar al wijzigen."


def test_reopening_an_application_that_is_open_already_says_so(anna, submitted):
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    fields = hidden_fields(anna.client.get(page).get_data(as_text=True))
    assert anna.client.post(f"{page}/heropenen", data=fields).status_code == 303
    again = anna.client.post(f"{page}/heropenen", data=fields)  # sent twice
    assert_refused(again, ALREADY_OPEN)
    assert "het ondertekenen is begonnen" not in again.get_data(as_text=True)
    # Posted at the version it has now (not from a page, which offers no reopen for a draft).
    current = anna.post(f"{page}/heropenen", page=f"{page}/verwijderen")
    assert_refused(current, ALREADY_OPEN)


def test_an_application_the_applicant_reopened_meanwhile_is_not_blamed_on_a_colleague(anna, submitted):
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    fields = hidden_fields(anna.client.get(page).get_data(as_text=True))
    assert submitted.submit("/aanmelding/wijzigen", page="/aanmelding").status_code == 303
    assert_refused(anna.client.post(f"{page}/heropenen", data=fields), ALREADY_OPEN)


def test_an_application_a_colleague_reopened_meanwhile_gets_the_stale_message(app, anna, submitted, db):
    bram = Staff(app, db, "bram")
    bram.log_in()
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    bram_fields = hidden_fields(bram.client.get(page).get_data(as_text=True))
    assert anna.post(f"{page}/heropenen", page=page).status_code == 303
    late = bram.client.post(f"{page}/heropenen", data=bram_fields)
    assert late.status_code == 409 and STALE in late.get_data(as_text=True)


@pytest.mark.parametrize("method, form", [("online", "Handmatige controle"), ("appointment", "Uitkomst van het bezoek")])
def test_the_detail_disables_its_buttons_while_sending(anna, submitted, method, form):
    choose(submitted, method)
    if method == "online":
        identify_signatory(submitted, surname="Linde")  # a manual check to settle
    else:
        book(submitted)  # a visit to record
    html = anna.client.get(f"/beheer/aanvraag/{submitted.draft()['id']}").get_data(as_text=True)
    assert form in html and "Heropenen voor een wijziging" in html
    assert_htmx_posts_disable_their_button(html)


def test_reopen_and_delete_are_audited(anna, submitted, db):
    draft_id = submitted.draft()["id"]
    page = f"/beheer/aanvraag/{draft_id}"
    assert anna.post(f"{page}/heropenen", page=page).status_code == 303
    assert submitted.draft()["status"] == "draft"
    assert anna.post(f"{page}/verwijderen").headers["Location"] == "/beheer"  # from the confirmation's form
    assert table(db, "drafts") == [] and table(db, "persons") == []
    assert any(row["actor"] == "anna" and "deleted" in row["action"] for row in table(db, "audit_log"))


# -- deleting: a page asks first ----------------------------------------------------------------------


def completed_by_a_visit(anna, applicant) -> dict:
    """An application completed and signed on paper at the visit: what must never go with one click."""
    choose(applicant, "appointment")
    book(applicant)
    page = f"/beheer/aanvraag/{applicant.draft()['id']}"
    assert anna.post(f"{page}/bezoek", {"outcome": "signed"}, page=page).status_code == 303
    draft = applicant.draft()
    assert draft["status"] == "completed"
    return draft


def test_the_detail_asks_first_rather_than_deleting(anna, submitted):
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    html = anna.client.get(page).get_data(as_text=True)
    assert re.search(rf'<a class="button button--warning" href="{page}/verwijderen"[^>]*>Aanmelding verwijderen</a>',
                     html)
    assert f'action="{page}/verwijderen"' not in html  # no form on the detail posts the delete


@pytest.mark.parametrize("htmx", [False, True])
def test_the_confirmation_names_the_application_and_says_what_is_lost(anna, submitted, htmx):
    draft = completed_by_a_visit(anna, submitted)
    page = f"/beheer/aanvraag/{draft['id']}"
    response = anna.client.get(f"{page}/verwijderen", headers={"HX-Request": "true"} if htmx else {})
    html = response.get_data(as_text=True)
    title = f"Weet u zeker dat u aanmelding {draft['reference']} wilt verwijderen?"
    assert response.status_code == 200 and f"<title>{title} - " in html
    assert ("<html" not in html and html.startswith("<title>")) if htmx else "<html" in html
    assert f'<h1 class="heading" tabindex="-1">{title}</h1>' in html
    summary = re.search(r'<dl class="summary">(.*?)</dl>', html, re.S).group(1)
    for shown in (draft["reference"], markup.escape(draft["company_name"]), "Afgerond"):
        assert shown in summary, shown
    assert "de overeenkomst, de verstuurde e-mails en het logboek" in html
    assert "Dit kan niet ongedaan worden gemaakt." in html
    form = re.search(rf'<form method="post" action="{page}/verwijderen"[^>]*>(.*?)</form>', html, re.S).group(1)
    assert 'name="csrf_token"' in form and f'name="version" value="{draft["version"]}"' in form
    assert '<button type="submit" class="button button--warning">Ja, definitief verwijderen</button>' in form
    assert re.search(rf'<a href="{page}" hx-get="{page}"[^>]*>Nee, terug naar de aanmelding</a>', form)
    assert_htmx_posts_disable_their_button(html)


@pytest.mark.parametrize("htmx", [False, True])
def test_looking_at_the_confirmation_never_deletes(anna, submitted, db, htmx):
    before = table(db, "drafts")
    for _ in range(2):
        response = anna.client.get(f"/beheer/aanvraag/{submitted.draft()['id']}/verwijderen",
                                   headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200 and "Ja, definitief verwijderen" in response.get_data(as_text=True)
    assert table(db, "drafts") == before and table(db, "persons")


@pytest.mark.parametrize("htmx", [False, True])
def test_confirming_deletes_the_application_and_audits_it(anna, submitted, db, htmx):
    draft = completed_by_a_visit(anna, submitted)
    response = anna.post(f"/beheer/aanvraag/{draft['id']}/verwijderen", htmx=htmx)
    if htmx:
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/beheer"
        assert html.startswith("<title>Aanmeldingen - ") and "De aanmelding is verwijderd." in html
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/beheer"
    assert table(db, "drafts") == [] and table(db, "persons") == []
    assert SIGNATORY["email"] not in [row["recipient"] for row in table(db, "outbox")]  # its mails go too
    assert ("anna", f"application {draft['reference']} deleted") in [(row["actor"], row["action"])
                                                                     for row in table(db, "audit_log")]


def test_a_delete_posted_without_the_confirmation_still_needs_its_token_and_version(anna, submitted, db):
    confirm = f"/beheer/aanvraag/{submitted.draft()['id']}/verwijderen"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             anna.client.get(confirm).get_data(as_text=True)))
    no_token = anna.client.post(confirm, data={"version": fields["version"]})
    assert no_token.status_code == 400 and "Deze pagina stond te lang open" in no_token.get_data(as_text=True)
    for version in ("", str(int(fields["version"]) - 1)):
        stale = anna.client.post(confirm, data=fields | {"version": version})
        assert stale.status_code == 409 and STALE in stale.get_data(as_text=True)
    assert len(table(db, "drafts")) == 1


def test_a_reopen_by_staff_cancels_a_booked_visit_and_tells_both_persons(anna, submitted, db):
    # As the applicant's own reopen does: nobody waits for a visit that will not come.
    choose(submitted, "appointment")
    assert book(submitted).status_code == 303
    page = f"/beheer/aanvraag/{submitted.draft()['id']}"
    assert anna.post(f"{page}/heropenen", page=page).status_code == 303
    cancelled = [row["recipient"] for row in table(db, "outbox") if row["subject"].startswith("Afspraak geannuleerd")]
    assert sorted(cancelled) == sorted([SIGNATORY["email"], MAIN_CONTACT["email"]])
    assert all(row["cancelled_at"] for row in table(db, "appointments"))


def test_the_detail_shows_mails_without_their_links(anna, submitted):
    choose(submitted, "online")
    html = anna.client.get(f"/beheer/aanvraag/{submitted.draft()['id']}").get_data(as_text=True)
    assert "Identificeer u voor de VECOZO-aansluiting" in html and "/persoon/" not in html


# -- funnel and export ---------------------------------------------------------------------------------


def test_the_funnel_counts_from_the_audit_log(anna, submitted, db):
    # A second draft that stopped at step 2 (its audit log goes no further than step 1).
    db.conn.execute("INSERT INTO drafts (key, email, created_at, updated_at) VALUES ('k2', 'b@c.nl', ?, ?)",
                    (submitted.draft()["created_at"],) * 2)
    other = db.conn.execute("SELECT id FROM drafts WHERE key = 'k2'").fetchone()[0]
    db.conn.execute("INSERT INTO audit_log (draft_id, at, actor, step, action) VALUES (?, '2026-01-01', 'applicant', 1, "
                    "'e-mail address verified')", (other,))
    html = anna.client.get("/beheer/trechter").get_data(as_text=True)
    assert "<svg" in html and "2 aanmeldingen begonnen" in html
    cells = re.findall(r'<tr><th scope="row">(\d+)</th><td>(\d+)</td><td>(\d+)</td></tr>', html)
    assert cells[0] == ("1", "2", "0") and cells[1] == ("2", "2", "1") and cells[9] == ("10", "1", "1")


def test_the_export_opens_in_dutch_spreadsheets_with_formulas_neutralised(anna, submitted, db):
    db.conn.execute("UPDATE drafts SET status = 'completed', completed_at = '2026-11-29T10:00:00+00:00', "
                    "company_name = '=HYPERLINK(\"http://evil\")'")
    response = anna.client.get("/beheer/export.csv")
    body = response.get_data()
    assert body.startswith("\ufeff".encode()) and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "kenmerk" and len(rows) == 1 + 3  # a row per AGB code
    assert all(row[1].startswith("'=") for row in rows[1:])


def test_the_status_filter_has_an_id_of_its_own_beside_the_live_region(anna):
    html = anna.client.get("/beheer").get_data(as_text=True)
    assert html.count('id="status"') == 1  # the live region
    assert '<label class="label" for="status-filter">' in html and 'id="status-filter" name="status"' in html


def test_the_export_gives_phone_numbers_as_stored_without_a_quote(anna, submitted, db):
    db.conn.execute("UPDATE drafts SET status = 'completed', completed_at = '2026-11-29T10:00:00+00:00'")
    body = anna.client.get("/beheer/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    phones = [row[rows[0].index("telefoon_1")] for row in rows[1:]]
    assert phones and set(phones) <= {"+31687654321", "+31302345678"}


@pytest.mark.parametrize("cell, shown", [
    ("+31612345678", "+31612345678"),  # a phone number as stored (E.164): a number, never a formula
    ("+3225551234", "+3225551234"),
    ("+1234567", "+1234567"),
    ("+123456789012345", "+123456789012345"),
    ("+123456", "'+123456"),  # too short or too long for E.164: guarded like any other "+"
    ("+1234567890123456", "'+1234567890123456"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
    ("+31612345678\n=1", "'+31612345678\n=1"),
    ("+31 6 12345678", "'+31 6 12345678"),
    ("=1+1", "'=1+1"), ("-2", "'-2"), ("@x", "'@x"), ("030 234 5678", "030 234 5678"),
])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_a_quote(cell, shown):
    assert neutralised(cell) == shown
