"""Step 8: the VECOZO services open to this applicant, and per service the codes that give access."""

from flask import current_app
from flask_babel import get_locale

from onboarding import drafts, services

from .. import forms
from ..pages import get_db
from ..wizard import Step, step, step_url


@step
class ServicesStep(Step):
    number = 8
    template = "steps/services.html"
    form_class = forms.ServicesForm

    def load(self, draft):
        return {"services_ok": bool(draft.services_ok_at), "services_remark": draft.services_remark or ""}

    def context(self, draft):
        groups = services.code_groups(get_db(), draft.id)
        return {
            "open_services": services.open_services(current_app.extensions["aansluiten.services"], groups),
            "code_total": sum(group.count for group in groups),
            "language": str(get_locale()),
            "zorgsoorten": current_app.extensions["aansluiten.zorgsoorten"],
        }

    def save(self, draft, form):
        drafts.confirm_services(get_db(), draft, form.based_on(), form.services_remark.data)
        return step_url(9)
