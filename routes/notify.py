"""What both persons of an application are told by mail when step 10 moves on: a visit booked,
changed or cancelled, the application completed. The applicant's pages, the persons' own pages,
the back office and the signing provider's callbacks share it."""

from datetime import datetime

from flask import current_app
from flask_babel import format_date, format_time

from onboarding import appointments, drafts, people, person_links, submission, validators
from onboarding.mail import Attachment

from .i18n import gettext as _
from .mailer import send_mail
from .pages import external_url, get_db


def visit_time(slot: datetime) -> str:
    """"dinsdag 1 december 2026 om 10:00 uur": the template filter ``visit_time`` too."""
    return _("%(day)s om %(time)s uur", day=format_date(slot.date(), "full"), time=format_time(slot.time(), "HH:mm"))


def mail_visit(draft, visit, changed=False, cancelled=False) -> None:
    """Both persons hear of a visit booked, changed or cancelled, with its ``.ics``. Only a
    visit still to come is called off: one that took place or has passed is nobody's plan."""
    if cancelled and not appointments.upcoming(visit, appointments.local_now()):
        return
    db = get_db()
    address = visit.address
    where = f"{address.street} {address.house_number}, {validators.format_postcode(address.postcode)} {address.city}"
    calendar = appointments.ics(
        visit, reference=draft.reference, summary=_("Identificatie VECOZO-aansluiting (AMP Groep)"),
        description=_("Een medewerker van AMP Groep identificeert de tekenbevoegde en de hoofdcontactpersoon. "
                      "Neem allebei een paspoort, identiteitskaart of rijbewijs mee. Kenmerk: %(reference)s",
                      reference=draft.reference),
        location=where, organizer_email=current_app.config["MAIL_FROM"].rpartition("<")[2].rstrip(">"),
        cancelled=cancelled)
    subject = (_("Afspraak geannuleerd: identificatie voor uw VECOZO-aansluiting") if cancelled
               else _("Afspraak gewijzigd: identificatie voor uw VECOZO-aansluiting") if changed
               else _("Afspraak bevestigd: identificatie voor uw VECOZO-aansluiting"))
    for role in (people.SIGNATORY, people.MAIN_CONTACT):
        person = people.person(db, draft, role)
        token = person_links.issue(db, draft.id, role)
        send_mail("visit", person.email, subject=subject, draft_id=draft.id,
                  links={"link": external_url("person.open_link", token=token)},
                  attachment=Attachment("afspraak.ics", calendar, "text/calendar"),
                  name=person.full_name, when=visit_time(visit.slot), where=where, reference=draft.reference,
                  company=draft.company.name, cancelled=cancelled)


def reopen(draft, version: int, actor: str = drafts.APPLICANT) -> None:
    """``submission.reopen``, by the applicant or by staff; a visit still to come that it
    cancels is called off with both persons. Raises as ``submission.reopen`` does."""
    visit = appointments.current(get_db(), draft.id)
    submission.reopen(get_db(), draft, version, actor=actor)
    if visit is not None:
        mail_visit(draft, visit, cancelled=True)


def after_change(draft_id: int) -> None:
    """Step 10 moved on (an identification, a signature, a visit): complete the
    application when everything is done, and tell both persons once."""
    db = get_db()
    if not submission.complete_if_done(db, draft_id):
        return
    draft = drafts.by_id(db, draft_id)
    for role in (people.SIGNATORY, people.MAIN_CONTACT):
        person = people.person(db, draft, role)
        send_mail("completed", person.email, subject=_("Uw aansluiting bij VECOZO is rond (%(reference)s)",
                                                        reference=draft.reference),
                  draft_id=draft.id, name=person.full_name, reference=draft.reference,
                  company=draft.company.name, start_url=external_url("start.index"))
