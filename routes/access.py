"""Getting in and staying in: the e-mail link, an expired session, an expired form."""

from flask import Blueprint, url_for
from flask_babel import gettext as _

from onboarding import drafts, steps, tokens

from . import forms
from .pages import bind_draft, current_draft, get_db, navigate, render_page
from .wizard import step_url

bp = Blueprint("access", __name__)

_REJECTED = {
    "unknown": lambda: _("Deze link kennen wij niet. Controleer of u de hele link uit de e-mail heeft gebruikt."),
    "used": lambda: _("Deze link is al gebruikt. Elke link werkt maar één keer."),
    "voided": lambda: _("Er is na deze link een nieuwere link verstuurd. Alleen de nieuwste link werkt."),
    "expired": lambda: _("Deze link is verlopen: een link werkt 24 uur."),
}


def _link_page(token: str, reason: str | None = None, status: int = 200):
    return render_page(
        "link.html",
        title=_("Deze link werkt niet meer") if reason else _("Ga verder met uw aanmelding"),
        status=status,
        token=token,
        form=forms.FlaskForm(None),
        reason=_REJECTED[reason]() if reason else None,
        email_form=forms.EmailForm(None),
    )


@bp.get("/bevestig/<token>")
def verify_get(token: str):
    """Show a button rather than redeem on GET: mail scanners open links, people press buttons."""
    try:
        tokens.check(get_db(), token)
    except tokens.TokenRejected as rejected:
        if already_in(rejected):
            return go_on(current_draft())
        return _link_page(token, reason=rejected.reason, status=410 if rejected.reason != "unknown" else 404)
    return _link_page(token)


def already_in(rejected: tokens.TokenRejected) -> bool:
    """A used link opened again in the browser it let in: nothing is wrong."""
    draft = current_draft()
    return rejected.reason == "used" and draft is not None and draft.email == rejected.email


@bp.post("/bevestig/<token>")
def verify_post(token: str):
    try:
        draft = drafts.verify_email(get_db(), token)
    except tokens.TokenRejected as rejected:
        if already_in(rejected):
            return go_on(current_draft())
        # The link page says why; htmx would not swap its 410.
        return navigate(url_for("access.verify_get", token=token))
    bind_draft(draft)
    return go_on(draft)


def go_on(draft):
    """To the first unfinished step, as a whole page, not a swap: the layout of a
    bound session carries the idle warning."""
    return navigate(step_url(steps.first_unfinished(draft)))


@bp.get("/sessie-verlopen")
def session_expired():
    return render_page("expired.html", title=_("Uw sessie is verlopen"), email_form=forms.EmailForm(None))


@bp.get("/pagina-verlopen")
def form_expired():
    draft = current_draft()
    return render_page(
        "form_expired.html",
        title=_("Deze pagina stond te lang open"),
        status=400,
        continue_url=step_url(steps.first_unfinished(draft)),
    )


@bp.get("/sessie/verlengen")
def keep_alive():
    """Touching the session is all it takes: the idle check runs before every request."""
    return "", 204
