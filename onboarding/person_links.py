"""Links mailed to one person of a submitted application: the main contact's own
identification, and changing or cancelling a visit.

Like the e-mail links (``tokens``): random, single-use, expiring, stored hashed. Opening
one gives that browser a grant of its own (a second random value, also stored hashed)
that reaches this one person's part of the application and nothing else.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .store import timestamp, utcnow, write
from .tokens import TokenRejected

LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class Grant:
    draft_id: int
    role: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue(db, draft_id: int, role: str, now: datetime | None = None) -> str:
    """A new link for ``role``; the person's older unused links stop working."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with write(db):
        db.conn.execute("UPDATE person_links SET expires_at = ? WHERE draft_id = ? AND role = ? AND used_at IS NULL",
                        (timestamp(now), draft_id, role))
        db.conn.execute(
            "INSERT INTO person_links (token_hash, draft_id, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_hash(token), draft_id, role, timestamp(now), timestamp(now + LIFETIME)))
    return token


def redeem(db, token: str, now: datetime | None = None) -> tuple[str, Grant]:
    """Use the link once; returns the browser's grant and what it reaches."""
    stamp = timestamp(now)
    grant = secrets.token_urlsafe(32)
    with write(db):
        row = db.conn.execute("SELECT draft_id, role, expires_at, used_at, ended_at FROM person_links "
                              "WHERE token_hash = ?", (_hash(token),)).fetchone()
        if row is None:
            raise TokenRejected("unknown")
        if row["ended_at"]:
            raise TokenRejected("reopened")  # the application was reopened: no step 10 to ask a new one from
        if row["used_at"]:
            raise TokenRejected("used")
        if row["expires_at"] <= stamp:
            raise TokenRejected("expired")
        db.conn.execute("UPDATE person_links SET used_at = ?, grant_hash = ? WHERE token_hash = ?",
                        (stamp, _hash(grant), _hash(token)))
    return grant, Grant(row["draft_id"], row["role"])


def by_grant(db, grant: str | None) -> Grant | None:
    if not grant:
        return None
    row = db.conn.execute("SELECT draft_id, role FROM person_links WHERE grant_hash = ? AND ended_at IS NULL",
                          (_hash(grant),)).fetchone()
    return Grant(row["draft_id"], row["role"]) if row else None


def ended(db, grant: str | None) -> bool:
    """Whether ``grant`` reached a person's part until the application was reopened (``end_all``)."""
    return bool(grant) and db.conn.execute(
        "SELECT 1 FROM person_links WHERE grant_hash = ? AND ended_at IS NOT NULL", (_hash(grant),)).fetchone() is not None


def sign_out(db, grant: str | None) -> None:
    """``grant`` reaches nothing any more (its browser logged out): a copy of it neither."""
    if grant:
        with write(db):
            db.conn.execute("UPDATE person_links SET grant_hash = NULL WHERE grant_hash = ?", (_hash(grant),))


def end_all(db, draft_id: int) -> None:
    """Every link of the application stops working, and every grant opened with one (a reopen)."""
    stamp = timestamp()
    db.conn.execute("UPDATE person_links SET used_at = coalesce(used_at, ?), ended_at = ? WHERE draft_id = ?",
                    (stamp, stamp, draft_id))
