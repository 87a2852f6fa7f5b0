"""The staff session: a cookie of its own, apart from any applicant's.

Signed like Flask's session, but with another name, path ``/beheer`` only, ``SameSite=Strict``,
8 hours at most and 30 minutes idle (``AANSLUITEN_STAFF_MAX_AGE``, ``AANSLUITEN_STAFF_IDLE_TIMEOUT``), with the
applicant's idle warning before the 30 minutes are up (``pages.idle_warning``).
It holds the user's id, the user's session epoch (a log-out, a password reset or disabling ends every
session) and how far the login got: ``password`` (the second factor is next) or ``ok``.

The back-office page that sent a user to the login, to go on there once it is done, is a cookie of
its own (``ASKED_COOKIE``): a request that comes without the session's cookie (``SameSite=Strict``
leaves it off a link followed from another site) must not overwrite the session it did not carry.
"""

import time

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .pages import POLL_HEADER, idle_lag

COOKIE = "aansluiten_beheer"
PATH = "/beheer"
SALT = "aansluiten staff session"
ASKED_COOKIE = "aansluiten_beheer_pagina"
ASKED_SALT = "aansluiten staff asked page"
ASKED_MAX_AGE = 3600  # long enough to log in, not a bookmark of its own


def _serializer(salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


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
        if data and (now - data.get("seen", 0) > idle_timeout() + idle_lag(idle_timeout())
                     or now - data.get("since", 0) > int(current_app.config["STAFF_MAX_AGE"])):
            data = {}
            g.staff_session_expired = True
    g.staff_session = data
    return data


def start(user_id: int, epoch: int, stage: str) -> None:
    now = int(time.time())
    since = load().get("since", now) if stage == "ok" else now  # the 8 hours count from the password
    g.staff_session = {"uid": user_id, "epoch": epoch, "stage": stage, "seen": now, "since": since}
    g.staff_session_dirty = True
    if stage == "ok":
        g.staff_asked = None  # gone on there, once


def remember_asked(path: str | None) -> None:
    """The page a user without a session asked for (None: a form, not sent again), kept until the
    login is done."""
    g.staff_asked = path


def asked() -> str:
    """Where a login that has just been done goes on: the page asked for, else the list."""
    try:
        path = _serializer(ASKED_SALT).loads(request.cookies.get(ASKED_COOKIE, ""), max_age=ASKED_MAX_AGE)
    except BadSignature:
        path = ""
    return path if isinstance(path, str) and (path == PATH or path.startswith((PATH + "/", PATH + "?"))) else PATH


def idle_timeout() -> int:
    return int(current_app.config["STAFF_IDLE_TIMEOUT"])


def touch() -> None:
    """A request of a logged-in user: the idle clock starts again (the cookie is re-signed once
    it is a minute old, not on every request: ``pages.idle_lag``). The idle warning asking
    whether the session still lasts (``POLL_HEADER``) is not the user at work."""
    data = load()
    if (data and not request.headers.get(POLL_HEADER)
            and time.time() - data.get("seen", 0) >= idle_lag(idle_timeout())):
        data["seen"] = int(time.time())
        g.staff_session_dirty = True


def seconds_left() -> int:
    """How long the session lasts without another request, for the idle warning's countdown."""
    return max(0, int(load().get("seen", 0) + idle_timeout() + idle_lag(idle_timeout()) - time.time()))


def end() -> None:
    g.staff_session = {}
    g.staff_session_dirty = True


def save(response):
    """After the request: write the cookies when they changed (registered on the blueprint)."""
    secure = request.is_secure or str(current_app.config.get("BASE_URL") or "").startswith("https://")
    if "staff_asked" in g:
        if g.staff_asked is None:
            if ASKED_COOKIE in request.cookies:
                response.delete_cookie(ASKED_COOKIE, path=PATH, secure=secure, httponly=True, samesite="Lax")
        else:
            response.set_cookie(ASKED_COOKIE, _serializer(ASKED_SALT).dumps(g.staff_asked), max_age=ASKED_MAX_AGE,
                                path=PATH, secure=secure, httponly=True, samesite="Lax")
    if not g.get("staff_session_dirty"):
        return response
    data = g.staff_session
    if not data:
        response.delete_cookie(COOKIE, path=PATH, secure=secure, httponly=True, samesite="Strict")
        return response
    # No max_age: the browser forgets it when closed; the signature's age rules on the server.
    response.set_cookie(COOKIE, _serializer().dumps(data), path=PATH, secure=secure, httponly=True,
                        samesite="Strict")
    return response
