"""Staff users of the back office: a password and a second factor (TOTP or a recovery code).

Passwords are stored as scrypt hashes, the TOTP secret sealed (encrypted with a key
derived from the app's secret key), recovery codes as SHA-256 hashes. Logins and codes
are rate limited in the database, so that every server process counts together.
A user's ``session_epoch`` moves on when they log out, their password is reset or they are disabled:
a session made under an older epoch is no longer valid.
"""

import functools
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from werkzeug.security import check_password_hash, generate_password_hash

from .ratelimit import Limit, RateLimited, hit, take_back
from .store import timestamp, utcnow, write

MIN_PASSWORD = 12
RECOVERY_CODES = 10
# Wrong passwords: 5 for a user from one client address, so that someone who knows a user name cannot
# lock that user out from one other address (from ten they still can, for 15 minutes); 50 for a user
# from all addresses together (a guess spread over many, which the second factor stops anyway); 20
# from one address for all users together.
LOGIN_PER_USER_AND_CLIENT = Limit("staff-login-user-client", hits=5, window=timedelta(minutes=15))
LOGIN_PER_USER = Limit("staff-login-user", hits=50, window=timedelta(minutes=15))
LOGIN_PER_CLIENT = Limit("staff-login-client", hits=20, window=timedelta(minutes=15))
CODE_PER_USER = Limit("staff-code-user", hits=5, window=timedelta(minutes=15))

_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,64}")
# Lowercase letters and digits without the look-alikes 0/o, 1/l/i.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_TOTP_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    totp_enrolled: bool
    disabled: bool
    session_epoch: int


_MESSAGES = {
    "exists": "A staff user with that name already exists.",
    "unknown": "There is no staff user with that name.",
    "weak_password": f"The password must be at least {MIN_PASSWORD} characters long.",
    "bad_username": "A username has 3 to 64 characters: letters, digits, dots, dashes and underscores.",
}


class AccountError(ValueError):
    """``code``: "exists", "unknown", "weak_password" or "bad_username"."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or _MESSAGES[code])
        self.code = code


class LoginRefused(Exception):
    """``reason``: "credentials" (also for an unknown or disabled user) or "rate_limited"."""

    def __init__(self, reason: str, minutes: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.minutes = minutes


class CodeRefused(Exception):
    """``reason``: "code" or "rate_limited"."""

    def __init__(self, reason: str, minutes: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.minutes = minutes


def _user(row) -> StaffUser:
    return StaffUser(
        id=row["id"],
        username=row["username"],
        totp_enrolled=row["totp_confirmed_at"] is not None,
        disabled=row["disabled_at"] is not None,
        session_epoch=row["session_epoch"],
    )


def _row_by_name(db, username: str):
    return db.conn.execute("SELECT * FROM staff_users WHERE username = ?", (username,)).fetchone()


def _row_by_id(db, user_id: int):
    return db.conn.execute("SELECT * FROM staff_users WHERE id = ?", (user_id,)).fetchone()


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError("weak_password")
    return generate_password_hash(password, method="scrypt")


@functools.cache
def _dummy_hash() -> str:
    # Made with the same method and cost as real hashes, so an unknown user takes as long.
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def create_user(db, username: str, password: str) -> StaffUser:
    if not _USERNAME.fullmatch(username or ""):
        raise AccountError("bad_username")
    password_hash = _hash_password(password or "")
    try:
        with write(db):
            cursor = db.conn.execute(
                "INSERT INTO staff_users (username, password_hash, created_at) VALUES (?, ?, ?)",
                (username, password_hash, timestamp()),
            )
    except sqlite3.IntegrityError:
        raise AccountError("exists") from None
    return by_id(db, cursor.lastrowid)


def disable_user(db, username: str) -> None:
    with write(db):
        cursor = db.conn.execute(
            "UPDATE staff_users SET disabled_at = COALESCE(disabled_at, ?), session_epoch = session_epoch + 1 "
            "WHERE username = ?",
            (timestamp(), username),
        )
        if cursor.rowcount == 0:
            raise AccountError("unknown")


def end_sessions(db, user_id: int) -> None:
    """A log-out: every session of the user ends on the server, so that no copy of the cookie
    outlives it (the cookie alone is forgotten only by the browser that logged out)."""
    with write(db):
        db.conn.execute("UPDATE staff_users SET session_epoch = session_epoch + 1 WHERE id = ?", (user_id,))


def reset_password(db, username: str, password: str) -> None:
    """A new password; every session of the user ends. Disabled stays disabled, the second factor stays."""
    password_hash = _hash_password(password or "")
    with write(db):
        cursor = db.conn.execute(
            "UPDATE staff_users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE username = ?",
            (password_hash, username),
        )
        if cursor.rowcount == 0:
            raise AccountError("unknown")


def by_username(db, username: str) -> StaffUser | None:
    row = _row_by_name(db, username)
    return _user(row) if row else None


def by_id(db, user_id: int) -> StaffUser | None:
    row = _row_by_id(db, user_id)
    return _user(row) if row else None


def check_password(db, username: str, password: str, client: str, now: datetime | None = None) -> StaffUser:
    """The user, if the password is right; else LoginRefused, the same for an unknown or disabled user."""
    now = now or utcnow()
    user = username.lower()
    limits = [(LOGIN_PER_USER_AND_CLIENT, f"{user} {client}"), (LOGIN_PER_USER, user), (LOGIN_PER_CLIENT, client)]
    try:
        # Counted before checking: a right password does not get past a used-up limit. Once
        # right, the try is taken back: the limits count wrong passwords.
        hit(db, limits, now)
    except RateLimited as limited:
        raise LoginRefused("rate_limited", limited.minutes) from None
    row = _row_by_name(db, username)
    # An unknown user costs a hash check too: the time taken tells nothing.
    right = check_password_hash(row["password_hash"] if row else _dummy_hash(), password)
    if row is None or not right or row["disabled_at"] is not None:
        raise LoginRefused("credentials")
    take_back(db, limits, now)
    return _user(row)


# -- the second factor -------------------------------------------------------------------------


def start_enrolment(db, user_id: int, seal) -> str:
    """A new TOTP secret for a user who has none confirmed yet; returns it (for the QR code)."""
    secret = pyotp.random_base32()
    with write(db):
        _not_enrolled(db, user_id)
        db.conn.execute(
            "UPDATE staff_users SET totp_sealed = ?, totp_last_step = NULL WHERE id = ?",
            (seal.close({"totp": secret}), user_id),
        )
    return secret


def enrolment_secret(db, user_id: int, seal) -> str:
    """The secret being enrolled: the one shown before, until a code confirms it, else a new one.
    A reload or a mistyped code keeps it: the app the user scanned it into must go on matching."""
    return _secret(_not_enrolled(db, user_id), seal) or start_enrolment(db, user_id, seal)


def _not_enrolled(db, user_id: int):
    """The user's row, while their second factor is not confirmed yet (enrolment's two steps)."""
    row = _row_by_id(db, user_id)
    if row is None:
        raise AccountError("unknown")
    if row["totp_confirmed_at"] is not None:
        raise AccountError("exists")
    return row


def provisioning_uri(secret: str, username: str, issuer: str = "VECOZO Aansluiten") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> str:
    """The QR code of ``uri`` as inline SVG, with presentation attributes only (the CSP forbids
    inline style) and a light background of its own, so that it scans in a dark theme too."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _secret(row, seal) -> str | None:
    return seal.open(row["totp_sealed"]).get("totp") if row["totp_sealed"] else None


def _totp_step(secret: str, code: str, after: int | None, now: datetime) -> int | None:
    """The time step at which ``code`` is valid (one step either side of now), if later than ``after``."""
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _recovery_code() -> str:
    return "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))


def _count_code(db, user_id: int, now: datetime) -> None:
    try:
        hit(db, [(CODE_PER_USER, str(user_id))], now)
    except RateLimited as limited:
        raise CodeRefused("rate_limited", limited.minutes) from None


def confirm_enrolment(db, user_id: int, code: str, seal, now: datetime | None = None) -> list[str]:
    """The first valid code confirms the second factor; returns the recovery codes, in plain, once."""
    now = now or utcnow()
    _count_code(db, user_id, now)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    with write(db):
        row = _not_enrolled(db, user_id)
        secret = _secret(row, seal)
        step = _totp_step(secret, _normalise(code), row["totp_last_step"], now) if secret else None
        if step is None:
            raise CodeRefused("code")
        db.conn.execute(
            "UPDATE staff_users SET totp_confirmed_at = ?, totp_last_step = ? WHERE id = ?",
            (timestamp(now), step, user_id),
        )
        db.conn.execute("DELETE FROM staff_recovery_codes WHERE staff_id = ?", (user_id,))
        db.conn.executemany(
            "INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES (?, ?)",
            [(user_id, _code_hash(recovery)) for recovery in codes],
        )
    return codes


def check_code(db, user_id: int, code: str, seal, now: datetime | None = None) -> str:
    """"totp" or "recovery" for a code accepted (each only once); else CodeRefused. Only refused
    codes use up the limit."""
    now = now or utcnow()
    _count_code(db, user_id, now)
    accepted = _accepted_code(db, user_id, _normalise(code), seal, now)
    take_back(db, [(CODE_PER_USER, str(user_id))], now)
    return accepted


def _accepted_code(db, user_id: int, typed: str, seal, now: datetime) -> str:
    with write(db):
        row = _row_by_id(db, user_id)
        if row is None or row["totp_confirmed_at"] is None or row["disabled_at"] is not None:
            raise CodeRefused("code")
        secret = _secret(row, seal)
        step = _totp_step(secret, typed, row["totp_last_step"], now) if secret else None
        if step is not None:
            db.conn.execute("UPDATE staff_users SET totp_last_step = ? WHERE id = ?", (step, user_id))
            return "totp"
        if typed:
            cursor = db.conn.execute(
                "UPDATE staff_recovery_codes SET used_at = ? WHERE staff_id = ? AND code_hash = ? AND used_at IS NULL",
                (timestamp(now), user_id, _code_hash(typed)),
            )
            if cursor.rowcount == 1:
                return "recovery"
    raise CodeRefused("code")


def recovery_codes_left(db, user_id: int) -> int:
    return db.conn.execute(
        "SELECT count(*) FROM staff_recovery_codes WHERE staff_id = ? AND used_at IS NULL", (user_id,)
    ).fetchone()[0]


def current_code(db, user_id: int, seal, now: datetime | None = None) -> str:
    """The TOTP code of this moment (demo mode only: the demo start page shows it)."""
    row = _row_by_id(db, user_id)
    secret = _secret(row, seal) if row else None
    if not secret:
        raise AccountError("unknown")
    return pyotp.TOTP(secret).at(now or utcnow())


DEMO_USERNAME, DEMO_PASSWORD = "demo", "demo-beheer-2026"


def ensure_demo_user(db, seal, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD) -> StaffUser:
    """The demo staff user, with this password, enabled and enrolled; changes nothing when it already is."""
    row = _row_by_name(db, username)
    if row is None:
        try:
            create_user(db, username, password)
        except AccountError as error:
            if error.code != "exists":  # made by another process in the meantime: go on with it
                raise
        row = _row_by_name(db, username)
    # Hashed before the write lock is taken: scrypt is slow on purpose.
    new_hash = None if check_password_hash(row["password_hash"], password) else _hash_password(password)
    with write(db):
        if new_hash:
            # A changed password ends the sessions, as a reset does.
            db.conn.execute(
                "UPDATE staff_users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE id = ?",
                (new_hash, row["id"]),
            )
        if not _secret(row, seal):
            # None yet, or sealed under another secret key: a new one.
            db.conn.execute(
                "UPDATE staff_users SET totp_sealed = ?, totp_last_step = NULL WHERE id = ?",
                (seal.close({"totp": pyotp.random_base32()}), row["id"]),
            )
        db.conn.execute(
            "UPDATE staff_users SET totp_confirmed_at = COALESCE(totp_confirmed_at, ?), disabled_at = NULL "
            "WHERE id = ?",
            (timestamp(), row["id"]),
        )
    return by_id(db, row["id"])
