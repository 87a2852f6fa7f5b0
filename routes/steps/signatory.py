"""Step 4: choose the signatory among the officers who may sign alone, then their details."""

from flask import request
from markupsafe import Markup

from onboarding import people

from .. import person_forms
from ..pages import get_db
from ..wizard import FormRejected, Step, step, step_url

REASONS = {
    "gb": person_forms.REASON_JOINT,
    "nb": person_forms.REASON_NONE,
    "not_a_person": person_forms.REASON_NOT_A_PERSON,
}

# The name of the button that makes the choice: sent also when no officer was chosen.
CHOOSE_BUTTON = "kies"
# An officer in the choice: name and role as the registry writes them, each in the direction of
# its own script (``format`` escapes them).
OFFICER_LABEL = Markup('<span lang="nl" dir="auto">{}</span>, <span lang="nl" dir="auto">{}</span>')


def _refused(message) -> FormRejected:
    """A refused choice of officer: the choice is the officer list's, not a field of the form,
    so the error summary links to its first radio."""
    return FormRejected(message, field="signatory", context={"summary_links": [("#signatory-0", message)]})


@step
class SignatoryStep(Step):
    number = 4
    template = "steps/signatory.html"
    form_class = person_forms.SignatoryForm

    def chosen(self, draft, saved):
        """The officer whose details the form shows: the one just chosen (``?signatory=``)
        if they may sign, else the saved signatory's."""
        wanted = request.args.get("signatory") or (saved.officer_id if saved else None)
        try:
            return people.signatory_officer(draft.company, wanted) if wanted else None
        except people.Refused:
            return None

    def load(self, draft):
        saved = people.person(get_db(), draft, people.SIGNATORY)
        officer = self.chosen(draft, saved)
        if officer is None:
            return {}  # nobody chosen yet, or the saved signatory may no longer sign alone
        if saved and officer.id == saved.officer_id:
            return {"signatory": saved.officer_id, **self.form_class.values(saved)}
        # The names as the KvK knows them; the birth date is the applicant's to type: a page anyone who
        # knows the KvK number and an AGB code can reach shows none of the registry's (SPEC §1).
        return {"signatory": officer.id, "initials": officer.initials, "prefix": officer.prefix,
                "surname": officer.surname}

    def context(self, draft):
        officers = draft.company.officers
        selectable = [officer for officer in officers if people.may_sign(officer)]
        return {
            "officers": officers,
            "choose_button": CHOOSE_BUTTON,
            "selectable": selectable,
            "choices": [(officer.id, OFFICER_LABEL.format(officer.full_name, officer.role)) for officer in selectable],
            "others": [(officer, str(REASONS[reason])) for officer in officers
                       if (reason := people.why_not_sign(officer))],
        }

    def asked(self, draft, form):
        # "Kies deze persoon" with nobody chosen, or a choice of an officer who may not sign alone.
        if form.signatory.data or not (CHOOSE_BUTTON in request.args or request.args.get("signatory")):
            return
        if not any(people.may_sign(officer) for officer in draft.company.officers):
            return  # the dead end says what to do; there is nobody to choose
        message = person_forms.NOT_AUTHORISED if request.args.get("signatory") else person_forms.CHOOSE_SIGNATORY
        raise _refused(message)

    def unchanged(self, draft, form):
        return people.person(get_db(), draft, people.SIGNATORY) == form.person(officer_id=form.signatory.data)

    def save(self, draft, form):
        try:
            officer = people.signatory_officer(draft.company, form.signatory.data or "")
        except people.Refused:
            raise _refused(person_forms.NOT_AUTHORISED) from None
        people.save_person(get_db(), draft, form.based_on(), people.SIGNATORY, form.person(officer_id=officer.id))
        return step_url(5)
