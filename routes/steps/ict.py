"""Step 7 (optional): the ICT administrators, an add-another list of at most five."""

from flask import abort, flash, request

from onboarding import drafts, people, store

from .. import forms, person_forms
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..pages import NOTICE, advance, current_draft, get_db
from ..wizard import STALE, Step, bp, gate, save_unavailable, show, step, step_url, within_step

ADD_TITLE = _l("ICT-beheerder toevoegen")


@step
class IctStep(Step):
    number = 7
    template = "steps/ict.html"
    form_class = forms.StepForm

    def context(self, draft):
        return {"admins": people.ict_admins(get_db(), draft), "max_admins": people.MAX_ICT_ADMINS}

    def save(self, draft, form):
        people.finish_ict(get_db(), draft, form.based_on())
        return step_url(8)


def _list_url() -> str:
    """The list, where adding and removing an administrator return to."""
    return within_step("wizard.step_get", number=7)


def _add_page(draft, form, status: int = 200):
    return show(7, draft, form, status, template="steps/ict_add.html", title=ADD_TITLE, back_url=_list_url())


@bp.get("/7/toevoegen")
def ict_add_form():
    draft = current_draft()
    if response := gate(draft, 7):
        return response
    return _add_page(draft, person_forms.IctAdminForm(None, data={"version": draft.version}))


@bp.post("/7/toevoegen")
def ict_add():
    draft = current_draft()
    if response := gate(draft, 7):
        return response
    form = person_forms.IctAdminForm(request.form)
    if not form.validate():
        return _add_page(draft, form, 422)
    try:
        added = people.add_ict_admin(get_db(), draft, form.based_on(), form.name.data, form.email.data,
                                     form.phone.data)
    except people.Refused:
        form.form_errors.append(_("U kunt hoogstens %(count)s ICT-beheerders opgeven.", count=people.MAX_ICT_ADMINS))
        return _add_page(draft, form, 422)
    except store.Unavailable as error:
        form.form_errors.append(save_unavailable(error))
        return _add_page(draft, form, 503)
    except drafts.StaleDraft:
        form.version.data = str(current_draft().version)
        form.form_errors.append(STALE)
        return _add_page(current_draft(), form, 409)
    # A second click (its version stale) gets the answer seen: the first click added them.
    if added or form.based_on() < draft.version:
        return advance(_list_url(), announce=_("De ICT-beheerder is toegevoegd."))
    flash(_("Deze ICT-beheerder staat al in de lijst."), NOTICE)  # not a success: a notice above the list
    return advance(_list_url())


@bp.post("/7/beheerder/<id:admin_id>/verwijder")
def ict_remove(admin_id: int):
    draft = current_draft()
    if response := gate(draft, 7):
        return response
    try:
        people.remove_ict_admin(get_db(), draft, forms.StepForm(request.form).based_on(), admin_id)
    except people.Refused:
        abort(404)
    except drafts.StaleDraft:
        draft = current_draft()
        form = forms.StepForm(None, data={"version": draft.version})
        form.form_errors.append(STALE)
        return show(7, draft, form, 409)
    return advance(_list_url(), announce=_("De ICT-beheerder is verwijderd."))
