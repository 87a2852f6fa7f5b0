"""Step 5: the main contact person, with a shortcut that copies the signatory."""

from flask import request, session

from onboarding import people

from .. import person_forms
from ..pages import get_db
from ..wizard import Step, step, step_url, within_step

# ``?van=tekenbevoegde``: fill the form with the signatory's details (nothing is saved yet), on the
# step's own URL: it leads there, and the session says to copy once (``COPY_PENDING``).
COPY_SIGNATORY = "tekenbevoegde"
COPY_PENDING = "copy_signatory"


@step
class MainContactStep(Step):
    number = 5
    template = "steps/main_contact.html"
    form_class = person_forms.MainContactForm

    def redirect(self, draft):
        if request.args.get("van") != COPY_SIGNATORY:
            return None
        session[COPY_PENDING] = True
        return within_step("wizard.step_get", number=self.number)

    def load(self, draft):
        db = get_db()
        if session.pop(COPY_PENDING, False) and (signatory := people.person(db, draft, people.SIGNATORY)):
            return self.form_class.values(signatory)
        saved = people.person(db, draft, people.MAIN_CONTACT)
        return {**self.form_class.values(saved), "employed": saved.employed} if saved else {}

    def context(self, draft):
        return {"copy_signatory": COPY_SIGNATORY}

    def unchanged(self, draft, form):
        return people.person(get_db(), draft, people.MAIN_CONTACT) == form.person(employed=True)

    def save(self, draft, form):
        people.save_person(get_db(), draft, form.based_on(), people.MAIN_CONTACT, form.person(employed=True))
        return step_url(6)
