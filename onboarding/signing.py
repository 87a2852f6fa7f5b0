"""Signing the agreement: a provider shaped like CM Sign (a dossier holding the PDF, an
invitation for the signer, the signer's page, callbacks that report the state), the
simulated provider of demo mode and tests, and the receiving end of the callbacks.

Callbacks follow Standard Webhooks: headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature``, an HMAC-SHA256 over "id.timestamp.body" with a shared
``whsec_`` secret, and a timestamp window against replays. A callback is only
trusted after that check, and even then it can only move an agreement forward
('invited' to 'signed' or 'declined'): a repeated, late or stray one changes nothing.
"""

import base64
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .drafts import audit
from .people import SIGNATORY
from .store import timestamp, utcnow, write

logger = logging.getLogger(__name__)

TOLERANCE = timedelta(minutes=5)

SIGNED, DECLINED = "dossier.signed", "dossier.declined"
_STATE_OF = {SIGNED: "signed", DECLINED: "declined"}
_EVENT_OF = {"sign": SIGNED, "decline": DECLINED}


@dataclass(frozen=True)
class Invitation:
    dossier_id: str
    signer_url: str


class DocumentUnavailable(Exception):
    """The provider has no signed document for a dossier its callback says is signed: not yet,
    or its download failed. Nothing changes; the provider sends the callback again later."""


class SigningProvider(Protocol):
    def create_dossier(self, *, reference: str, pdf: bytes, signer_name: str, return_url: str) -> Invitation: ...

    def signed_document(self, dossier_id: str) -> bytes:
        """The signed PDF; raises DocumentUnavailable when there is none to be had now."""


@dataclass(frozen=True)
class Callback:
    """What a verified callback says."""

    webhook_id: str
    type: str              # "dossier.signed" | "dossier.declined"
    dossier_id: str
    # This webhook-id was seen before (a provider's retry): nothing to do again.
    duplicate: bool


class CallbackRejected(Exception):
    """A callback that changes nothing. ``reason``: "headers" (missing), "timestamp"
    (late, early, missing or malformed), "signature" (forged or altered), "payload"
    (an unknown type or shape), "dossier" (no agreement has that dossier)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- the shared secret -------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def derive_secret(secret_key: str) -> str:
    """A stable callback secret for demo mode (no AANSLUITEN_SIGNING_SECRET): every
    worker derives the same one from the app's SECRET_KEY, without storing it."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"aansluiten signing callbacks").derive(secret_key.encode("utf-8"))
    return "whsec_" + base64.b64encode(key).decode("ascii")


# -- callbacks: sending (the simulated provider) and receiving (the app) -------------------

def webhook_request(secret: str, event_type: str, dossier_id: str, now: datetime | None = None,
                    webhook_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and the three signed headers of one callback."""
    # The library reads the moment as UTC whatever its zone (it replaces tzinfo).
    moment = (now or utcnow()).astimezone(timezone.utc)
    webhook_id = webhook_id or "msg_" + secrets.token_urlsafe(16)
    body = json.dumps({"type": event_type, "timestamp": timestamp(moment), "data": {"dossier_id": dossier_id}})
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body),
    }
    return body.encode("utf-8"), headers


def _check_timestamp(value: str | None, now: datetime) -> None:
    """The window of ``standardwebhooks``, against ``now`` (its own check reads the
    clock and takes no ``now``): outside TOLERANCE either way is rejected."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 12:
        raise CallbackRejected("timestamp")
    # In seconds: a stamp centuries away is no date at all (datetime ends in the year 9999).
    if abs(int(value) - now.timestamp()) > TOLERANCE.total_seconds():
        raise CallbackRejected("timestamp")


def verify_callback(db, secret: str, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> Callback:
    """Authenticate a callback, read it, and record its webhook-id (a second one with
    the same id is marked ``duplicate``). Raises CallbackRejected.

    ``now`` can only narrow the window: ``standardwebhooks`` checks the timestamp once
    more against the real clock, so a genuine callback verifies only when both agree.
    """
    headers = {name.lower(): value for name, value in headers.items()}
    if not headers.get("webhook-id") or not headers.get("webhook-signature"):
        raise CallbackRejected("headers")
    _check_timestamp(headers.get("webhook-timestamp"), now or utcnow())
    webhook = Webhook(secret)
    try:
        webhook.verify(body, headers, json_parse=False)
    except WebhookVerificationError as error:
        raise CallbackRejected("timestamp" if "timestamp" in str(error).lower() else "signature") from None
    except ValueError:
        # A body that is not UTF-8 or a malformed signature header: nothing genuine.
        raise CallbackRejected("signature") from None

    event_type, dossier_id = _read_payload(body)
    webhook_id = headers["webhook-id"]
    with write(db):
        recorded = db.conn.execute(
            "INSERT OR IGNORE INTO signing_events (webhook_id, received_at, dossier_id, state) VALUES (?, ?, ?, ?)",
            (webhook_id, timestamp(now), dossier_id, _STATE_OF[event_type]),
        ).rowcount
    return Callback(webhook_id=webhook_id, type=event_type, dossier_id=dossier_id, duplicate=not recorded)


def _read_payload(body: bytes) -> tuple[str, str]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise CallbackRejected("payload") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise CallbackRejected("payload")
    event_type, dossier_id = payload.get("type"), payload["data"].get("dossier_id")
    if not isinstance(event_type, str) or event_type not in _STATE_OF or not isinstance(dossier_id, str) \
            or not dossier_id:
        raise CallbackRejected("payload")
    return event_type, dossier_id


def apply_callback(db, callback: Callback, provider: SigningProvider, now: datetime | None = None) -> int | None:
    """Move the agreement of the callback's dossier forward; returns its draft's id, or
    None when nothing changed (it was no longer 'invited'). Raises CallbackRejected
    ("dossier") when no agreement has that dossier.

    Safe to call again for the same callback (a duplicate included): that is how a
    callback recorded just before a crash still takes effect on the provider's retry.
    Raises DocumentUnavailable, changing nothing, when a signed dossier's PDF cannot be had.
    """
    row = db.conn.execute("SELECT draft_id, signing_state FROM agreements WHERE dossier_id = ?",
                          (callback.dossier_id,)).fetchone()
    if row is None:
        raise CallbackRejected("dossier")
    if row["signing_state"] != "invited":
        return None
    # Fetched before the write: a real provider answers over the network, and the
    # simulated one reads its own table through this same connection.
    signed_pdf = provider.signed_document(callback.dossier_id) if callback.type == SIGNED else None
    with write(db):
        if signed_pdf is not None:
            changed = db.conn.execute(
                "UPDATE agreements SET signing_state = 'signed', signed_pdf = ?, signed_at = ? "
                "WHERE dossier_id = ? AND signing_state = 'invited'",
                (signed_pdf, timestamp(now), callback.dossier_id)).rowcount
        else:
            changed = db.conn.execute(
                "UPDATE agreements SET signing_state = 'declined' WHERE dossier_id = ? AND signing_state = 'invited'",
                (callback.dossier_id,)).rowcount
        if changed:
            # The signatory did it, at the provider, which reports it.
            audit(db, row["draft_id"], 10, "agreement signed" if signed_pdf is not None else "signing declined",
                  actor=SIGNATORY, now=now)
    return row["draft_id"] if changed else None


def invite(db, draft_id: int, provider: SigningProvider, signer_name: str, return_url: str,
           reference: str) -> Invitation:
    """Put the draft's agreement in a dossier at the provider and keep the invitation.
    An agreement already invited keeps its dossier; a declined one gets a new one.
    Raises LookupError without an agreement, ValueError when it is signed already."""
    row = _agreement(db, draft_id)
    if row["signing_state"] == "invited":
        return Invitation(row["dossier_id"], row["signing_url"])
    if row["signing_state"] == "signed":
        raise ValueError(f"the agreement of draft {draft_id} is signed already")
    invitation = provider.create_dossier(reference=reference, pdf=row["pdf"], signer_name=signer_name,
                                         return_url=return_url)
    with write(db):
        changed = db.conn.execute(
            "UPDATE agreements SET dossier_id = ?, signing_state = 'invited', signing_url = ? "
            "WHERE draft_id = ? AND signing_state = ? AND dossier_id IS ?",
            (invitation.dossier_id, invitation.signer_url, draft_id, row["signing_state"], row["dossier_id"]),
        ).rowcount
        if changed:
            audit(db, draft_id, 10, "signing invited")
    if changed:
        return invitation
    # Another request invited in between: its dossier is the one (ours stays unused).
    row = _agreement(db, draft_id)
    if row["signing_state"] != "invited":
        raise ValueError(f"the agreement of draft {draft_id} changed while inviting ({row['signing_state']})")
    return Invitation(row["dossier_id"], row["signing_url"])


def _agreement(db, draft_id: int):
    row = db.conn.execute("SELECT pdf, dossier_id, signing_state, signing_url FROM agreements WHERE draft_id = ?",
                          (draft_id,)).fetchone()
    if row is None:
        raise LookupError(f"draft {draft_id} has no agreement")
    return row


# -- the simulated provider ----------------------------------------------------------------

class SimulatedSigning:
    """The demo signing provider: dossiers in table sim_sign_dossiers; its signer's page
    (under routes/) shows the PDF and calls decide(). It signs with a demo certificate
    made on first use (demo_credentials)."""

    def __init__(self, db, signer_page_url: str, deliver: Callable[[bytes, dict[str, str]], None], secret: str):
        # signer_page_url: a format string with {dossier_id}; deliver(body, headers): how
        # a callback reaches the app.
        self.db = db
        self.signer_page_url = signer_page_url
        self.deliver = deliver
        self.secret = secret

    def create_dossier(self, *, reference: str, pdf: bytes, signer_name: str, return_url: str) -> Invitation:
        dossier_id = secrets.token_urlsafe(16)
        with write(self.db):
            self.db.conn.execute(
                "INSERT INTO sim_sign_dossiers (id, reference, pdf, signer_name, return_url, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (dossier_id, reference, pdf, signer_name, return_url, timestamp()),
            )
        return Invitation(dossier_id, self.signer_page_url.format(dossier_id=dossier_id))

    def dossier(self, dossier_id: str) -> dict | None:
        row = self.db.conn.execute(
            "SELECT id, reference, pdf, signer_name, return_url, state FROM sim_sign_dossiers WHERE id = ?",
            (dossier_id,)).fetchone()
        return dict(row) if row else None

    def decide(self, dossier_id: str, decision: str, now: datetime | None = None) -> str:
        """The signer's choice, "sign" or "decline"; only the first one counts. The
        callback goes out after the commit, so that the app, reading the signed
        document back at once, finds it. Returns where the signer goes next.
        Raises LookupError for an unknown dossier."""
        if decision not in _EVENT_OF:
            raise ValueError(f"unknown decision {decision!r}")
        dossier = self.dossier(dossier_id)
        if dossier is None:
            raise LookupError(f"no dossier {dossier_id}")
        if dossier["state"] != "invited":
            return dossier["return_url"]
        signed_pdf = None
        if decision == "sign":
            key_pem, cert_pem = demo_credentials(self.db)
            signed_pdf = sign_pdf(dossier["pdf"], key_pem, cert_pem, dossier["signer_name"])
        state = _STATE_OF[_EVENT_OF[decision]]
        with write(self.db):
            changed = self.db.conn.execute(
                "UPDATE sim_sign_dossiers SET state = ?, signed_pdf = ? WHERE id = ? AND state = 'invited'",
                (state, signed_pdf, dossier_id)).rowcount
        if changed:
            self.deliver(*webhook_request(self.secret, _EVENT_OF[decision], dossier_id, now))
        return dossier["return_url"]

    def signed_document(self, dossier_id: str) -> bytes:
        row = self.db.conn.execute("SELECT signed_pdf FROM sim_sign_dossiers WHERE id = ? AND state = 'signed'",
                                   (dossier_id,)).fetchone()
        if row is None:
            raise DocumentUnavailable(f"dossier {dossier_id} is not signed")
        return row[0]


# -- the demo certificate and PAdES signatures ---------------------------------------------

_KEY, _CERTIFICATE = "demo-signing-key", "demo-signing-certificate"


def demo_credentials(db) -> tuple[bytes, bytes]:
    """(key PEM, certificate PEM) of the self-signed demo signing certificate, made on
    first use. Both rows are inserted in one transaction and read back, so that two
    workers making it at once end up with the same pair. Not inside a write."""
    stored = _stored_credentials(db)
    if stored:
        return stored
    made = _new_credentials()
    with write(db):
        db.conn.executemany("INSERT OR IGNORE INTO sim_keys (name, pem) VALUES (?, ?)",
                            [(_KEY, made[0]), (_CERTIFICATE, made[1])])
    return _stored_credentials(db)


def _stored_credentials(db) -> tuple[bytes, bytes] | None:
    pems = dict(db.conn.execute("SELECT name, pem FROM sim_keys WHERE name IN (?, ?)", (_KEY, _CERTIFICATE)))
    return (pems[_KEY], pems[_CERTIFICATE]) if len(pems) == 2 else None


def _new_credentials() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "VECOZO Aansluiten demo signing"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VECOZO (demo)"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
    ])
    start = utcnow() - timedelta(minutes=5)   # a little slack for the clocks of other machines
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3652))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def sign_pdf(pdf: bytes, key_pem: bytes, cert_pem: bytes, signer_name: str) -> bytes:
    """A PAdES signature (see ``pdf_signature``: pyHanko is loaded when first needed, it
    weighs about 45 MB that a worker would otherwise carry)."""
    from .pdf_signature import sign_pdf as sign

    return sign(pdf, key_pem, cert_pem, signer_name)


def verify_pdf_signature(pdf: bytes, cert_pem: bytes) -> bool:
    from .pdf_signature import verify_pdf_signature as verify

    return verify(pdf, cert_pem)
