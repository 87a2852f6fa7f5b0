"""Single-use e-mail tokens: random, expiring, stored only as a hash."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .store import timestamp, utcnow, write

TOKEN_LIFETIME = timedelta(hours=24)


class TokenRejected(Exception):
    """The link is unknown, used, voided by a newer link, or expired."""

    def __init__(self, reason: str, email: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.email = email


_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def looks_like_a_token(token: str) -> bool:
    """Whether ``token`` has the shape of the tokens made here (URL-safe, 43 characters)."""
    return bool(_TOKEN.fullmatch(token or ""))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def browser_hash(browser_id: str | None) -> str | None:
    """How a browser's random id is stored: hashed, like the tokens."""
    return _hash(browser_id) if browser_id else None


def new_token() -> str:
    """A random token, for a link that must be known before it is issued (the mail that
    carries it is made before the write that stores both)."""
    return secrets.token_urlsafe(32)


def issue(db, email: str, draft_id: int | None = None, requested_by: str | None = None,
          now: datetime | None = None, token: str | None = None) -> str:
    """A new token for ``email`` (``token`` if given, from :func:`new_token`), asked for by
    the browser ``requested_by`` (a :func:`browser_hash`). The older unused links that
    browser asked for the address are voided, and so are the draft's older links (a
    mistyped address must not keep a way in); links another browser asked for stay
    valid, so that nobody can void someone else's link.

    Given ``draft_id``, the token moves that draft to ``email`` when it is used.
    """
    now = now or utcnow()
    token = token or new_token()
    with write(db):
        # Two statements rather than one with OR: each reads its own index.
        db.conn.execute(
            "UPDATE email_tokens SET voided_at = ? WHERE email = ? AND requested_by IS ? "
            "AND used_at IS NULL AND voided_at IS NULL",
            (timestamp(now), email, requested_by),
        )
        if draft_id is not None:
            db.conn.execute(
                "UPDATE email_tokens SET voided_at = ? WHERE draft_id = ? AND used_at IS NULL AND voided_at IS NULL",
                (timestamp(now), draft_id),
            )
        db.conn.execute(
            "INSERT INTO email_tokens (token_hash, email, draft_id, requested_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(token), email, draft_id, requested_by, timestamp(now), timestamp(now + TOKEN_LIFETIME)),
        )
    return token


@dataclass(frozen=True)
class Link:
    """What a still-usable token would open: the address, and the draft it was asked for from."""

    email: str
    draft_id: int | None


def _usable(db, token: str, now: datetime | None) -> Link:
    row = db.conn.execute(
        "SELECT email, draft_id, expires_at, used_at, voided_at FROM email_tokens WHERE token_hash = ?",
        (_hash(token),),
    ).fetchone()
    if row is None:
        raise TokenRejected("unknown")
    if row["used_at"]:
        raise TokenRejected("used", row["email"])
    if row["voided_at"]:
        raise TokenRejected("voided")
    if row["expires_at"] <= timestamp(now):
        raise TokenRejected("expired")
    return Link(email=row["email"], draft_id=row["draft_id"])


def check(db, token: str, now: datetime | None = None) -> Link:
    """What a still-usable token would open; raises TokenRejected otherwise."""
    return _usable(db, token, now)


def redeem(db, token: str, now: datetime | None = None) -> Link:
    """Use the token once.

    Must be called inside a write transaction, together with what the token
    unlocks, so that two clicks at once cannot both succeed.
    """
    link = _usable(db, token, now)
    db.conn.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ?", (timestamp(now), _hash(token)))
    return link


def recently_issued(db, email: str, requested_by: str | None, within: timedelta = timedelta(minutes=1),
                    now: datetime | None = None) -> bool:
    """Whether this browser just had a still-unused link sent to ``email`` (a double
    click, not a new request)."""
    row = db.conn.execute(
        "SELECT 1 FROM email_tokens WHERE email = ? AND requested_by IS ? AND used_at IS NULL "
        "AND voided_at IS NULL AND created_at > ?",
        (email, requested_by, timestamp((now or utcnow()) - within)),
    ).fetchone()
    return row is not None


def last_requested(db, requested_by: str | None) -> str | None:
    """The address this browser last asked a link for (to show and prefill it again)."""
    if not requested_by:
        return None
    row = db.conn.execute(
        "SELECT email FROM email_tokens WHERE requested_by = ? ORDER BY id DESC LIMIT 1", (requested_by,)
    ).fetchone()
    return row["email"] if row else None
