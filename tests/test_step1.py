"""Step 1: the e-mail address, the link, and resuming."""

import re
import sqlite3

import pytest

from onboarding import mail, tokens

from .conftest import age_links, element, hidden_inputs, traced


def test_full_page(client):
    response = client.get("/stap/1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert "<title>Vul uw e-mailadres in - Stap 1 van 10" in html
    assert 'name="email"' in html and "Stap 1 van 10" in html
    assert 'aria-current="step"' in html


def test_fragment(client):
    response = client.get("/stap/1", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<body" not in html
    assert html.startswith("<title>Vul uw e-mailadres in")
    assert 'name="email"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_valid_address_gets_a_link_and_the_same_answer_for_everyone(applicant, db):
    first = applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert first.status_code == 303 and first.headers["Location"] == "/stap/1/verstuurd"
    unknown_page = applicant.get("/stap/1/verstuurd").get_data(as_text=True)
    applicant.verify("bekend@example.nl")
    applicant.client.post("/uitloggen", data=hidden_inputs(applicant.get("/stap/2").get_data(as_text=True)))
    known = applicant.submit("/stap/1", {"email": "bekend@example.nl"})
    assert known.status_code == 303 and known.headers["Location"] == "/stap/1/verstuurd"
    known_page = applicant.get("/stap/1/verstuurd").get_data(as_text=True)
    # The page names the address that was typed (to check it), and says nothing else
    # that tells a known address from an unknown one.
    assert "praktijk@example.nl</strong>" in unknown_page and "bekend@example.nl</strong>" in known_page
    def without_tokens(html):
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)

    assert without_tokens(known_page).replace("bekend@example.nl", "X") == without_tokens(unknown_page).replace(
        "praktijk@example.nl", "X")


def test_fragment_answer_pushes_the_next_url(applicant):
    response = applicant.submit("/stap/1", {"email": "praktijk@example.nl"}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/stap/1/verstuurd"
    assert response.get_data(as_text=True).startswith("<title>Kijk in uw mailbox")
    assert "<html" not in response.get_data(as_text=True)
    assert "Kijk in uw mailbox" in response.get_data(as_text=True)


def test_the_mail_holds_a_link_in_text_and_html(applicant, db):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert db.conn.execute("SELECT recipient FROM outbox").fetchone()[0] == "praktijk@example.nl"
    text, html = applicant.last_mail("praktijk@example.nl")
    assert "/bevestig/" in text and "/bevestig/" in html
    assert "24 uur" in text


@pytest.mark.parametrize("typed, message", [
    ("", "Vul uw e-mailadres in"),
    ("   ", "Vul uw e-mailadres in"),
    ("praktijk", "Vul een geldig e-mailadres in"),
    ("praktijk@example", "Vul een geldig e-mailadres in"),
    ("prak tijk@example.nl", "Vul een geldig e-mailadres in"),
    ("<b>x</b>@example.nl", "Vul een geldig e-mailadres in"),
    ("a" * 300 + "@example.nl", "hoogstens 254 tekens"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_addresses(applicant, db, typed, message, htmx):
    response = applicant.submit("/stap/1", {"email": typed}, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'class="error-summary"' in html and 'href="#email"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-hint email-error"' in html
    assert "Fout: Vul uw e-mailadres in" in html
    if typed.strip():
        assert 'value="' + typed.replace("<", "&lt;").replace(">", "&gt;")[:50] in html
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM email_tokens").fetchone()[0] == 0



def test_a_double_click_sends_one_link_and_keeps_it_valid(applicant, db):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    first = applicant.last_link("praktijk@example.nl")
    assert applicant.submit("/stap/1", {"email": "praktijk@example.nl"}).headers["Location"] == "/stap/1/verstuurd"
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    # The page says so: no second mail, the first link works (once; a reload says nothing more).
    assert "U vroeg zojuist al een link aan" in applicant.get("/stap/1/verstuurd").get_data(as_text=True)
    assert "U vroeg zojuist al een link aan" not in applicant.get("/stap/1/verstuurd").get_data(as_text=True)
    again = applicant.submit("/stap/1", {"email": "praktijk@example.nl"}, htmx=True)
    assert "U vroeg zojuist al een link aan" in again.get_data(as_text=True)
    assert applicant.get(first, follow_redirects=True).status_code == 200


def test_the_first_link_says_nothing_of_a_link_asked_for_again(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert "U vroeg zojuist al een link aan" not in applicant.get("/stap/1/verstuurd").get_data(as_text=True)


def test_rate_limit_per_address(applicant, db):
    for _ in range(5):
        age_links(db)
        assert applicant.submit("/stap/1", {"email": "veel@example.nl"}).status_code == 303
    age_links(db)
    response = applicant.submit("/stap/1", {"email": "Veel@example.nl"})
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    # Not a fault of the address: a notice above the form, as step 2's limit, the address kept.
    assert "te vaak geprobeerd" in html and 'class="notification' in html and "aria-invalid" not in html
    assert element(html, "email")["value"] == "Veel@example.nl"
    assert applicant.submit("/stap/1", {"email": "ander@example.nl"}).status_code == 303


def test_rate_limit_per_client(applicant):
    for number in range(30):
        assert applicant.submit("/stap/1", {"email": f"p{number}@example.nl"}).status_code == 303
    response = applicant.submit("/stap/1", {"email": "nog-een@example.nl"}, htmx=True)
    assert response.status_code == 429
    assert "te vaak geprobeerd" in response.get_data(as_text=True)


def test_the_link_shows_a_button_and_does_not_use_the_token_on_get(applicant, db):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = applicant.last_link("praktijk@example.nl")
    for _ in range(2):  # a mail scanner opening the link does not spend it
        page = applicant.get(link, follow_redirects=True)
        assert page.status_code == 200 and "Bevestigen en doorgaan" in page.get_data(as_text=True)
    response = applicant.open_link(link)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/2"
    assert applicant.draft()["email_verified_at"]


def test_the_link_with_htmx_loads_the_whole_page_so_the_idle_warning_is_there(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    response = applicant.open_link(applicant.last_link("praktijk@example.nl"), htmx=True)
    assert response.headers["HX-Redirect"] == "/stap/2"
    assert 'data-session-timeout="1800"' in applicant.get("/stap/2").get_data(as_text=True)


def test_the_link_works_once(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = applicant.last_link("praktijk@example.nl")
    assert applicant.open_link(link).status_code == 303
    # Opened again in the browser it let in: that browser simply goes on.
    assert applicant.get(link, follow_redirects=True).request.path == "/stap/2"
    # Anywhere else, it no longer works.
    other = applicant.client.application.test_client()
    page = other.get(link, follow_redirects=True)
    assert page.status_code == 410 and "al gebruikt" in page.get_data(as_text=True)
    response = other.post("/bevestig", data=hidden_inputs(page.get_data(as_text=True)), headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/bevestig"


def test_a_newer_link_voids_the_older_one(applicant, db):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    old = applicant.last_link("praktijk@example.nl")
    age_links(db)
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    response = applicant.get(old, follow_redirects=True)
    assert response.status_code == 410
    assert "nieuwere link" in response.get_data(as_text=True)
    assert 'name="email"' in response.get_data(as_text=True)


def test_an_expired_link(applicant, db, monkeypatch):
    from datetime import timedelta

    from onboarding.store import utcnow
    token = tokens.issue(db, "praktijk@example.nl", now=utcnow() - timedelta(hours=25))
    response = applicant.get(f"/bevestig/{token}", follow_redirects=True)
    assert response.status_code == 410
    assert "verlopen" in response.get_data(as_text=True)


def test_an_unknown_link(applicant):
    response = applicant.get("/bevestig/niet-bestaand", follow_redirects=True)
    assert response.status_code == 404
    assert "kennen wij niet" in response.get_data(as_text=True)


def test_the_link_resumes_at_the_first_unfinished_step_on_another_device(app, confirmed, db):
    from .conftest import Applicant

    other_device = Applicant(app.test_client(), db)
    other_device.submit("/stap/1", {"email": "praktijk@example.nl"})
    response = other_device.open_link(other_device.last_link("praktijk@example.nl"))
    assert response.headers["Location"] == "/stap/4"
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1


def test_a_verified_applicant_sees_the_address_and_can_go_on(verified):
    html = verified.get("/stap/1").get_data(as_text=True)
    assert "praktijk@example.nl is bevestigd" in html
    assert 'href="/stap/2"' in html


def test_verifying_is_written_to_the_audit_log(verified, db):
    rows = db.conn.execute("SELECT actor, step, action FROM audit_log").fetchall()
    assert [tuple(row) for row in rows] == [("applicant", 1, "e-mail address verified")]


def test_the_page_csrf_header_still_works_after_the_link_binds_the_draft(applicant):
    import re
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = applicant.last_link("praktijk@example.nl")
    page = applicant.get(link, follow_redirects=True).get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    assert applicant.open_link(link, htmx=True).headers["HX-Redirect"] == "/stap/2"
    response = applicant.client.post("/stap/2", data={"kvk_number": "", "agb_code": ""},
                                     headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert response.status_code == 422  # validated, not refused as a forged request


def test_case_does_not_make_another_applicant(confirmed, db):
    confirmed.submit("/stap/1", {"email": "PRAKTIJK@Example.NL"})
    response = confirmed.open_link(confirmed.last_link("praktijk@example.nl"))
    assert response.headers["Location"] == "/stap/4"
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1


def test_another_address_takes_the_draft_along(confirmed, db):
    confirmed.submit("/stap/1", {"email": "nieuw@example.nl"})
    response = confirmed.open_link(confirmed.last_link("nieuw@example.nl"))
    assert response.headers["Location"] == "/stap/4"
    draft = confirmed.draft()
    assert draft["email"] == "nieuw@example.nl" and draft["kvk_number"] == "41000001"
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1
    actions = [row["action"] for row in db.conn.execute("SELECT action FROM audit_log")]
    assert actions[-1] == "e-mail address changed"


def test_a_link_to_a_mistyped_address_stops_working_once_another_is_asked(confirmed, db):
    confirmed.submit("/stap/1", {"email": "typfout@praktjik.nl"})
    mistyped = confirmed.last_link("typfout@praktjik.nl")
    confirmed.submit("/stap/1", {"email": "goed@praktijk.nl"})
    from .conftest import Applicant
    stranger = Applicant(confirmed.client.application.test_client(), db)
    assert stranger.get(mistyped, follow_redirects=True).status_code == 410
    assert confirmed.open_link(confirmed.last_link("goed@praktijk.nl")).headers["Location"] == "/stap/4"


def test_the_mail_of_a_draft_is_linked_to_it_for_the_purge(verified, db):
    verified.submit("/stap/1", {"email": "nieuw@example.nl"})
    row = db.conn.execute("SELECT draft_id FROM outbox WHERE recipient = 'nieuw@example.nl'").fetchone()
    assert row["draft_id"] == verified.draft()["id"]


def test_a_link_is_stored_with_its_mail_and_the_counts_of_the_limits_in_one_write(applicant, app, db):
    applicant.submit("/stap/1", {"email": "eerst@example.nl"})  # the app's first request migrates
    fields = hidden_inputs(applicant.get("/stap/1").get_data(as_text=True))
    response, writes, _statements = traced(app, lambda: applicant.client.post(
        "/stap/1", data={**fields, "email": "praktijk@example.nl"}))
    assert response.status_code == 303 and writes == 1
    assert applicant.last_link("praktijk@example.nl").startswith("/bevestig/")
    assert db.conn.execute("SELECT count(*) FROM rate_limits WHERE key LIKE '%praktijk@%'").fetchone()[0] == 3


def test_a_link_whose_mail_cannot_be_stored_is_not_left_behind(applicant, db, monkeypatch):
    def disk_full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(mail, "enqueue", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert db.conn.execute("SELECT count(*) FROM email_tokens").fetchone()[0] == 0
    # The try still counts against the limits.
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 4
