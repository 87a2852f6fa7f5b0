"""Signing the agreement: the simulated CM Sign, the PAdES signature, and the callbacks
(Standard Webhooks) that may only move an agreement forward."""

import base64
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from fpdf import FPDF
from pypdf import PdfReader
from standardwebhooks.webhooks import Webhook

from onboarding import signing, store
from onboarding.signing import CallbackRejected, SimulatedSigning

SECRET = signing.derive_secret("test-secret")
SIGNER = "J. de Vries"
AGREEMENT_TEXT = "Aansluitovereenkomst VZ-2026-4F7K2Q"


@pytest.fixture
def db(tmp_path):
    database = store.connect(str(tmp_path / "t.db"))
    store.migrate(database)
    yield database
    database.close()


def agreement_pdf() -> bytes:
    document = FPDF()
    document.set_creation_date(datetime(2026, 11, 29, tzinfo=timezone.utc))  # the same bytes every time
    document.set_compression(False)  # the text stays readable in the bytes: a test can alter it
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=AGREEMENT_TEXT)
    return bytes(document.output())


@pytest.fixture
def draft_id(db):
    pdf = agreement_pdf()
    stamp = store.timestamp()
    with store.write(db):
        draft = db.conn.execute(
            "INSERT INTO drafts (key, email, status, reference, created_at, updated_at) "
            "VALUES ('k', 'a@example.nl', 'submitted', 'VZ-2026-4F7K2Q', ?, ?)", (stamp, stamp)).lastrowid
        db.conn.execute(
            "INSERT INTO agreements (draft_id, pdf, sha256, content_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (draft, pdf, hashlib.sha256(pdf).hexdigest(), hashlib.sha256(AGREEMENT_TEXT.encode()).hexdigest(), stamp))
    return draft


@pytest.fixture
def delivered():
    """The callbacks the simulated provider sent, as (body, headers)."""
    return []


@pytest.fixture
def provider(db, delivered):
    return SimulatedSigning(db, "/demo/ondertekenen/{dossier_id}", lambda body, headers: delivered.append(
        (body, headers)), SECRET)


@pytest.fixture
def invited(db, draft_id, provider):
    return signing.invite(db, draft_id, provider, SIGNER, "/stap/10", "VZ-2026-4F7K2Q")


def receive(db, provider, body, headers, now=None):
    """What POST /callbacks/signing does: verify, then apply."""
    callback = signing.verify_callback(db, SECRET, body, headers, now)
    return callback, signing.apply_callback(db, callback, provider)


def agreement(db, draft_id):
    return db.conn.execute("SELECT * FROM agreements WHERE draft_id = ?", (draft_id,)).fetchone()


def last_audit(db):
    return tuple(db.conn.execute("SELECT step, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone())


def snapshot(db, draft_id):
    """Everything a callback could change."""
    return (tuple(agreement(db, draft_id)),
            db.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0],
            db.conn.execute("SELECT count(*) FROM signing_events").fetchone()[0])


def signed_by_the_simulated_provider(db, provider, invited):
    provider.decide(invited.dossier_id, "sign")
    return provider.signed_document(invited.dossier_id)


# -- the PDF signature -----------------------------------------------------------------------

def test_a_pdf_signed_by_the_simulated_provider_verifies_and_stays_a_readable_pdf(db, provider, invited):
    signed = signed_by_the_simulated_provider(db, provider, invited)
    _key, cert = signing.demo_credentials(db)
    assert signing.verify_pdf_signature(signed, cert)
    reader = PdfReader(io.BytesIO(signed))
    assert AGREEMENT_TEXT in reader.pages[0].extract_text()
    assert reader.get_fields()["Handtekening"]["/FT"] == "/Sig"
    assert signed.startswith(agreement_pdf()[:1000])


def _alter_text(pdf: bytes) -> bytes:
    position = pdf.index(b"VZ-2026-4F7K2Q")
    return pdf[:position] + b"W" + pdf[position + 1:]


def _alter_signature_value(pdf: bytes) -> bytes:
    # The CMS blob ends with the signature value (no unsigned attributes): a hex digit
    # just before its end (after it comes zero padding, which no one reads).
    start = pdf.index(b"/Contents <3082") + len(b"/Contents <")
    end = start + 2 * (4 + int(pdf[start + 4:start + 8], 16))
    position = end - 10
    return pdf[:position] + (b"0" if pdf[position:position + 1] != b"0" else b"1") + pdf[position + 1:]


@pytest.mark.parametrize("tamper", [_alter_text, _alter_signature_value], ids=["agreement text", "signature value"])
def test_a_signed_pdf_with_one_byte_changed_does_not_verify(db, provider, invited, tamper):
    signed = signed_by_the_simulated_provider(db, provider, invited)
    _key, cert = signing.demo_credentials(db)
    tampered = tamper(signed)
    assert len(tampered) == len(signed) and tampered != signed
    assert not signing.verify_pdf_signature(tampered, cert)


def test_a_signature_does_not_verify_against_another_certificate(db, provider, invited):
    signed = signed_by_the_simulated_provider(db, provider, invited)
    _key, other_cert = signing._new_credentials()
    assert not signing.verify_pdf_signature(signed, other_cert)


def test_an_unsigned_pdf_does_not_verify(db):
    _key, cert = signing.demo_credentials(db)
    assert not signing.verify_pdf_signature(agreement_pdf(), cert)


def test_demo_credentials_are_made_once_and_stay_the_same(db, tmp_path):
    first = signing.demo_credentials(db)
    assert signing.demo_credentials(db) == first
    other = store.connect(str(tmp_path / "t.db"))
    assert signing.demo_credentials(other) == first
    other.close()
    assert db.conn.execute("SELECT count(*) FROM sim_keys").fetchone()[0] == 2
    assert first[0].startswith(b"-----BEGIN PRIVATE KEY-----")
    assert first[1].startswith(b"-----BEGIN CERTIFICATE-----")


# -- invitation and a genuine callback --------------------------------------------------------

def test_an_invitation_puts_the_agreement_in_a_dossier_for_the_signer(db, draft_id, provider, invited):
    row = agreement(db, draft_id)
    assert (row["signing_state"], row["dossier_id"], row["signing_url"]) == (
        "invited", invited.dossier_id, f"/demo/ondertekenen/{invited.dossier_id}")
    dossier = provider.dossier(invited.dossier_id)
    assert dossier["pdf"] == row["pdf"]
    assert (dossier["signer_name"], dossier["return_url"], dossier["reference"], dossier["state"]) == (
        SIGNER, "/stap/10", "VZ-2026-4F7K2Q", "invited")
    assert last_audit(db) == (10, "signing invited")


def test_inviting_twice_gives_the_same_dossier(db, draft_id, provider, invited):
    again = signing.invite(db, draft_id, provider, SIGNER, "/stap/10", "VZ-2026-4F7K2Q")
    assert again == invited
    assert db.conn.execute("SELECT count(*) FROM sim_sign_dossiers").fetchone()[0] == 1


def test_signing_delivers_a_callback_that_marks_the_agreement_signed(db, draft_id, provider, invited, delivered):
    assert provider.decide(invited.dossier_id, "sign") == "/stap/10"
    [(body, headers)] = delivered
    callback, changed = receive(db, provider, body, headers)
    assert (callback.type, callback.dossier_id, callback.duplicate) == ("dossier.signed", invited.dossier_id, False)
    assert changed == draft_id
    row = agreement(db, draft_id)
    assert row["signing_state"] == "signed" and row["signed_at"]
    assert row["signed_pdf"] == provider.signed_document(invited.dossier_id)
    assert signing.verify_pdf_signature(row["signed_pdf"], signing.demo_credentials(db)[1])
    assert last_audit(db) == (10, "agreement signed")


def test_declining_delivers_a_callback_that_marks_the_agreement_declined(db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "decline")
    [(body, headers)] = delivered
    _callback, changed = receive(db, provider, body, headers)
    assert changed == draft_id
    row = agreement(db, draft_id)
    assert (row["signing_state"], row["signed_pdf"], row["signed_at"]) == ("declined", None, None)
    assert last_audit(db) == (10, "signing declined")


def test_a_declined_agreement_can_be_invited_again_in_a_new_dossier(db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "decline")
    receive(db, provider, *delivered[0])
    again = signing.invite(db, draft_id, provider, SIGNER, "/stap/10", "VZ-2026-4F7K2Q")
    assert again.dossier_id != invited.dossier_id
    assert agreement(db, draft_id)["signing_state"] == "invited"


def test_only_the_signers_first_decision_counts(db, provider, invited, delivered):
    provider.decide(invited.dossier_id, "sign")
    provider.decide(invited.dossier_id, "decline")
    assert provider.dossier(invited.dossier_id)["state"] == "signed"
    assert len(delivered) == 1


def test_headers_are_read_whatever_their_case(db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "sign")
    [(body, headers)] = delivered
    _callback, changed = receive(db, provider, body, {name.title(): value for name, value in headers.items()})
    assert changed == draft_id


# -- callbacks that change nothing -------------------------------------------------------------

def test_a_forged_callback_is_rejected_and_changes_nothing(db, draft_id, provider, invited):
    before = snapshot(db, draft_id)
    body, headers = signing.webhook_request(signing.new_secret(), "dossier.signed", invited.dossier_id)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, body, headers)
    assert rejected.value.reason == "signature"
    assert snapshot(db, draft_id) == before


def test_an_altered_callback_is_rejected_and_changes_nothing(db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "decline")
    [(body, headers)] = delivered
    before = snapshot(db, draft_id)
    altered = body.replace(b"dossier.declined", b"dossier.signed")
    assert altered != body
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, altered, headers)
    assert rejected.value.reason == "signature"
    assert snapshot(db, draft_id) == before


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=10)], ids=["late", "early"])
def test_a_callback_outside_the_time_window_is_rejected_and_changes_nothing(db, draft_id, provider, invited, offset):
    before = snapshot(db, draft_id)
    body, headers = signing.webhook_request(SECRET, "dossier.declined", invited.dossier_id,
                                            now=store.utcnow() + offset)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, body, headers)
    assert rejected.value.reason == "timestamp"
    assert snapshot(db, draft_id) == before


def test_a_genuine_callback_replayed_after_the_window_is_rejected_and_changes_nothing(
        db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "decline")
    [(body, headers)] = delivered  # captured on its way, never received
    before = snapshot(db, draft_id)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, body, headers, now=store.utcnow() + signing.TOLERANCE + timedelta(minutes=1))
    assert rejected.value.reason == "timestamp"
    assert snapshot(db, draft_id) == before


def test_a_genuine_callback_repeated_within_the_window_is_a_duplicate_that_changes_nothing(
        db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "sign")
    [(body, headers)] = delivered
    receive(db, provider, body, headers)
    before = snapshot(db, draft_id)
    callback, changed = receive(db, provider, body, headers)
    assert callback.duplicate and changed is None
    assert snapshot(db, draft_id) == before


def test_a_genuine_decline_after_signing_changes_nothing(db, draft_id, provider, invited, delivered):
    provider.decide(invited.dossier_id, "sign")
    receive(db, provider, *delivered[0])
    before = snapshot(db, draft_id)
    callback, changed = receive(db, provider, *signing.webhook_request(SECRET, "dossier.declined", invited.dossier_id))
    assert not callback.duplicate and changed is None
    assert snapshot(db, draft_id)[:2] == before[:2]
    assert agreement(db, draft_id)["signing_state"] == "signed"


@pytest.mark.parametrize("missing, reason", [
    (("webhook-id", "webhook-timestamp", "webhook-signature"), "headers"),
    (("webhook-id",), "headers"),
    (("webhook-signature",), "headers"),
    (("webhook-timestamp",), "timestamp"),
])
def test_a_callback_without_its_headers_is_rejected(db, draft_id, provider, invited, missing, reason):
    before = snapshot(db, draft_id)
    body, headers = signing.webhook_request(SECRET, "dossier.declined", invited.dossier_id)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, body, {name: value for name, value in headers.items() if name not in missing})
    assert rejected.value.reason == reason
    assert snapshot(db, draft_id) == before


@pytest.mark.parametrize("header, value, reason", [
    ("webhook-timestamp", "soon", "timestamp"),
    ("webhook-timestamp", "-1", "timestamp"),
    ("webhook-timestamp", "9" * 40, "timestamp"),
    ("webhook-timestamp", "9" * 12, "timestamp"),  # the year 33658: no date Python can make
    ("webhook-signature", "v1,not base64!", "signature"),
    ("webhook-signature", "v1", "signature"),
    ("webhook-signature", "v2," + base64.b64encode(b"x" * 32).decode(), "signature"),
])
def test_a_callback_with_malformed_headers_is_rejected(db, draft_id, provider, invited, header, value, reason):
    body, headers = signing.webhook_request(SECRET, "dossier.declined", invited.dossier_id)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, body, {**headers, header: value})
    assert rejected.value.reason == reason


def _signed(payload: str) -> tuple[bytes, dict[str, str]]:
    """A correctly signed callback with any body."""
    moment = store.utcnow()
    return payload.encode(), {
        "webhook-id": "msg_test", "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_test", moment, payload),
    }


@pytest.mark.parametrize("payload", [
    "not json",
    "[]",
    json.dumps({"type": "dossier.expired", "data": {"dossier_id": "x"}}),
    json.dumps({"type": ["dossier.signed"], "data": {"dossier_id": "x"}}),
    json.dumps({"type": "dossier.signed", "data": {}}),
    json.dumps({"type": "dossier.signed", "data": {"dossier_id": ""}}),
    json.dumps({"type": "dossier.signed", "data": {"dossier_id": 7}}),
    json.dumps({"type": "dossier.signed", "data": "x"}),
])
def test_a_callback_of_an_unknown_type_or_shape_is_rejected(db, payload):
    with pytest.raises(CallbackRejected) as rejected:
        signing.verify_callback(db, SECRET, *_signed(payload))
    assert rejected.value.reason == "payload"
    assert db.conn.execute("SELECT count(*) FROM signing_events").fetchone()[0] == 0


def test_a_callback_for_an_unknown_dossier_is_rejected(db, draft_id, provider, invited):
    before = snapshot(db, draft_id)
    with pytest.raises(CallbackRejected) as rejected:
        receive(db, provider, *signing.webhook_request(SECRET, "dossier.signed", "no-such-dossier"))
    assert rejected.value.reason == "dossier"
    assert snapshot(db, draft_id)[:2] == before[:2]


# -- secrets -----------------------------------------------------------------------------------

def test_a_new_secret_holds_32_random_bytes():
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert signing.new_secret() != secret


def test_the_demo_secret_follows_from_the_secret_key():
    assert signing.derive_secret("test-secret") == SECRET
    assert signing.derive_secret("another key") != SECRET
    assert SECRET.startswith("whsec_") and len(base64.b64decode(SECRET[6:])) == 32
