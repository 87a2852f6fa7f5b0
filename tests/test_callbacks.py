"""``POST /callbacks/signing`` over HTTP: only a genuine, fresh callback changes anything."""

import json
import logging
from datetime import timedelta

import pytest

from onboarding import signing, store
from routes import providers

from .conftest import table
from .test_step10 import choose, hidden_inputs, identify_signatory


@pytest.fixture
def invited(submitted, app, db):
    """The signatory is identified and invited to sign: the dossier waits at the provider,
    which has signed it but whose callback (captured here) has not arrived yet."""
    assert choose(submitted, "online").status_code == 303
    identify_signatory(submitted)
    opened = submitted.client.get("/stap/10")
    assert submitted.client.post("/stap/10/ondertekenen",
                                 data=hidden_inputs(opened.get_data(as_text=True))).status_code == 303
    [agreement] = table(db, "agreements")
    captured = []
    with app.test_request_context():
        provider = signing.SimulatedSigning(providers.get_db(), "/x/{dossier_id}",
                                            deliver=lambda body, headers: captured.append((body, headers)),
                                            secret=providers.signing_secret())
        provider.decide(agreement["dossier_id"], "sign")
        secret = providers.signing_secret()
    return submitted, agreement["dossier_id"], captured[0], secret


def post(client, body: bytes, headers: dict):
    return client.post("/callbacks/signing", data=body, headers={**headers, "Content-Type": "application/json"})


def state(db) -> str:
    return table(db, "agreements")[0]["signing_state"]


def test_a_genuine_callback_signs_and_a_repeated_one_is_harmless(invited, db):
    applicant, _dossier, (body, headers), _secret = invited
    assert post(applicant.client, body, headers).status_code == 204
    assert state(db) == "signed" and table(db, "agreements")[0]["signed_pdf"]
    assert (table(db, "audit_log")[-1]["action"], table(db, "audit_log")[-1]["actor"]) == (
        "agreement signed", "signatory")
    entries = len(table(db, "audit_log"))
    assert post(applicant.client, body, headers).status_code == 204
    assert len(table(db, "audit_log")) == entries


def test_a_forged_callback_changes_nothing(invited, db, caplog):
    applicant, dossier, _genuine, _secret = invited
    body, headers = signing.webhook_request(signing.new_secret(), signing.SIGNED, dossier)
    with caplog.at_level(logging.WARNING):
        assert post(applicant.client, body, headers).status_code == 401
    assert state(db) == "invited"
    assert "signing callback rejected (signature)" in caplog.text


def test_an_altered_callback_changes_nothing(invited, db):
    applicant, _dossier, (body, headers), _secret = invited
    altered = json.loads(body)
    altered["type"] = signing.DECLINED
    assert post(applicant.client, json.dumps(altered).encode(), headers).status_code == 401
    assert state(db) == "invited"


@pytest.mark.parametrize("age", [timedelta(minutes=10), timedelta(hours=5), -timedelta(minutes=10)])
def test_a_late_or_replayed_callback_changes_nothing(invited, db, age):
    applicant, dossier, _genuine, secret = invited
    body, headers = signing.webhook_request(secret, signing.SIGNED, dossier, now=store.utcnow() - age)
    assert post(applicant.client, body, headers).status_code == 400
    assert state(db) == "invited"


def test_a_captured_callback_replayed_after_the_window_changes_nothing(invited, db, monkeypatch):
    applicant, _dossier, (body, headers), _secret = invited
    later = store.utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(signing, "utcnow", lambda: later)
    assert post(applicant.client, body, headers).status_code == 400
    assert state(db) == "invited"


@pytest.mark.parametrize("headers", [{}, {"webhook-id": "x"}, {"webhook-id": "x", "webhook-timestamp": "1"}])
def test_missing_headers_are_refused(invited, db, headers):
    applicant = invited[0]
    assert 400 <= post(applicant.client, b"{}", headers).status_code < 500
    assert state(db) == "invited"


def test_an_unknown_dossier_is_refused(invited, db):
    applicant, _dossier, _genuine, secret = invited
    body, headers = signing.webhook_request(secret, signing.SIGNED, "no-such-dossier")
    assert post(applicant.client, body, headers).status_code == 404
    assert state(db) == "invited"


def test_a_signed_callback_whose_document_the_provider_does_not_have_is_retried_later(invited, db, caplog):
    # Genuine, but the provider has no signed document for it (not yet, or its download failed):
    # nothing changes, and a 503 has the provider send it again later.
    applicant, dossier, (body, headers), _secret = invited
    db.conn.execute("UPDATE sim_sign_dossiers SET state = 'invited', signed_pdf = NULL WHERE id = ?", (dossier,))
    with caplog.at_level(logging.WARNING):
        assert post(applicant.client, body, headers).status_code == 503
    assert state(db) == "invited" and "unhandled error" not in caplog.text
    assert "signed document of dossier" in caplog.text


def test_no_csrf_token_is_needed_but_get_is_not_allowed(invited):
    assert invited[0].client.get("/callbacks/signing").status_code == 405
