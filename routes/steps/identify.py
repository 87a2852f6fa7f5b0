"""Step 10: how the signatory and the main contact identify (iDIN online, or a visit),
and signing the agreement once the signatory is identified.

The pages of the providers are elsewhere: the simulated bank and signing page in
``routes/simulators.py``, the way back from the bank and the main contact's own
page in ``routes/person.py``, the signing callbacks in ``routes/callbacks.py``.
"""

from datetime import datetime, timedelta

from flask import abort, current_app, session, url_for
from flask_babel import format_date, format_time
from wtforms.validators import AnyOf, InputRequired

from onboarding import appointments, drafts, identity, people, person_links, signing, store, submission, validators
from onboarding.ratelimit import Limit, RateLimited, hit, take_back

from .. import forms, providers
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..mailer import send_mail
from ..pages import advance, current_draft, external_url, get_db, navigate
from ..notify import after_change, mail_visit, one_person
from ..status import POLL_SECONDS
from ..wizard import FormRejected, Step, bp, gate, rate_limited, save_unavailable, show, step, step_url

LINK_RESENDS = Limit("person-link", hits=5, window=timedelta(hours=1))
# Each booking, change or cancel of a visit mails both persons, whose addresses nobody verified:
# an application's visit is changed this often an hour, from step 10 and the persons' pages together.
VISIT_CHANGES = Limit("visit-changes", hits=10, window=timedelta(hours=1))
VISIT_CHANGED = _l("De afspraak is intussen gewijzigd of geannuleerd, in een ander venster of door de andere persoon. "
                   "Hieronder ziet u hoe hij nu staat. Wilt u toch iets veranderen? Doe het dan opnieuw.")
NO_PROVIDER = _l("Online identificeren en ondertekenen is op dit moment niet beschikbaar. Kies een afspraak, "
                 "of probeer het later opnieuw.")


@step
class IdentifyStep(Step):
    number = 10
    template = "steps/identify.html"
    form_class = forms.MethodForm
    announcement = _l("Uw keuze is opgeslagen.")

    def load(self, draft):
        return {"method": draft.method} if draft.method else {}

    def bind(self, draft, formdata=None):
        form = super().bind(draft, formdata)
        if not providers.available():  # no identity or signing provider: the visit only
            form.method.choices = [choice for choice in form.method.choices if choice.value != submission.ONLINE]
        if draft.status == submission.SUBMITTED and (person := one_person(draft)):
            # The question and its message name the one person who is signatory and main contact.
            form.method.label.text = _("Hoe identificeert %(name)s zich?", name=person.full_name)
            message = _("Kies hoe %(name)s zich identificeert", name=person.full_name)
            form.method.validators = [InputRequired(message), AnyOf([submission.ONLINE, submission.APPOINTMENT], message)]
        return form

    def context(self, draft):
        return step_context(draft)

    def save(self, draft, form):
        method = form.method.data
        if method == submission.ONLINE and not providers.available():
            raise FormRejected(NO_PROVIDER, status=503, notice=True)
        submission.choose_method(get_db(), draft, form.based_on(), method)
        if method == submission.ONLINE:
            cancel_visit(draft, counted=False)
        if (method == submission.ONLINE and draft.method != submission.ONLINE
                and not submission.same_person(get_db(), draft)):
            send_person_link(drafts.by_id(get_db(), draft.id), people.MAIN_CONTACT)
        return step_url(10)


# What came back from the bank, said once on the next page.
SESSION_OUTCOME = "idin_outcome"
OUTCOMES = {
    "identified": _l("U bent geïdentificeerd."),
    "manual_check": _l("De gegevens van uw bank wijken af van wat is ingevuld. Een medewerker van VECOZO "
                       "controleert ze."),
    "cancelled": _l("U heeft het identificeren bij de bank afgebroken. Probeer het opnieuw, of kies een afspraak."),
    "failed": _l("Het identificeren bij de bank is niet gelukt. Probeer het opnieuw."),
}


# A person's own page (routes/person.py) offers no appointment: only the applicant chooses one.
PERSON_OUTCOMES = OUTCOMES | {
    "cancelled": _l("U heeft het identificeren bij de bank afgebroken. Probeer het opnieuw, of vraag de aanvrager "
                    "om op stap 10 een afspraak te kiezen."),
}


def outcome_message(messages: dict = OUTCOMES):
    outcome = session.pop(SESSION_OUTCOME, None)
    return messages.get(outcome) if outcome else None


def step_context(draft) -> dict:
    db = get_db()
    progress = submission.progress(db, draft)
    context = {
        "outcome_message": outcome_message(),
        "tasks": progress,
        "signatory": people.person(db, draft, people.SIGNATORY),
        "main_contact": people.person(db, draft, people.MAIN_CONTACT),
        "providers": providers.available(),
        # Said where the method is chosen; once the visit is chosen, where signing waits.
        "notice": NO_PROVIDER if not providers.available() and draft.status == submission.SUBMITTED
        and not draft.method else None,
        "poll_seconds": POLL_SECONDS,
        "back_url": url_for("status.index"),
    }
    if draft.method == submission.APPOINTMENT and draft.status == submission.SUBMITTED:
        context.update(visit_context(draft, progress.visit))
    return context


# -- the visit -----------------------------------------------------------------------------


def visit_context(draft, visit, form=None) -> dict:
    if form is None:
        if visit:
            address = visit.address
            data = {"street": address.street, "house_number": address.house_number,
                    "postcode": validators.format_postcode(address.postcode), "city": address.city,
                    "slot": appointments.slot_value(visit.slot)}
        else:
            company = draft.company.address
            data = {"street": company.street, "house_number": validators.house_number_text(company.number, company.addition),
                    "postcode": validators.format_postcode(company.postcode), "city": company.city}
        form = forms.VisitForm(None, data={**data, "appointment": visit.id if visit else 0})
    slots = appointments.open_slots(get_db(), submission.today(), keep=visit.slot if visit else None,
                                    per_slot=current_app.config["VISITS_PER_SLOT"])
    return {"visit": visit, "visit_form": form, "slot_groups": slot_groups(slots)}


def slot_groups(slots: list[datetime]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The open slots, one group per day, labelled in the page's language."""
    groups: dict = {}
    for slot in slots:
        day = format_date(slot.date(), "full")
        groups.setdefault(day, []).append(
            (appointments.slot_value(slot), _("%(day)s, %(time)s uur", day=day, time=format_time(slot.time(), "HH:mm"))))
    return list(groups.items())


def book_visit(draft, form, actor: str = drafts.APPLICANT) -> bool:
    """Validate and book the visit of ``form``, then mail both persons; FormRejected (the
    slot's error) when the slot cannot be had. Whether it changed a visit the page showed."""
    slot = appointments.parse_slot(form.slot.data or "")
    if slot is None:
        raise FormRejected(_("Kies een datum en tijd uit de lijst"), "slot")
    address = appointments.Address(street=form.street.data, house_number=form.house_number.data,
                                   postcode=form.postcode.data, city=form.city.data)
    counted_at = count_visit_change(draft)
    db = get_db()
    had = appointments.current(db, draft.id)
    try:
        visit = appointments.book(db, draft.id, slot, address, submission.today(), actor, based_on=form.based_on(),
                                  per_slot=current_app.config["VISITS_PER_SLOT"])
    except (store.Unavailable, appointments.SlotUnavailable) as error:
        uncount_visit_change(draft, counted_at)
        raise _booking_refused(error, form, had) from None
    if had != visit:
        mail_visit(draft, visit, changed=had is not None)
    else:
        uncount_visit_change(draft, counted_at)  # the same booking sent again: nobody is mailed
    return form.based_on() > 0  # the page showed a visit, which this one replaced (or a click before it did)


def _booking_refused(error: Exception, form, had) -> FormRejected:
    if isinstance(error, store.Unavailable):
        return FormRejected(save_unavailable(error), status=503)
    if error.reason == "changed":
        # Sent again from the page that says so, it replaces the visit as it is now.
        form.appointment.data = str(had.id if had else 0)
        return FormRejected(VISIT_CHANGED, status=409)
    if error.reason == "closed":
        return FormRejected(_("De aanmelding is intussen gewijzigd. Kijk hieronder wat nu nodig is."), "slot",
                            status=409)
    if error.reason == "taken":
        return FormRejected(_("Dit tijdstip is net door iemand anders gekozen. Kies een ander tijdstip."), "slot",
                            status=409)
    return FormRejected(_("Dit tijdstip kan niet meer. Kies een tijdstip uit de lijst."), "slot")


def visit_booked(draft, changed: bool, by_the_person: bool = False) -> str:
    """What a booking says: a visit made or changed, and who is mailed (``by_the_person``: said to
    the person on their own page, who is the one person, or one of both)."""
    person = one_person(draft)
    if person is None:
        return (_("De afspraak is gewijzigd. Beide personen krijgen een e-mail.") if changed
                else _("De afspraak is gemaakt. Beide personen krijgen een e-mail."))
    if by_the_person:
        return (_("De afspraak is gewijzigd. U krijgt een e-mail.") if changed
                else _("De afspraak is gemaakt. U krijgt een e-mail."))
    return (_("De afspraak is gewijzigd. %(name)s krijgt een e-mail.", name=person.full_name) if changed
            else _("De afspraak is gemaakt. %(name)s krijgt een e-mail.", name=person.full_name))


def count_visit_change(draft) -> datetime:
    """One more change of the visit (``VISIT_CHANGES``), counted before it is made; FormRejected
    (429) when it is one too many. Returns when it was counted, for ``uncount_visit_change``."""
    now = store.utcnow()
    try:
        hit(get_db(), [(VISIT_CHANGES, str(draft.id))], now=now)
    except RateLimited as limited:
        raise FormRejected(ngettext(
            "De afspraak is het afgelopen uur al vaak gewijzigd. Probeer het over %(num)s minuut opnieuw.",
            "De afspraak is het afgelopen uur al vaak gewijzigd. Probeer het over %(num)s minuten opnieuw.",
            limited.minutes), status=429) from None
    except store.Unavailable as error:
        raise FormRejected(save_unavailable(error), status=503) from None
    return now


def uncount_visit_change(draft, counted_at: datetime) -> None:
    """A change that mailed nobody (refused, or the same again) does not count."""
    try:
        take_back(get_db(), [(VISIT_CHANGES, str(draft.id))], counted_at)
    except store.Unavailable:
        pass  # counted, then: a try that failed is a try


def refused_visit_form(draft, rejected: FormRejected):
    """The visit form of the visit as it is now, with why what was sent was refused (a cancel from
    an older page): sent again, it is based on that visit."""
    form = visit_context(draft, appointments.current(get_db(), draft.id))["visit_form"]
    rejected.shown_in(form)
    return form


def send_person_link(draft, role: str) -> None:
    """The main contact's link to identify on their own device."""
    db = get_db()
    person = people.person(db, draft, role)
    token = person_links.issue(db, draft.id, role)
    send_mail("identify", person.email, subject=_("Identificeer u voor de VECOZO-aansluiting van %(company)s",
                                                   company=draft.company.name),
              draft_id=draft.id, links={"link": external_url("person.open_link", token=token)},
              name=person.full_name, company=draft.company.name, reference=draft.reference,
              days=person_links.LIFETIME.days)


# -- the routes of step 10 -------------------------------------------------------------------


def _submitted_draft():
    draft = current_draft()
    if response := gate(draft, 10):
        return None, response
    if draft.status != submission.SUBMITTED:
        return None, advance(step_url(10))
    return draft, None


@bp.post("/10/afspraak")
def visit_post():
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    if draft.method != submission.APPOINTMENT:
        return advance(step_url(10))
    form = forms.VisitForm()
    status = 422
    if form.validate():
        try:
            changed = book_visit(draft, form)
        except FormRejected as rejected:
            rejected.shown_in(form)
            status = rejected.status
        else:
            return advance(step_url(10), announce=visit_booked(draft, changed))
    return show(10, draft, form, status, visit_form=form, method_form=IdentifyStep().bind(draft))


@bp.post("/10/afspraak/annuleren")
def visit_cancel():
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    try:
        cancel_visit(draft, based_on=forms.VisitForm().based_on())
    except FormRejected as rejected:
        form = refused_visit_form(draft, rejected)
        return show(10, draft, form, rejected.status, visit_form=form, method_form=IdentifyStep().bind(draft))
    return advance(step_url(10), announce=_("De afspraak is geannuleerd."))


def cancel_visit(draft, actor: str = drafts.APPLICANT, based_on: int | None = None, counted: bool = True) -> None:
    """Call the visit off and tell both persons; FormRejected when it is no longer the one the page
    showed (``based_on``). Not ``counted`` as a change of the visit when it goes with the choice of
    identifying online (which cannot be repeated without booking a visit again)."""
    db = get_db()
    visit = appointments.current(db, draft.id)
    if visit is None:
        return
    counted_at = count_visit_change(draft) if counted else None
    try:
        cancelled = appointments.cancel(db, draft.id, actor, based_on=based_on)
    except appointments.SlotUnavailable:
        if counted_at:
            uncount_visit_change(draft, counted_at)
        raise FormRejected(VISIT_CHANGED, status=409) from None
    if not (cancelled and mail_visit(draft, visit, cancelled=True)) and counted_at:
        uncount_visit_change(draft, counted_at)


@bp.post("/10/identificeren")
def identify_start():
    """The signatory goes to the bank (a whole page: the bank is another site)."""
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    return start_identification(draft, people.SIGNATORY)


def start_identification(draft, role: str):
    progress = submission.progress(get_db(), draft)
    if draft.method != submission.ONLINE or progress.state(role) in identity.ONLINE_OVER:
        return advance(step_url(10))
    try:
        url = identity.start(get_db(), draft.id, role, providers.identity_provider(), providers.idin_redirect_uri())
    except providers.ProviderUnavailable:
        return show(10, draft, IdentifyStep().bind(draft), 503, notice=NO_PROVIDER)
    return navigate(url)


@bp.post("/10/link-hoofdcontact")
def main_contact_link():
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    if (draft.method != submission.ONLINE or submission.same_person(get_db(), draft)
            or submission.progress(get_db(), draft).state(people.MAIN_CONTACT) == "identified"):
        return advance(step_url(10))
    try:
        hit(get_db(), [(LINK_RESENDS, str(draft.id))])
    except RateLimited as limited:
        return show(10, draft, IdentifyStep().bind(draft), 429, notice=rate_limited(limited))
    send_person_link(draft, people.MAIN_CONTACT)
    return advance(step_url(10), announce=_("De link is opnieuw verstuurd."))


@bp.post("/10/ondertekenen")
def sign_start():
    """The identified signatory signs the agreement at the signing provider."""
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    db = get_db()
    progress = submission.progress(db, draft)
    if progress.signing_state == "invited":
        return navigate(progress.signing.url)
    if not progress.may_sign:
        return advance(step_url(10))
    signatory = people.person(db, draft, people.SIGNATORY)
    try:
        invitation = signing.invite(db, draft.id, providers.signing_provider(), signatory.full_name,
                                    external_url("wizard.step_get", number=10), draft.reference)
    except providers.ProviderUnavailable:
        return show(10, draft, IdentifyStep().bind(draft), 503, notice=NO_PROVIDER)
    return navigate(invitation.signer_url)


@bp.post("/10/demo-bezoek")
def demo_visit():
    """Demo mode only: the visit took place and both persons showed their ID (staff record
    this in the back office)."""
    if not current_app.config["DEMO"]:
        abort(404)
    draft, elsewhere = _submitted_draft()
    if elsewhere:
        return elsewhere
    try:
        submission.record_visit(get_db(), draft, draft.version, "identified", actor="demo")
    except (LookupError, drafts.StaleDraft, submission.AlreadyCompleted, submission.VisitRecorded):
        return advance(step_url(10))
    after_change(draft.id)
    person = one_person(draft)
    return advance(step_url(10), announce=(
        _("Het bezoek is verwerkt: %(name)s is geïdentificeerd.", name=person.full_name) if person
        else _("Het bezoek is verwerkt: beide personen zijn geïdentificeerd.")))
