"""Who may reach a draft: links, keys, log out (issue 5, points 1-6 and 14)."""

import pytest

from .conftest import Applicant, age_links, assert_htmx_posts_disable_their_button, hidden_inputs


def new_browser(app, db, address: str = "127.0.0.1") -> Applicant:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Applicant(client, db)



def test_a_draft_moved_to_another_address_leaves_the_first_browser_behind(app, db):
    attacker = new_browser(app, db)
    attacker.verify("aanvaller@example.nl")
    assert attacker.look_up().status_code == 303
    # From inside the draft, a link to someone else's address.
    attacker.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    victim = new_browser(app, db)
    assert victim.open_link(attacker.last_link("slachtoffer@praktijk.nl")).status_code == 303
    assert victim.look_up(kvk="41000002", agb="04071111").status_code == 303
    # The first browser's key no longer opens the draft.
    response = attacker.get("/stap/3")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/1"
    assert "Fysiotherapie" not in attacker.get("/stap/1").get_data(as_text=True)


def test_every_redeemed_link_gives_the_draft_a_new_key(app, db, verified):
    key = verified.draft()["key"]
    other = new_browser(app, db)
    other.submit("/stap/1", {"email": "praktijk@example.nl"})
    other.open_link(other.last_link("praktijk@example.nl"))
    assert verified.draft()["key"] != key
    assert verified.get("/stap/2").headers["Location"] == "/stap/1"
    assert other.get("/stap/2").status_code == 200


def test_the_link_page_names_the_address_before_the_button_and_confirms_nothing_yet(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    html = applicant.get(applicant.last_link("praktijk@example.nl"), follow_redirects=True).get_data(as_text=True)
    assert html.index("U gaat verder als") < html.index("praktijk@example.nl") < html.index("Bevestigen en doorgaan")
    assert "U heeft uw e-mailadres bevestigd" not in html
    assert applicant.draft() is None


def test_the_link_page_disables_its_buttons_while_sending_with_one_draft_or_a_choice(app, db):
    applicant = new_browser(app, db)
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    one = applicant.get(applicant.last_link("praktijk@example.nl"), follow_redirects=True).get_data(as_text=True)
    assert "Bevestigen en doorgaan" in one
    assert_htmx_posts_disable_their_button(one)
    applicant.open_link(applicant.last_link("praktijk@example.nl"))
    assert applicant.look_up().status_code == 303
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert applicant.open_link(applicant.last_link("praktijk@example.nl"), fresh="yes").status_code == 303
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    choice = applicant.get(applicant.last_link("praktijk@example.nl"), follow_redirects=True).get_data(as_text=True)
    assert "Bij dit e-mailadres horen meer aanmeldingen" in choice
    assert_htmx_posts_disable_their_button(choice)


def test_a_link_that_hands_over_someone_elses_draft_says_so_and_offers_a_fresh_start(app, db):
    attacker = new_browser(app, db)
    attacker.verify("aanvaller@example.nl")
    attacker.look_up()
    attacker.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    victim = new_browser(app, db)
    link = attacker.last_link("slachtoffer@praktijk.nl")
    html = victim.get(link, follow_redirects=True).get_data(as_text=True)
    assert "begonnen met het e-mailadres" in html and "aanvaller@example.nl" in html
    assert 'name="fresh" value="yes"' in html
    response = victim.open_link(link, fresh="yes")
    assert response.headers["Location"] == "/stap/2"
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 2
    assert victim.get("/stap/2").status_code == 200
    # The attacker's draft stays with the attacker's address.
    emails = {row["email"] for row in db.conn.execute("SELECT email FROM drafts")}
    assert emails == {"aanvaller@example.nl", "slachtoffer@praktijk.nl"}


def test_the_victims_later_links_still_say_who_started_the_draft(app, db):
    attacker = new_browser(app, db)
    attacker.verify("aanvaller@example.nl")
    attacker.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    victim = new_browser(app, db)
    victim.open_link(attacker.last_link("slachtoffer@praktijk.nl"))
    later = new_browser(app, db)
    later.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    html = later.get(later.last_link("slachtoffer@praktijk.nl"), follow_redirects=True).get_data(as_text=True)
    assert "aanvaller@example.nl" in html


def test_the_header_shows_the_address_of_the_draft(verified):
    html = verified.get("/stap/2").get_data(as_text=True)
    header = html[html.index("<header"):html.index("</header>")]
    assert "praktijk@example.nl" in header and "Uitloggen" in header


def test_the_token_leaves_the_url_after_one_request(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = applicant.last_link("praktijk@example.nl")
    token = link.rsplit("/", 1)[1]
    response = applicant.get(link)
    assert response.status_code == 303 and response.headers["Location"] == "/bevestig"
    page = applicant.get("/bevestig")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and token not in html
    assert 'action="/bevestig"' in html
    assert applicant.open_link(link).headers["Location"] == "/stap/2"


def test_a_used_token_leaves_the_session(applicant):
    applicant.verify()
    with applicant.client.session_transaction() as session:
        assert "link" not in session


@pytest.mark.parametrize("htmx", [False, True])
def test_logging_out_ends_the_session_and_a_copied_cookie_is_dead(app, db, confirmed, htmx):
    cookie = confirmed.client.get_cookie("aansluiten").value
    page = confirmed.get("/stap/4").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    response = confirmed.client.post("/uitloggen", data=hidden_inputs(page), headers=headers)
    if htmx:
        assert response.headers["HX-Redirect"] == "/uitgelogd"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/uitgelogd"
    assert "U bent uitgelogd" in confirmed.get("/uitgelogd").get_data(as_text=True)
    assert confirmed.get("/stap/3").headers["Location"] == "/stap/1"
    copied = app.test_client()
    copied.set_cookie("aansluiten", cookie)
    assert copied.get("/stap/3").headers["Location"] == "/stap/1"
    # The draft stays, and a new link opens it again.
    assert confirmed.draft()["data_correct"] == "yes"
    confirmed.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert confirmed.open_link(confirmed.last_link("praktijk@example.nl")).headers["Location"] == "/stap/4"
    assert db.conn.execute("SELECT action FROM audit_log WHERE action = 'signed out'").fetchone()


def test_logging_out_needs_the_form_token(confirmed):
    response = confirmed.client.post("/uitloggen")
    assert response.status_code == 400
    assert confirmed.get("/stap/3").status_code == 200


def test_nobody_locks_someone_else_out_of_their_links(app, db):
    victim = new_browser(app, db)
    victim.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    pending = victim.last_link("slachtoffer@praktijk.nl")
    attacker = new_browser(app, db, address="10.6.6.6")
    for number in range(6):
        age_links(db)
        attacker.submit("/stap/1", {"email": f"ander{number}@example.nl"})
        attacker.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    # The victim's pending link still works, and the victim can still ask for a new one.
    assert victim.get(pending, follow_redirects=True).status_code == 200
    age_links(db)
    assert victim.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"}).status_code == 303


def test_one_client_asking_too_often_for_an_address_is_limited(applicant, db):
    for _ in range(5):
        age_links(db)
        assert applicant.submit("/stap/1", {"email": "veel@example.nl"}).status_code == 303
    age_links(db)
    assert applicant.submit("/stap/1", {"email": "veel@example.nl"}).status_code == 429


def test_the_mailbox_page_shows_where_the_mail_went_and_step_1_offers_it_again(applicant):
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    assert "praktijk@example.nl" in applicant.get("/stap/1/verstuurd").get_data(as_text=True)
    assert 'value="praktijk@example.nl"' in applicant.get("/stap/1").get_data(as_text=True)
    # Another browser sees nothing of it.
    other = applicant.client.application.test_client()
    assert "praktijk@example.nl" not in other.get("/stap/1/verstuurd").get_data(as_text=True)
    assert "praktijk@example.nl" not in other.get("/stap/1").get_data(as_text=True)


def test_a_draft_moved_onto_an_address_with_its_own_draft_never_hides_that_draft(app, db):
    victim = new_browser(app, db)
    victim.verify("slachtoffer@praktijk.nl")
    assert victim.look_up().status_code == 303
    own = victim.draft()["id"]
    attacker = new_browser(app, db, address="10.6.6.6")
    attacker.verify("aanvaller@example.nl")
    attacker.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    page = victim.get(attacker.last_link("slachtoffer@praktijk.nl"), follow_redirects=True).get_data(as_text=True)
    # Both drafts are offered: the one handed over (with a warning) and the victim's own.
    assert "Bij dit e-mailadres horen meer aanmeldingen" in page
    assert f'name="draft" value="{own}"' in page and "Huisartsenpraktijk De Linde B.V." in page
    assert "aanvaller@example.nl" in page
    assert victim.open_link(attacker.last_link("slachtoffer@praktijk.nl"), draft=str(own)).headers["Location"] == "/stap/3"
    # The draft offered stays with the attacker's address; the victim's later links open their own.
    assert db.conn.execute("SELECT email FROM drafts WHERE id != ?", (own,)).fetchone()[0] == "aanvaller@example.nl"
    later = new_browser(app, db)
    later.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    assert later.open_link(later.last_link("slachtoffer@praktijk.nl")).headers["Location"] == "/stap/3"
    assert later.get("/stap/3").status_code == 200 and victim.get("/stap/3").status_code == 303


def test_a_link_cannot_open_a_draft_of_another_address_by_its_id(app, db):
    other = new_browser(app, db)
    other.verify("ander@example.nl")
    stranger_draft = other.draft()["id"]
    applicant = new_browser(app, db)
    applicant.submit("/stap/1", {"email": "praktijk@example.nl"})
    applicant.open_link(applicant.last_link("praktijk@example.nl"), draft=str(stranger_draft))
    assert applicant.draft()["email"] == "praktijk@example.nl" and applicant.draft()["id"] != stranger_draft
    assert db.conn.execute("SELECT email FROM drafts WHERE id = ?", (stranger_draft,)).fetchone()[0] == "ander@example.nl"


def test_a_made_up_link_never_reaches_the_session(applicant):
    response = applicant.get("/bevestig/" + "x" * 3000)
    assert response.status_code == 404 and "kennen wij niet" in response.get_data(as_text=True)
    with applicant.client.session_transaction() as session:
        assert "link" not in session


def test_a_link_opened_after_the_session_idled_out_still_works(looked_up):
    looked_up.submit("/stap/1", {"email": "praktijk@example.nl"})
    link = looked_up.last_link("praktijk@example.nl")
    with looked_up.client.session_transaction() as session:
        session["seen"] = 0
    response = looked_up.get(link)
    assert response.status_code == 303 and response.headers["Location"] == "/bevestig"
    assert looked_up.open_link(link).headers["Location"] == "/stap/3"


@pytest.mark.parametrize("url", ["/stap/6/code/01004567/1", "/stap/6?zoek=01"])
def test_the_gate_sends_a_request_for_part_of_a_page_to_the_whole_step(confirmed, url):
    target = "row-01004567" if "code" in url else "contact-rows"
    response = confirmed.client.get(url, headers={"HX-Request": "true", "HX-Target": target})
    assert response.headers["HX-Push-Url"] == "/stap/4"
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"
    assert response.get_data(as_text=True).startswith("<title>Selecteer uw tekenbevoegde")


def test_however_many_clients_ask_an_address_gets_at_most_ten_links_an_hour(app, db):
    # No mailbox is flooded from here, and its owner is kept waiting for an hour at most.
    for number in range(10):
        age_links(db)  # past the three a minute
        assert new_browser(app, db, address=f"10.6.6.{number}").submit(
            "/stap/1", {"email": "slachtoffer@praktijk.nl"}).status_code == 303
    victim = new_browser(app, db, address="10.7.7.7")
    age_links(db)
    refused = victim.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"})
    assert refused.status_code == 429 and "minuten opnieuw" in refused.get_data(as_text=True)
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 10
    db.conn.execute("UPDATE rate_limits SET window_start = '2000-01-01T00:00:00+00:00' "
                    "WHERE key LIKE 'mail-address-hourly:%'")  # an hour later
    assert victim.submit("/stap/1", {"email": "slachtoffer@praktijk.nl"}).status_code == 303
