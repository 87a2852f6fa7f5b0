from datetime import timedelta

import pytest

from onboarding import drafts, tokens
from onboarding.store import utcnow


def test_a_token_is_stored_only_as_its_hash(db):
    token = tokens.issue(db, "a@example.nl")
    stored = db.conn.execute("SELECT token_hash FROM email_tokens").fetchall()
    assert len(stored) == 1
    assert token not in stored[0]["token_hash"]
    assert len(token) >= 40


def test_a_token_opens_its_address_once(db):
    token = tokens.issue(db, "a@example.nl")
    assert drafts.verify_email(db, token).email == "a@example.nl"
    with pytest.raises(tokens.TokenRejected) as rejected:
        drafts.verify_email(db, token)
    assert rejected.value.reason == "used"


def test_a_token_expires_after_24_hours(db):
    issued = utcnow()
    token = tokens.issue(db, "a@example.nl", now=issued)
    assert tokens.check(db, token, now=issued + timedelta(hours=23, minutes=59)).email == "a@example.nl"
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, token, now=issued + timedelta(hours=24))
    assert rejected.value.reason == "expired"


BROWSER = tokens.browser_hash("browser-a")
OTHER_BROWSER = tokens.browser_hash("browser-b")


def test_a_new_token_voids_the_older_ones_of_the_same_browser(db):
    first = tokens.issue(db, "a@example.nl", requested_by=BROWSER)
    second = tokens.issue(db, "a@example.nl", requested_by=BROWSER)
    other = tokens.issue(db, "b@example.nl", requested_by=BROWSER)
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, first)
    assert rejected.value.reason == "voided"
    assert tokens.check(db, second).email == "a@example.nl"
    assert tokens.check(db, other).email == "b@example.nl"


def test_nobody_voids_the_link_another_browser_asked_for(db):
    mine = tokens.issue(db, "a@example.nl", requested_by=BROWSER)
    tokens.issue(db, "a@example.nl", requested_by=OTHER_BROWSER)
    assert tokens.check(db, mine).email == "a@example.nl"


def test_an_unknown_token_is_rejected(db):
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, "made-up")
    assert rejected.value.reason == "unknown"


def test_the_same_address_resumes_its_draft_under_a_new_key(db):
    first = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    again = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    assert again.id == first.id
    assert again.key != first.key and drafts.by_key(db, first.key) is None


def test_a_fresh_start_leaves_the_older_draft_alone(db):
    first = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    fresh = drafts.verify_email(db, tokens.issue(db, "a@example.nl"), fresh=True)
    assert fresh.id != first.id
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 2


def test_the_link_page_knows_when_a_link_hands_over_a_draft_of_another_address(db):
    attacker = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    token = tokens.issue(db, "victim@example.nl", draft_id=attacker.id)
    preview = drafts.preview_link(db, token)
    assert preview.email == "victim@example.nl" and preview.resumes
    assert preview.other_address == "a@example.nl"
    moved = drafts.verify_email(db, token)
    assert moved.id == attacker.id and moved.moved_from == "a@example.nl"
    # The victim's later links still say whose draft this was.
    later = drafts.preview_link(db, tokens.issue(db, "victim@example.nl"))
    assert later.other_address == "a@example.nl"


def test_a_link_of_a_new_applicant_names_no_other_address(db):
    preview = drafts.preview_link(db, tokens.issue(db, "new@example.nl"))
    assert preview == drafts.LinkPreview("new@example.nl")
    assert not preview.resumes and preview.other_address is None
