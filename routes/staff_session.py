"""The staff session: a cookie of its own, apart from any applicant's.

Signed like Flask's session, but with another name, path ``/beheer`` only, ``SameSite=Strict``,
8 hours at most and 30 minutes idle (``AANSLUITEN_STAFF_MAX_AGE``, ``AANSLUITEN_STAFF_IDLE_TIMEOUT``).
It holds the user's id, the user's session epoch (a log-out, a password reset or disabling ends every
session) and how far the login got: ``password`` (the second factor is next) or ``ok``; before the
login is done, also the back-office page that sent the user to it, to go on there afterwards.
"""

import time

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "aansluiten_beheer"
PATH = "/beheer"
SALT = "aansluiten staff session"
ASKED = "asked"
ENDED = "ended"  # what is left of a session that ran out, for the login page to say so


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def load() -> dict:
    """The staff session of this request ({} when there is none, or it ended)."""
    if "staff_session" in g:
        return g.staff_session
    data = {}
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer().loads(raw, max_age=int(current_app.config["STAFF_MAX_AGE"]))
        except BadSignature:
            data = {}
        now = time.time()
        if "uid" in data and (now - data.get("seen", 0) > int(current_app.config["STAFF_IDLE_TIMEOUT"])
                     or now - data.get("since", 0) > int(current_app.config["STAFF_MAX_AGE"])):
            data = {ENDED: True}
        if data.get(ENDED):
            g.staff_session_expired = True
    g.staff_session = data
    return data


def start(user_id: int, epoch: int, stage: str) -> None:
    now = int(time.time())
    before = load()
    since = before.get("since", now) if stage == "ok" else now  # the 8 hours count from the password
    g.staff_session = {"uid": user_id, "epoch": epoch, "stage": stage, "seen": now, "since": since}
    if stage != "ok" and before.get(ASKED):
        g.staff_session[ASKED] = before[ASKED]
    g.staff_session_dirty = True


def remember_asked(path: str | None) -> None:
    """The page a user without a session asked for (None: a form, not sent again), kept until the
    login is done."""
    data = dict(load())
    data.pop(ASKED, None)
    if path is not None:
        data[ASKED] = path
    g.staff_session = data
    g.staff_session_dirty = True


def asked() -> str:
    """Where a login that has just been done goes on: the page asked for, else the list."""
    path = load().get(ASKED) or ""
    return path if path == PATH or path.startswith((PATH + "/", PATH + "?")) else PATH


def touch() -> None:
    """A request of a logged-in user: the idle clock starts again (the cookie is re-signed
    once a minute, not on every request)."""
    data = load()
    if data and time.time() - data.get("seen", 0) >= 60:
        data["seen"] = int(time.time())
        g.staff_session_dirty = True


def end() -> None:
    g.staff_session = {}
    g.staff_session_dirty = True


def save(response):
    """After the request: write the cookie when it changed (registered on the blueprint)."""
    if not g.get("staff_session_dirty"):
        return response
    secure = request.is_secure or str(current_app.config.get("BASE_URL") or "").startswith("https://")
    data = g.staff_session
    if not data:
        response.delete_cookie(COOKIE, path=PATH, secure=secure, httponly=True, samesite="Strict")
        return response
    # No max_age: the browser forgets it when closed; the signature's age rules on the server.
    response.set_cookie(COOKIE, _serializer().dumps(data), path=PATH, secure=secure, httponly=True,
                        samesite="Strict")
    return response
