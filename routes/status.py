"""The status page of a submitted application, its downloads, and reopening it for a change."""

from flask import Blueprint, abort, current_app, make_response, redirect, request, url_for
from flask_htmx import make_response as htmx_response

from onboarding import drafts, people, steps, submission

from . import forms, notify
from .i18n import gettext as _
from .pages import advance, current_draft, get_db, render_page
from .wizard import resume_url, step_url

bp = Blueprint("status", __name__, url_prefix="/aanmelding")

# While a provider or another person may change it, the page asks again this often.
POLL_SECONDS = 5


def frozen_draft():
    """The session's submitted application, or a redirect to where the applicant belongs."""
    draft = current_draft()
    if draft is None:
        return None, advance(step_url(1))
    if not steps.is_frozen(draft):
        return None, advance(resume_url(draft))
    return draft, None


@bp.get("")
def index():
    draft, elsewhere = frozen_draft()
    if elsewhere:
        return elsewhere
    return _status_page(draft)


def _status_page(draft, status: int = 200, notice: str | None = None):
    draft = current_draft() if status != 200 else draft
    return render_page("status.html", title=_("Status van uw aanmelding"), draft=draft, status=status, notice=notice,
                       tasks=submission.progress(get_db(), draft), form=forms.StepForm(None, data={"version": draft.version}),
                       signatory=people.person(get_db(), draft, people.SIGNATORY),
                       main_contact=people.person(get_db(), draft, people.MAIN_CONTACT), poll_seconds=POLL_SECONDS)


@bp.get("/stand")
def watch():
    """Asked every few seconds by step 10 and the status page while something is pending
    (``?v=`` what the page shows): nothing (204) while it holds, else a reload of the page,
    so that no control is swapped away under the keyboard."""
    draft = current_draft()
    if draft is None or not steps.is_frozen(draft):
        return "", 204
    if submission.progress(get_db(), draft).fingerprint == request.args.get("v"):
        return "", 204
    return htmx_response("", 200, refresh=True) if current_app.htmx else redirect(url_for("status.index"), 303)


@bp.post("/wijzigen")
def reopen():
    """Back to the summary for a change, until signing has started."""
    draft, elsewhere = frozen_draft()
    if elsewhere:
        return elsewhere
    form = forms.StepForm()
    try:
        notify.reopen(draft, form.based_on())
    except submission.NotReopenable:
        return _status_page(draft, 409, _("De aanmelding kan niet meer worden gewijzigd: het ondertekenen is begonnen."))
    except drafts.StaleDraft:
        return _status_page(draft, 409, _("Deze aanmelding is intussen in een ander venster of tabblad gewijzigd. "
                                          "Kijk hieronder hoe het nu staat."))
    return advance(step_url(9), announce=_("U kunt uw aanmelding weer wijzigen."))


def _pdf(content: bytes | None, name: str):
    if content is None:
        abort(404)
    response = make_response(bytes(content))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/overeenkomst.pdf")
def agreement_pdf():
    """The agreement as submitted: for this application's own session only."""
    draft, elsewhere = frozen_draft()
    if elsewhere:
        abort(404)
    return _pdf(submission.agreement_pdf(get_db(), draft.id), f"aansluitovereenkomst-{draft.reference}.pdf")


@bp.get("/overeenkomst-ondertekend.pdf")
def signed_pdf():
    draft, elsewhere = frozen_draft()
    if elsewhere:
        abort(404)
    return _pdf(submission.agreement_pdf(get_db(), draft.id, signed=True),
                f"aansluitovereenkomst-{draft.reference}-ondertekend.pdf")
