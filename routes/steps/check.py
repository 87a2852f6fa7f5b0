"""Step 3: check the registry data; "no" explains where to correct it and starts again."""

from flask import current_app, request, url_for

from onboarding import drafts
from onboarding.registry import zorgsoort_name

from .. import forms
from ..i18n import lazy_gettext as _l
from ..pages import Pager, advance, current_draft, get_db, translated
from ..wizard import STALE, Step, bp, gate, keep_return, show, step, step_url


PARTY_TYPES = {
    "onderneming": _l("Onderneming"),
    "vestiging": _l("Vestiging"),
    "zorgverlener": _l("Zorgverlener"),
}
AUTHORITIES = {
    "azb": _l("Alleen/zelfstandig bevoegd"),
    "gb": _l("Gezamenlijk bevoegd"),
    "nb": _l("Niet bevoegd"),
}


@step
class CheckStep(Step):
    number = 3
    template = "steps/check.html"
    form_class = forms.CheckForm

    def load(self, draft):
        return {"data_correct": draft.data_correct}

    def context(self, draft):
        db = get_db()
        pager = Pager.from_request(drafts.agb_code_count(db, draft))
        zorgsoorten = current_app.extensions["aansluiten.zorgsoorten"]
        # Translated once per language, and each row's cells made here: a lookup per cell in
        # the template costs more than the whole loop in Python.
        party_types = translated("party_types", PARTY_TYPES)
        rows = [
            (row["agb_code"], row["name"], f"{row['zorgsoort']} {zorgsoort_name(zorgsoorten, row['zorgsoort'])}",
             party_types.get(row["party_type"], row["party_type"]))
            for row in drafts.agb_code_page(db, draft, pager.offset, pager.size)
        ]
        return {
            "company": draft.company,
            "agb_codes": rows,
            "pager": pager,
            "authorities": translated("authorities", AUTHORITIES),
        }

    def save(self, draft, form):
        if form.data_correct.data == "yes":
            drafts.confirm_company(get_db(), draft, form.based_on())
            return step_url(4)
        drafts.mark_incorrect(get_db(), draft, form.based_on())
        return url_for("wizard.incorrect")


@bp.get("/3/onjuist")
def incorrect():
    draft = current_draft()
    if response := gate(draft, 3):
        return response
    return _incorrect_page(draft)


def _incorrect_page(draft, error=None, status: int = 200):
    """Where to correct the registry data, with the button to start again."""
    form = forms.StepForm(None, data={"version": draft.version})
    if error:
        form.form_errors.append(error)
    return show(3, draft, form, status, template="steps/incorrect.html", title=_l("Gegevens laten aanpassen"),
                back_url=keep_return(step_url(3)))


@bp.post("/3/opnieuw")
def start_again():
    draft = current_draft()
    if response := gate(draft, 3):
        return response
    try:
        drafts.start_again(get_db(), draft, forms.StepForm(request.form).based_on())
    except drafts.StaleDraft:
        return _incorrect_page(current_draft(), STALE, 409)
    # Opened from the summary: the new look-up and its check lead back there.
    return advance(keep_return(step_url(2)))
