"""What an applicant sends after the idle timeout: not saved (the session that would save it has
ended), but kept in this browser's session and filled in again, once, when the applicant is back
in the same draft with a new e-mail link (SPEC §2: nothing is lost by an expired session).

The session is a cookie, signed but readable: the form (and the URL it was sent to) is kept in it
sealed, as the outbox keeps links (``mail.Seal``), so that the cookie holds no personal data. A form
that does not fit in a part of it is not kept, and the expiry page says which of the two happened.
What is kept is what this browser showed a moment before, and it goes with the draft it was typed
for: another draft opened in this browser never sees it.
"""

import time

from flask import current_app, g, request, session
from werkzeug.datastructures import MultiDict

from .i18n import lazy_gettext as _l

SESSION_UNSENT = "unsent"
# A cookie holds about 4 KB, and the session has its own values besides: sealed text does not compress
# as the session's JSON would, so this is about 2,200 bytes of form (UTF-8: an "é" takes two).
MAX_SEALED = 3000
# As long as the e-mail link with which the applicant comes back works.
LIFETIME = 24 * 3600
NOT_KEPT = frozenset({"csrf_token"})

RESTORED = _l("Wat u had ingevuld toen uw sessie verliep, staat hieronder weer. Het is nog niet opgeslagen: "
              "controleer het en verstuur het.")


def keep(draft) -> bool:
    """Keep the form this POST sends for ``draft``, whose session just ended; whether it was."""
    fields = {name: values for name, values in request.form.lists() if name not in NOT_KEPT}
    url = request.full_path.rstrip("?")  # within the app, as the URL map matches it
    sealed = _seal().close({"url": url, "fields": fields}) if draft is not None and fields else ""
    if not sealed or len(sealed) > MAX_SEALED:
        session.pop(SESSION_UNSENT, None)
        return False
    session[SESSION_UNSENT] = {"draft": draft.id, "sealed": sealed, "at": int(time.time())}
    return True


def kept_url(draft) -> str | None:
    """The URL (within the app) a form of ``draft`` was kept from, else None."""
    kept = _kept(draft)
    return kept["url"] if kept else None


def restored() -> MultiDict | None:
    """The form kept for this page of the draft the view read (``g.draft``), as form data: once, on
    a GET of the URL it was sent to. Every form the page makes gets it (they share their fields'
    names only where they are the same answer)."""
    if "unsent_restored" in g:
        return g.unsent_restored
    g.unsent_restored = None
    if SESSION_UNSENT not in session or request.method != "GET":
        return None
    kept = _kept(g.get("draft"))
    if kept is not None and request.path == kept["url"].partition("?")[0]:
        session.pop(SESSION_UNSENT)
        g.unsent_restored = MultiDict([(name, value) for name, values in kept["fields"].items()
                                       for value in values])
    return g.unsent_restored


def _kept(draft) -> dict | None:
    """The URL and fields kept for ``draft``, opened; None when there are none (or they could not
    be opened: sealed with another secret key)."""
    kept = session.get(SESSION_UNSENT)
    if not kept:
        return None
    if time.time() - kept.get("at", 0) > LIFETIME or "sealed" not in kept:  # or kept unsealed, before
        session.pop(SESSION_UNSENT)
        return None
    if draft is None or kept.get("draft") != draft.id:
        return None
    opened = _seal().open(kept.get("sealed"))
    return opened if "url" in opened and "fields" in opened else None


def _seal():
    return current_app.extensions["aansluiten.seal.unsent"]
