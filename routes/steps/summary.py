"""Step 9: everything the applicant answered, each section with a change link, and the
declaration that submits the application."""

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from onboarding import drafts, people, services, submission

from .. import forms
from ..pages import get_db
from ..wizard import Step, change_url, step, step_url

# Codes shown with their contact persons; the rest are counted (the PDF lists them all).
SHOWN_CODES = 10


@step
class SummaryStep(Step):
    number = 9
    template = "steps/summary.html"
    form_class = forms.DeclarationForm
    announcement = _l("Uw aanmelding is verstuurd.")

    def load(self, draft):
        return {}

    def unchanged(self, draft, form):
        # The declaration is about what the page showed: a summary of an older version
        # is never "the same answers" (a second click meets the gate: submitted already).
        return False

    def context(self, draft):
        db = get_db()
        groups = services.code_groups(db, draft.id)
        return {
            "change": {number: change_url(number) for number in range(1, 9)},
            "company": draft.company,
            "signatory": people.person(db, draft, people.SIGNATORY),
            "main_contact": people.person(db, draft, people.MAIN_CONTACT),
            "code_rows": people.code_rows(db, draft, limit=SHOWN_CODES),
            "code_total": drafts.agb_code_count(db, draft),
            "ict_admins": people.ict_admins(db, draft),
            "open_services": services.open_services(current_app.extensions["aansluiten.services"], groups),
            "language": str(get_locale()),
            "zorgsoorten": current_app.extensions["aansluiten.zorgsoorten"],
        }

    def save(self, draft, form):
        submission.submit(get_db(), draft, form.based_on(), current_app.extensions["aansluiten.services"],
                          current_app.extensions["aansluiten.zorgsoorten"])
        return step_url(10)
