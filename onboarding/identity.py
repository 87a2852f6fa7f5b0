"""Step 10, online: identification with iDIN.

iDIN brokers offer iDIN as OpenID Connect's authorization code flow, so the provider
interface has that shape: the person goes to the bank with a ``state`` and a ``nonce``,
comes back to the redirect URI with a ``code`` (or an ``error``) and the ``state``, and
the code is exchanged, once, for the claims and the nonce. The claims are compared with
the person the applicant entered: a match identifies them, a difference goes to staff.

The ``state`` is a single-use token like the e-mail links (random, expiring, stored
hashed) and it is bound to the draft that started it: a return that brings another
draft's state, a used or expired one, or a code obtained with another nonce changes
nothing.
"""

import hashlib
import json
import logging
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .drafts import audit
from .store import timestamp, utcnow, write
from .workdays import add_working_days

ROLES = ("signatory", "main_contact")
REQUEST_LIFETIME = timedelta(minutes=15)
CODE_LIFETIME = timedelta(minutes=5)
MANUAL_CHECK_DAYS = 5
STEP = 10

_NETHERLANDS = ZoneInfo("Europe/Amsterdam")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claims:
    """What iDIN returns about a person (and what was entered, to compare with)."""

    initials: str
    prefix: str
    surname: str
    birth_date: str  # 'YYYY-MM-DD'


class IdentityError(Exception):
    """The provider refused the code exchange (unknown, used, expired code, wrong redirect_uri)."""


class ReturnRejected(Exception):
    """A return that must change nothing: an unknown, used or expired state, a state of
    another draft, a nonce that does not match (``reason`` says which)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class IdentityProvider(Protocol):
    def authorization_url(self, *, state: str, nonce: str, redirect_uri: str) -> str: ...

    def exchange(self, code: str, redirect_uri: str) -> tuple[Claims, str]:
        """The claims and the nonce the code was issued with; IdentityError otherwise."""
        ...


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SimulatedIdin:
    """The demo bank, keeping its codes in the app's database (table sim_idin_codes)."""

    def __init__(self, db, authorize_url: str):
        self.db = db
        self.authorize_url = authorize_url

    def authorization_url(self, *, state: str, nonce: str, redirect_uri: str) -> str:
        return self.authorize_url + "?" + urlencode({
            "response_type": "code",
            "client_id": "aansluiten",
            "scope": "openid idin.name idin.birthdate",
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
        })

    def issue_code(self, claims: Claims, nonce: str, redirect_uri: str, now: datetime | None = None) -> str:
        """The bank page's "confirm": a single-use code for ``claims``."""
        now = now or utcnow()
        code = secrets.token_urlsafe(32)
        with write(self.db):
            self.db.conn.execute(
                "INSERT INTO sim_idin_codes (code_hash, claims, nonce, redirect_uri, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(code), json.dumps(asdict(claims), ensure_ascii=False), nonce, redirect_uri,
                 timestamp(now + CODE_LIFETIME)),
            )
        return code

    def exchange(self, code: str, redirect_uri: str, now: datetime | None = None) -> tuple[Claims, str]:
        """Any presentation of a code spends it, a refused one too (as RFC 6749 asks of a
        code presented twice): the mark is committed before the refusal is raised."""
        refused = None
        with write(self.db):
            row = self.db.conn.execute(
                "SELECT claims, nonce, redirect_uri, expires_at FROM sim_idin_codes WHERE code_hash = ?",
                (_hash(code or ""),),
            ).fetchone()
            if row is None:
                refused = "unknown code"
            elif not self.db.conn.execute(
                "UPDATE sim_idin_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
                (timestamp(now), _hash(code)),
            ).rowcount:
                refused = "code used"
            elif row["expires_at"] <= timestamp(now):
                refused = "code expired"
            elif row["redirect_uri"] != redirect_uri:
                refused = "redirect_uri differs"
        if refused:
            raise IdentityError(refused)
        return Claims(**json.loads(row["claims"])), row["nonce"]


# -- matching ---------------------------------------------------------------------------------

# One kind of apostrophe and hyphen, as onboarding.validators stores them: the glyph a bank
# or a keyboard uses is not a difference of name.
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_HYPHENS = str.maketrans({"‐": "-", "‑": "-", "–": "-"})


def _folded(value: str) -> str:
    """Without case and diacritics ("Çelik" -> "celik", "Ĳsselmeer" -> "ijsselmeer")."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold().translate(_APOSTROPHES).translate(_HYPHENS)


def _words(value: str) -> str:
    """Runs of whitespace made one space and trimmed; spaces around a hyphen dropped
    ("Jansen - de Vries" is "Jansen-de Vries", as step 4 stores it)."""
    spaced = " ".join(_folded(value).split())
    return spaced.replace(" -", "-").replace("- ", "-")


def normalised(claims: Claims) -> tuple:
    """What matching compares. Initials keep their letters only: dots, spaces and hyphens
    are how they are written, not which they are ("J.-P." is "JP"). In prefix and surname
    hyphens and apostrophes stay significant ("Jansen-de Vries" is not "Jansen de Vries")."""
    return (
        "".join(char for char in _folded(claims.initials) if char.isalpha()),
        _words(claims.prefix),
        _words(claims.surname),
        (claims.birth_date or "").strip(),
    )


def matches(entered: Claims, returned: Claims) -> bool:
    return normalised(entered) == normalised(returned)


# -- the flow ---------------------------------------------------------------------------------


# A person's online identification is over once identified, or once staff rejected what the bank
# returned: then only a visit identifies them (the rejection mail says so).
ONLINE_OVER = ("identified", "rejected")


@dataclass(frozen=True)
class Identification:
    role: str
    state: str  # 'identified' | 'manual_check' | 'rejected'
    via: str  # 'idin' | 'staff' | 'visit'
    due_on: date | None  # manual check: the date staff answer by
    at: str


@dataclass(frozen=True)
class Outcome:
    role: str
    result: str  # 'identified' | 'manual_check' | 'cancelled' | 'failed'
    due_on: date | None = None


def start(db, draft_id: int, role: str, provider: IdentityProvider, redirect_uri: str,
          now: datetime | None = None) -> str:
    """Begin ``role``'s identification: the URL of the bank to send the browser to."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    now = now or utcnow()
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    with write(db):
        db.conn.execute(
            "INSERT INTO identity_requests (state_hash, draft_id, role, nonce, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(state), draft_id, role, nonce, timestamp(now), timestamp(now + REQUEST_LIFETIME)),
        )
        audit(db, draft_id, STEP, f"identification of the {role} started", actor=role, now=now)
    return provider.authorization_url(state=state, nonce=nonce, redirect_uri=redirect_uri)


def _claim_request(db, draft_id: int, state: str, now: datetime):
    """The request ``state`` opened, marked used; ReturnRejected (and nothing marked) when
    it is unknown, of another draft, used or expired. Call inside a write transaction."""
    row = db.conn.execute(
        "SELECT draft_id, role, nonce, expires_at, used_at FROM identity_requests WHERE state_hash = ?",
        (_hash(state or ""),),
    ).fetchone()
    if row is None:
        raise ReturnRejected("unknown")
    if row["draft_id"] != draft_id:
        raise ReturnRejected("foreign")
    if row["used_at"]:
        raise ReturnRejected("used")
    if row["expires_at"] <= timestamp(now):
        raise ReturnRejected("expired")
    if not db.conn.execute(
        "UPDATE identity_requests SET used_at = ? WHERE state_hash = ? AND used_at IS NULL",
        (timestamp(now), _hash(state)),
    ).rowcount:
        raise ReturnRejected("used")
    return row


def _entered(db, draft_id: int, role: str) -> Claims | None:
    row = db.conn.execute(
        "SELECT initials, prefix, surname, birth_date FROM persons WHERE draft_id = ? AND role = ?",
        (draft_id, role),
    ).fetchone()
    return Claims(**dict(row)) if row else None


def finish(db, *, draft_id: int, state: str, code: str | None, error: str | None,
           provider: IdentityProvider, redirect_uri: str, today: date | None = None,
           now: datetime | None = None) -> Outcome:
    """The browser of ``draft_id`` came back from the bank.

    Two transactions with the exchange between them, so that no write lock is held while
    the provider is asked (the simulated one writes through this same connection, and a
    BEGIN IMMEDIATE inside another fails). The first spends the state, so that a second
    return with it is rejected even while the first is at the provider; the second records
    the result. Must be called outside a transaction.

    A code obtained with another nonce raises ReturnRejected and records nothing, but its
    state stays used: a state presented with a code is spent, and the person starts again.
    """
    now = now or utcnow()
    with write(db):
        request = _claim_request(db, draft_id, state, now)
        role = request["role"]
        if error:
            result = "cancelled" if error == "access_denied" else "failed"
            log.info("identification of the %s of draft %s: provider answered %.40r", role, draft_id, error)
            audit(db, draft_id, STEP, f"identification of the {role} {result} at the bank", actor=role, now=now)
            return Outcome(role, result)
    try:
        claims, nonce = provider.exchange(code or "", redirect_uri)
    except IdentityError as refused:
        log.warning("identification of the %s of draft %s: code refused (%s)", role, draft_id, refused)
        with write(db):
            audit(db, draft_id, STEP, f"identification of the {role} failed: the bank refused the code", actor=role,
                  now=now)
        return Outcome(role, "failed")
    if not secrets.compare_digest(str(nonce).encode(), request["nonce"].encode()):
        log.warning("identification of the %s of draft %s: nonce differs, return rejected", role, draft_id)
        raise ReturnRejected("nonce")
    with write(db):
        return _record(db, draft_id, role, claims, today or now.astimezone(_NETHERLANDS).date(), now)


def _submitted(db, draft_id: int) -> bool:
    row = db.conn.execute("SELECT status FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    return row is not None and row["status"] == "submitted"


def _record(db, draft_id: int, role: str, claims: Claims, today: date, now: datetime) -> Outcome:
    """Upsert what this try found. A later try replaces a manual check or a rejection, never
    an identification (a difference found after it is audited, and changes nothing)."""
    if not _submitted(db, draft_id):
        # Reopened (or completed) while the person was at the bank: step 10 starts afresh.
        audit(db, draft_id, STEP, f"identification of the {role} came back after the application changed; ignored",
              actor=role, now=now)
        return Outcome(role, "failed")
    entered = _entered(db, draft_id, role)
    if entered is not None and matches(entered, claims):
        state, due_on, kept = "identified", None, None
        action = f"the {role} identified with iDIN"
    else:
        state, due_on = "manual_check", add_working_days(today, MANUAL_CHECK_DAYS)
        kept = json.dumps(asdict(claims), ensure_ascii=False)
        action = f"identification of the {role}: the bank's attributes differ, manual check due {due_on}"
    written = db.conn.execute(
        "INSERT INTO identifications (draft_id, role, state, claims, due_on, via, at) "
        "VALUES (?, ?, ?, ?, ?, 'idin', ?) ON CONFLICT (draft_id, role) DO UPDATE SET "
        "state = excluded.state, claims = excluded.claims, due_on = excluded.due_on, via = excluded.via, "
        "at = excluded.at WHERE identifications.state != 'identified'",
        (draft_id, role, state, kept, due_on and due_on.isoformat(), timestamp(now)),
    ).rowcount
    if not written:
        audit(db, draft_id, STEP, f"{action}; the {role} was identified already, which stays", actor=role, now=now)
        return Outcome(role, "identified")
    audit(db, draft_id, STEP, action, actor=role, now=now)
    return Outcome(role, state, due_on)


def identifications(db, draft_id: int) -> dict[str, Identification]:
    rows = db.conn.execute(
        "SELECT role, state, via, due_on, at FROM identifications WHERE draft_id = ?", (draft_id,)
    ).fetchall()
    return {
        row["role"]: Identification(
            role=row["role"], state=row["state"], via=row["via"],
            due_on=date.fromisoformat(row["due_on"]) if row["due_on"] else None, at=row["at"],
        )
        for row in rows
    }


def clear(db, draft_id: int) -> None:
    """Reopening an application voids step 10: its identifications and the returns still
    open. The caller holds the transaction."""
    db.conn.execute("DELETE FROM identifications WHERE draft_id = ?", (draft_id,))
    db.conn.execute("DELETE FROM identity_requests WHERE draft_id = ? AND used_at IS NULL", (draft_id,))


def person_for_state(db, state: str) -> Claims | None:
    """What was entered for the person an open request is for: the simulated bank
    (demo mode) fills its page with it, so that a tester can confirm or change it."""
    row = db.conn.execute("SELECT draft_id, role FROM identity_requests WHERE state_hash = ? AND used_at IS NULL",
                          (_hash(state or ""),)).fetchone()
    return _entered(db, row["draft_id"], row["role"]) if row else None
