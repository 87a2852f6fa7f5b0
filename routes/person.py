"""One person's part of a submitted application, reached from a mailed link: the main
contact identifies on their own device, either person changes or cancels the visit.
And the way back from the bank, for them and for the applicant's own session."""

import logging
import time

from flask import Blueprint, redirect, request, session, url_for

from onboarding import drafts, identity, people, person_links, submission, tokens

from . import forms, providers
from .i18n import gettext as _
from .notify import after_change, visit_time
from .pages import SESSION_PERSON, SESSION_SEEN, advance, current_draft, get_db, navigate, render_page
from .steps.identify import (PERSON_OUTCOMES, SESSION_OUTCOME, book_visit, cancel_visit, outcome_message,
                             refused_visit_form, visit_booked, visit_context)
from .wizard import FormRejected, step_url

bp = Blueprint("person", __name__)
log = logging.getLogger(__name__)

SESSION_PERSON_LINK = "person_link"

_REJECTED = {
    "unknown": lambda: _("Deze link kennen wij niet. Controleer of u de hele link uit de e-mail heeft gebruikt."),
    "used": lambda: _("Deze link is al gebruikt. Elke link werkt maar één keer. De aanvrager kan op stap 10 een nieuwe link laten sturen."),
    "expired": lambda: _("Deze link is verlopen. De aanvrager kan op stap 10 een nieuwe link laten sturen."),
    "reopened": lambda: _("De aanvrager heeft de aanmelding heropend om iets te wijzigen. Daarom werkt deze link niet "
                          "meer. Verstuurt de aanvrager de aanmelding opnieuw, dan krijgt u weer een e-mail."),
}


# A token's length (tokens.looks_like_a_token): the words of the person pages' own URLs
# (``/persoon/afspraak``, only a form's) are no link.
@bp.get("/persoon/<string(minlength=20, maxlength=64):token>")
def open_link(token: str):
    """As with the e-mail link: the token leaves the URL first, then a button uses it."""
    if not tokens.looks_like_a_token(token):
        return _rejected("unknown", 404)
    session[SESSION_PERSON_LINK] = token
    return redirect(url_for("person.confirm_get"), 303)


def _rejected(reason: str, status: int):
    return render_page("person_link.html", title=_("Deze link werkt niet meer"), status=status,
                       reason=_REJECTED[reason](), form=None)


def _no_grant():
    """This browser's grant reaches nothing: it ended with a reopen (which it says), or there is none."""
    if person_links.ended(get_db(), session.get(SESSION_PERSON)):
        return _rejected("reopened", 410)
    return _rejected("unknown", 404)


@bp.get("/persoon/bevestig")
def confirm_get():
    if SESSION_PERSON_LINK not in session:
        return advance(url_for("person.page"))
    return render_page("person_link.html", title=_("Uw deel van de aanmelding"), reason=None, form=forms.Form(None))


@bp.post("/persoon/bevestig")
def confirm_post():
    token = session.pop(SESSION_PERSON_LINK, "")
    try:
        grant, _found = person_links.redeem(get_db(), token)
    except tokens.TokenRejected as rejected:
        if person_links.by_grant(get_db(), session.get(SESSION_PERSON)):
            return navigate(url_for("person.page"))
        return _rejected(rejected.reason, 410 if rejected.reason != "unknown" else 404)
    session[SESSION_PERSON] = grant
    session[SESSION_SEEN] = int(time.time())
    return navigate(url_for("person.page"))


def granted():
    """The draft and role this browser's person link reaches, or (None, None)."""
    grant = person_links.by_grant(get_db(), session.get(SESSION_PERSON))
    if grant is None:
        return None, None
    draft = drafts.by_id(get_db(), grant.draft_id)
    return (draft, grant.role) if draft else (None, None)


@bp.get("/persoon")
def page(visit_form=None, status: int = 200, notice=None):
    draft, role = granted()
    if draft is None:
        return _no_grant()
    db = get_db()
    progress = submission.progress(db, draft)
    context = {}
    if draft.method == submission.APPOINTMENT and draft.status == submission.SUBMITTED:
        context = visit_context(draft, progress.visit, visit_form)
    person = people.person(db, draft, role)
    return render_page("person.html", title=_("Uw deel van de aanmelding"), status=status, draft=draft, role=role,
                       error=bool(visit_form and visit_form.errors), person_account=person,
                       person=person, tasks=progress, notice=notice,
                       outcome_message=outcome_message(PERSON_OUTCOMES),
                       form=visit_form or forms.Form(None), visit_time=visit_time, **context)


@bp.post("/persoon/identificeren")
def identify():
    draft, role = granted()
    if draft is None:
        return _no_grant()
    if (draft.status != submission.SUBMITTED or draft.method != submission.ONLINE
            or submission.progress(get_db(), draft).state(role) in identity.ONLINE_OVER):
        return advance(url_for("person.page"))
    try:
        url = identity.start(get_db(), draft.id, role, providers.identity_provider(), providers.idin_redirect_uri())
    except providers.ProviderUnavailable:
        return page(status=503, notice=_("Online identificeren is op dit moment niet beschikbaar."))
    return navigate(url)


@bp.post("/persoon/afspraak")
def visit_post():
    draft, role = granted()
    if draft is None:
        return _no_grant()
    if draft.status != submission.SUBMITTED or draft.method != submission.APPOINTMENT:
        return advance(url_for("person.page"))
    form = forms.VisitForm()
    if not form.validate():
        return page(visit_form=form, status=422)
    try:
        changed = book_visit(draft, form, actor=role)
    except FormRejected as rejected:
        rejected.shown_in(form)
        return page(visit_form=form, status=rejected.status)
    return advance(url_for("person.page"), announce=visit_booked(draft, changed, by_the_person=True))


@bp.post("/persoon/afspraak/annuleren")
def visit_cancel():
    draft, role = granted()
    if draft is None:
        return _no_grant()
    if draft.status == submission.SUBMITTED:
        try:
            cancel_visit(draft, actor=role, based_on=forms.VisitForm().based_on())
        except FormRejected as rejected:
            return page(visit_form=refused_visit_form(draft, rejected), status=rejected.status)
    return advance(url_for("person.page"), announce=_("De afspraak is geannuleerd."))


@bp.get("/idin/terug")
def idin_return():
    """The bank sends the browser back here (OpenID Connect's redirect URI). The state
    must belong to this browser's application; anything else changes nothing."""
    person_draft, _role = granted()
    own = current_draft()
    candidates = [draft for draft in (person_draft, own) if draft is not None]
    if not candidates:
        return _return_rejected()
    if not providers.available():
        return _return_rejected("no provider")
    outcome = None
    for draft in candidates:
        try:
            outcome = identity.finish(
                get_db(), draft_id=draft.id, state=request.args.get("state", ""), code=request.args.get("code"),
                error=request.args.get("error"), provider=providers.identity_provider(),
                redirect_uri=providers.idin_redirect_uri())
            break
        except identity.ReturnRejected as rejected:
            if rejected.reason != "foreign":
                return _return_rejected(rejected.reason)
    if outcome is None:
        return _return_rejected("foreign")
    if outcome.result == "identified":
        submission.share_identification(get_db(), draft)
        after_change(draft.id)
    destination = url_for("person.page") if draft is person_draft else step_url(10)
    session[SESSION_OUTCOME] = outcome.result
    return redirect(destination, 303)


def _return_rejected(reason: str = "session"):
    log.warning("iDIN return rejected (%s) from %s", reason, request.remote_addr)
    return render_page("idin_rejected.html", title=_("Deze terugkeer van de bank kunnen wij niet verwerken"),
                       status=400, form=None)
