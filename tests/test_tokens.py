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
    assert tokens.check(db, token, now=issued + timedelta(hours=23, minutes=59)) == "a@example.nl"
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, token, now=issued + timedelta(hours=24))
    assert rejected.value.reason == "expired"


def test_a_new_token_voids_the_older_ones(db):
    first = tokens.issue(db, "a@example.nl")
    second = tokens.issue(db, "a@example.nl")
    other = tokens.issue(db, "b@example.nl")
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, first)
    assert rejected.value.reason == "voided"
    assert tokens.check(db, second) == "a@example.nl"
    assert tokens.check(db, other) == "b@example.nl"


def test_an_unknown_token_is_rejected(db):
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, "made-up")
    assert rejected.value.reason == "unknown"


def test_the_same_address_resumes_its_draft(db):
    first = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    again = drafts.verify_email(db, tokens.issue(db, "a@example.nl"))
    assert again.id == first.id and again.key == first.key
