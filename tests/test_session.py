"""Sessions: the idle timeout, and a restart that keeps every saved answer."""

import json
import time

import pytest

from app import create_app

from .conftest import MAIN_CONTACT, Applicant, element, hidden_inputs, table


def idle(client, seconds):
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - seconds


def test_an_active_session_goes_on(looked_up):
    idle(looked_up.client, 29 * 60)
    assert looked_up.get("/stap/3").status_code == 200


def test_a_session_never_ends_before_the_pages_countdown(looked_up):
    # `seen` moves once a minute: the last request may have come up to a minute after it, and the
    # page counts the timeout from that request. So the server gives the session that minute.
    idle(looked_up.client, 30 * 60 + 50)
    assert looked_up.get("/stap/3").status_code == 200
    idle(looked_up.client, 31 * 60 + 1)
    assert looked_up.get("/stap/3").headers["Location"] == "/sessie-verlopen"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_idle_session_ends_with_a_clear_page(looked_up, htmx):
    idle(looked_up.client, 32 * 60)
    response = looked_up.get("/stap/3", htmx=htmx)
    if htmx:
        assert response.headers["HX-Redirect"] == "/sessie-verlopen"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/sessie-verlopen"
    html = looked_up.get("/sessie-verlopen").get_data(as_text=True)
    assert "Uw sessie is verlopen" in html and "is bewaard" in html
    assert 'name="email"' in html
    # The session no longer opens the draft, but the draft is all there.
    assert looked_up.get("/stap/3").headers["Location"] == "/stap/1"
    assert looked_up.draft()["kvk_number"] == "41000001"


def test_a_form_posted_after_the_timeout_meets_the_expiry_page_not_a_csrf_error(looked_up):
    page = looked_up.get("/stap/3").get_data(as_text=True)
    idle(looked_up.client, 32 * 60)
    response = looked_up.client.post("/stap/3", data={**hidden_inputs(page), "data_correct": "yes"})
    assert response.headers["Location"] == "/sessie-verlopen"
    assert looked_up.draft()["data_correct"] is None


def test_a_page_asking_whether_the_session_ended_leaves_the_ending_to_the_applicants_next_request(looked_up):
    # The idle warning asks (as a polling page does, without counting as activity) once the time is up;
    # the form the applicant then sends must meet the page that says the session ended, not step 1.
    page = looked_up.get("/stap/3").get_data(as_text=True)
    idle(looked_up.client, 32 * 60)
    asked = looked_up.client.get("/sessie/verlengen", headers={"X-Aansluiten-Poll": "1"})
    assert asked.status_code == 303 and asked.headers["Location"] == "/sessie-verlopen"
    response = looked_up.client.post("/stap/3", data={**hidden_inputs(page), "data_correct": "yes"})
    assert response.headers["Location"] == "/sessie-verlopen"
    assert looked_up.draft()["data_correct"] is None


def test_a_new_link_after_expiry_resumes_where_the_applicant_was(looked_up):
    idle(looked_up.client, 32 * 60)
    looked_up.get("/stap/3")
    assert looked_up.submit("/stap/1", {"email": "praktijk@example.nl"}, page="/sessie-verlopen").status_code == 303
    response = looked_up.open_link(looked_up.last_link("praktijk@example.nl"))
    assert response.headers["Location"] == "/stap/3"


@pytest.mark.parametrize("away, poll, left", [
    # At the end of the page's countdown, the session still has the minute by which `seen` may lag.
    (30 * 60, True, 60),
    (30 * 60 + 45, True, 15),
    # Another tab was busy a minute ago: a whole timeout from then.
    (60, True, 30 * 60 - 60 + 60),
    # "Ik ben er nog": a whole timeout from now, and the lag.
    (28 * 60, False, 30 * 60 + 60),
])
def test_keep_alive_says_how_long_the_session_lasts(looked_up, away, poll, left):
    idle(looked_up.client, away)
    response = looked_up.client.get("/sessie/verlengen", headers={"X-Aansluiten-Poll": "1"} if poll else {})
    assert response.status_code == 204
    assert abs(int(response.headers["X-Session-Remaining"]) - left) <= 2


def test_keep_alive_after_a_log_out_in_another_tab_says_the_session_has_ended(looked_up):
    # The other tab's idle warning asks at the end of its countdown: nothing lasts any more.
    page = looked_up.get("/stap/3").get_data(as_text=True)
    assert looked_up.client.post("/uitloggen", data=hidden_inputs(page)).status_code == 303
    asked = looked_up.client.get("/sessie/verlengen", headers={"X-Aansluiten-Poll": "1"})
    assert asked.status_code == 303 and asked.headers["Location"] == "/sessie-verlopen"


def test_keep_alive_touches_the_session(looked_up):
    idle(looked_up.client, 28 * 60)
    assert looked_up.get("/sessie/verlengen").status_code == 204
    with looked_up.client.session_transaction() as session:
        assert time.time() - session["seen"] < 5


def test_pages_with_a_session_carry_the_warning_dialog(looked_up, client):
    assert 'data-session-timeout="1800"' in looked_up.get("/stap/3").get_data(as_text=True)


def test_a_restart_of_the_app_keeps_the_draft_and_the_session(looked_up, app, db):
    cookie = looked_up.client.get_cookie("aansluiten").value
    restarted = create_app(dict(app.config))
    client = restarted.test_client()
    client.set_cookie("aansluiten", cookie)
    response = client.get("/stap/3")
    assert response.status_code == 200
    assert "Huisartsenpraktijk De Linde B.V." in response.get_data(as_text=True)
    after = Applicant(client, db)
    assert after.confirm().headers["Location"] == "/stap/4"


@pytest.mark.parametrize("url", ["/", "/sessie/verlengen", "/demo/mailbox"])
def test_an_idle_session_says_so_on_any_page(looked_up, url):
    idle(looked_up.client, 32 * 60)
    response = looked_up.get(url)
    assert response.status_code == 303 and response.headers["Location"] == "/sessie-verlopen"


def test_a_new_link_after_expiry_is_not_sent_to_the_expiry_page(looked_up):
    looked_up.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = looked_up.last_link("praktijk@example.nl")
    idle(looked_up.client, 32 * 60)
    assert looked_up.get(link, follow_redirects=True).status_code == 200
    assert looked_up.open_link(link).headers["Location"] == "/stap/3"


def test_the_status_page_polling_does_not_keep_an_idle_session_alive(submitted):
    idle(submitted.client, 10 * 60)
    headers = {"HX-Request": "true", "HX-Target": "status-tasks", "X-Aansluiten-Poll": "1"}
    assert submitted.client.get("/aanmelding", headers=headers).status_code == 200
    with submitted.client.session_transaction() as session:
        assert time.time() - session["seen"] >= 10 * 60 - 5
    # A click of the applicant does.
    assert submitted.get("/aanmelding").status_code == 200
    with submitted.client.session_transaction() as session:
        assert time.time() - session["seen"] < 5


def test_a_person_link_session_ends_with_the_idle_timeout_too(submitted, app):
    from .test_step10 import choose, main_contact_browser

    choose(submitted, "online")
    other = main_contact_browser(submitted)
    assert other.get("/persoon").status_code == 200
    idle(other.client, 32 * 60)
    response = other.get("/persoon")
    assert response.status_code == 303 and response.headers["Location"] == "/sessie-verlopen"
    assert other.get("/persoon").status_code == 404


# -- a form sent after the session ended (SPEC §2: nothing is lost by an expired session) --------

def come_back(applicant, email="praktijk@example.nl"):
    """A new link asked for on the expiry page and opened in the same browser."""
    assert applicant.submit("/stap/1", {"email": email}, page="/sessie-verlopen").status_code == 303
    return applicant.open_link(applicant.last_link(email))


@pytest.mark.parametrize("htmx", [False, True])
def test_a_form_sent_after_the_session_ended_is_kept_and_filled_in_again_after_a_new_link(signed, db, htmx):
    page = signed.get("/stap/5").get_data(as_text=True)
    idle(signed.client, 32 * 60)
    typed = {**hidden_inputs(page), **MAIN_CONTACT}
    response = signed.client.post("/stap/5", data=typed, headers={"HX-Request": "true"} if htmx else {})
    assert (response.headers.get("HX-Redirect") or response.headers["Location"]) == "/sessie-verlopen"
    assert [row for row in table(db, "persons") if row["role"] == "main_contact"] == []  # not saved: the session had ended
    # Kept sealed: the cookie is signed, not encrypted, and holds no personal data (SPEC §3).
    with signed.client.session_transaction() as session:
        kept = json.dumps(dict(session), ensure_ascii=False)
    assert "unsent" in kept and not any(value in kept for value in ("Jansen", "8765", "stap/5"))
    expired = signed.get("/sessie-verlopen").get_data(as_text=True)
    assert "Wij hebben het in deze browser bewaard" in expired

    assert come_back(signed).headers["Location"] == "/stap/5"
    html = signed.get("/stap/5").get_data(as_text=True)
    assert "staat hieronder weer. Het is nog niet opgeslagen" in html
    assert element(html, "surname")["value"] == "Jansen" and element(html, "mobile")["value"] == "+31 6 8765 4321"
    assert "checked" in element(html, "employed")
    assert [row for row in table(db, "persons") if row["role"] == "main_contact"] == []  # still the applicant's to send
    # Once: the next visit shows the draft as stored.
    again = signed.get("/stap/5").get_data(as_text=True)
    assert element(again, "surname")["value"] == "" and "Het is nog niet opgeslagen" not in again
    # Sent, it is saved as any form is.
    assert signed.submit("/stap/5", MAIN_CONTACT).headers["Location"] == "/stap/6"


def test_a_change_sent_from_the_summary_after_the_session_ended_comes_back_on_its_page(signed):
    page = signed.get("/stap/4?terug=overzicht").get_data(as_text=True)
    idle(signed.client, 32 * 60)
    signed.client.post("/stap/4?terug=overzicht", data={**hidden_inputs(page), "surname": "Linden-Bos",
                                                        "initials": "M.", "signatory": "f1"})
    assert come_back(signed).headers["Location"] == "/stap/4?terug=overzicht"
    assert element(signed.get("/stap/4?terug=overzicht").get_data(as_text=True), "surname")["value"] == "Linden-Bos"


def test_a_kept_form_goes_only_to_the_draft_it_was_typed_for(signed):
    page = signed.get("/stap/5").get_data(as_text=True)
    idle(signed.client, 32 * 60)
    signed.client.post("/stap/5", data={**hidden_inputs(page), **MAIN_CONTACT})
    # Another address in this browser: a draft of its own, which never sees the kept form.
    assert come_back(signed, "iemand.anders@example.nl").headers["Location"] == "/stap/2"
    assert "Het is nog niet opgeslagen" not in signed.get("/stap/2").get_data(as_text=True)


def test_a_form_too_large_for_the_session_is_not_kept_and_the_expiry_page_does_not_claim_it(signed):
    page = signed.get("/stap/5").get_data(as_text=True)
    idle(signed.client, 32 * 60)
    signed.client.post("/stap/5", data={**hidden_inputs(page), **MAIN_CONTACT, "surname": "J" * 3000})
    assert "in deze browser bewaard" not in signed.get("/sessie-verlopen").get_data(as_text=True)
    assert come_back(signed).headers["Location"] == "/stap/5"
    assert "Het is nog niet opgeslagen" not in signed.get("/stap/5").get_data(as_text=True)


def test_a_kept_form_of_a_url_that_shows_no_page_resumes_at_the_first_unfinished_step(with_main_contact):
    page = with_main_contact.get("/stap/6").get_data(as_text=True)
    idle(with_main_contact.client, 32 * 60)
    with_main_contact.client.post("/stap/6/aanvullen", data=hidden_inputs(page))
    assert come_back(with_main_contact).headers["Location"] == "/stap/6"
