"""Getting in and out: the e-mail link, logging out, an expired session or form."""

from flask import Blueprint, redirect, request, session, url_for

from onboarding import drafts, tokens

from . import forms, unsent
from .i18n import gettext as _
from .pages import (SESSION_DRAFT, SESSION_PERSON, bind_draft, current_draft, get_db, has_session, idle_duration,
                    idle_seconds_left, navigate, remembered_email, render_page, shows_page, sign_out)
from .wizard import resume_url

bp = Blueprint("access", __name__)

# The token of the link being opened, kept in the session between its GET and the
# button's POST so that it sits in no URL, log line or Referer after the first request.
SESSION_LINK = "link"

_REJECTED = {
    "unknown": lambda: _("Deze link kennen wij niet. Controleer of u de hele link uit de e-mail heeft gebruikt."),
    "used": lambda: _("Deze link is al gebruikt. Elke link werkt maar één keer."),
    "voided": lambda: _("Er is na deze link een nieuwere link verstuurd. Alleen de nieuwste link werkt."),
    "expired": lambda: _("Deze link is verlopen: een link werkt 24 uur."),
}


def _link_page(preview=None, reason: str | None = None, status: int = 200):
    return render_page(
        "link.html",
        title=_("Deze link werkt niet meer") if reason else _("Doorgaan met uw aanmelding"),
        status=status,
        preview=preview,
        form=forms.Form(None),
        reason=_REJECTED[reason]() if reason else None,
        email_form=new_link_form(),
    )


def new_link_form():
    """Asking for a new link: the address typed before is filled in again."""
    return forms.EmailForm(None, data={"email": remembered_email()})


@bp.get("/bevestig/<token>")
def open_link(token: str):
    """The link from the e-mail: keep its token in the session, then show the page without it."""
    if not tokens.looks_like_a_token(token):
        return _link_page(reason="unknown", status=404)  # nothing made up goes into the cookie
    session[SESSION_LINK] = token
    return redirect(url_for("access.verify_get"), 303)


@bp.get("/bevestig")
def verify_get():
    """Show a button rather than redeem on GET: mail scanners open links, people press buttons."""
    token = session.get(SESSION_LINK, "")
    try:
        preview = drafts.preview_link(get_db(), token)
    except tokens.TokenRejected as rejected:
        session.pop(SESSION_LINK, None)  # a link that no longer works is not kept
        if already_in(rejected):
            return go_on(current_draft())
        return _link_page(reason=rejected.reason, status=404 if rejected.reason == "unknown" else 410)
    return _link_page(preview)


def already_in(rejected: tokens.TokenRejected) -> bool:
    """A used link opened again in the browser it let in: nothing is wrong."""
    draft = current_draft()
    return rejected.reason == "used" and draft is not None and draft.email == rejected.email


@bp.post("/bevestig")
def verify_post():
    token = session.get(SESSION_LINK, "")
    try:
        draft = drafts.verify_email(get_db(), token, fresh=request.form.get("fresh") == "yes",
                                    choose=request.form.get("draft", type=int))
    except tokens.TokenRejected as rejected:
        if already_in(rejected):
            return go_on(current_draft())
        # The link page says why; htmx would not swap its 410.
        return navigate(url_for("access.verify_get"))
    session.pop(SESSION_LINK, None)
    bind_draft(draft)
    return go_on(draft)


def go_on(draft):
    """To the page whose form was sent after the session ended (``unsent``), else the first
    unfinished step; as a whole page, not a swap: the layout of a bound session carries the
    idle warning."""
    kept = unsent.kept_url(draft)
    if kept and shows_page(kept.partition("?")[0]):
        return navigate(request.script_root + kept)
    return navigate(resume_url(draft))


@bp.post("/uitloggen")
def log_out():
    # A person from a mailed link (not the applicant) comes back with a new link of that kind.
    person = SESSION_PERSON in session and SESSION_DRAFT not in session
    sign_out()
    return navigate(url_for("access.logged_out", **({"persoon": 1} if person else {})))


@bp.get("/uitgelogd")
def logged_out():
    return render_page("logged_out.html", title=_("U bent uitgelogd"), email_form=new_link_form(),
                       person=request.args.get("persoon") == "1")


@bp.get("/sessie-verlopen")
def session_expired():
    return render_page("expired.html", title=_("Uw sessie is verlopen"), email_form=new_link_form(),
                       idle_duration=idle_duration(), unsent_kept=unsent.SESSION_UNSENT in session)


@bp.get("/pagina-verlopen")
def form_expired():
    draft = current_draft()
    return render_page(
        "form_expired.html",
        title=_("Deze pagina stond te lang open"),
        status=400,
        continue_url=resume_url(draft),
    )


@bp.get("/sessie/verlengen")
def keep_alive():
    """Touching the session is all it takes: the idle check runs before every request. Says how
    long the session now lasts, for the idle warning's countdown; with none left (logged out in
    another tab), that it has ended, as after the timeout."""
    if not has_session():
        return redirect(url_for("access.session_expired"), 303)
    return "", 204, {"X-Session-Remaining": str(idle_seconds_left())}
