"""What both persons of an application are told by mail when step 10 moves on: a visit booked,
changed, cancelled or missed, the application completed. The applicant's pages, the persons' own pages,
the back office and the signing provider's callbacks share it."""

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from babel.lists import format_list
from flask import current_app
from flask_babel import format_date, format_time

from onboarding import appointments, drafts, people, person_links, submission, validators
from onboarding.mail import Attachment

from .i18n import gettext as _
from .i18n import language
from .mailer import send_mail
from .pages import external_url, get_db


def visit_time(slot: datetime) -> str:
    """"dinsdag 1 december 2026 om 10:00 uur": the template filter ``visit_time`` too."""
    return _("%(day)s om %(time)s uur", day=format_date(slot.date(), "full"), time=format_time(slot.time(), "HH:mm"))


@dataclass(frozen=True)
class Recipient:
    """One address an application's mail goes to: a person's (or two persons' sharing it), or
    the applicant's."""

    email: str
    name: str | None  # whom the mail greets: one name, or the names of two persons sharing the address
    role: str | None  # whose person link the mail carries (None: the applicant's address, no person's)
    one_person: bool  # one person holds both roles: the mail speaks to them alone


def recipients(db, draft) -> list[Recipient]:
    """The signatory and the main contact, one mail per address: a signatory who is the main
    contact too (or two persons sharing a mailbox) is mailed once, not twice."""
    at: dict[str, list] = {}
    for role in (people.SIGNATORY, people.MAIN_CONTACT):
        person = people.person(db, draft, role)
        at.setdefault(person.email, []).append((role, person))
    found = []
    for email, holders in at.items():
        names = list(dict.fromkeys(person.full_name for _role, person in holders))
        found.append(Recipient(email, format_list(names, locale=language()), holders[0][0],
                               one_person=len(holders) > 1 and len(names) == 1))
    return found


def one_person(draft):
    """The signatory when they are the main contact too (``submission.same_person``), whom a text
    then names alone, not as "both persons"; else None."""
    db = get_db()
    return people.person(db, draft, people.SIGNATORY) if submission.same_person(db, draft) else None


def mail_visit(draft, visit, changed=False, cancelled=False, reopened=False, missed=False) -> bool:
    """Both persons hear of a visit booked, changed or cancelled, with its ``.ics`` and a link to
    their own page; cancelled because the application was ``reopened``, without a link (a reopen
    ends them: ``person_links.end_all``). Only a visit still to come is called off: one that took
    place or has passed is nobody's plan. A visit ``missed`` (nobody was there, as staff
    recorded) is said with the link to choose a new one, and no ``.ics``: it is over. Whether it
    mailed anyone."""
    if cancelled and not appointments.upcoming(visit, appointments.local_now()):
        return False
    db = get_db()
    address = visit.address
    where = f"{address.street} {address.house_number}, {validators.format_postcode(address.postcode)} {address.city}"
    subject = (_("Afspraak niet doorgegaan: identificatie voor uw VECOZO-aansluiting") if missed
               else _("Afspraak geannuleerd: identificatie voor uw VECOZO-aansluiting") if cancelled
               else _("Afspraak gewijzigd: identificatie voor uw VECOZO-aansluiting") if changed
               else _("Afspraak bevestigd: identificatie voor uw VECOZO-aansluiting"))
    for recipient in recipients(db, draft):
        links = {} if reopened else {
            "link": external_url("person.open_link", token=person_links.issue(db, draft.id, recipient.role))}
        send_mail("visit", recipient.email, subject=subject, draft_id=draft.id, links=links,
                  attachment=None if missed else _calendar(draft, visit, recipient, where, cancelled),
                  name=recipient.name, one_person=recipient.one_person, when=visit_time(visit.slot), where=where,
                  reference=draft.reference, company=draft.company.name, cancelled=cancelled, reopened=reopened,
                  missed=missed)
    return True


def _calendar(draft, visit, recipient: Recipient, where: str, cancelled: bool) -> Attachment:
    """The visit as an ``.ics`` for ``recipient``'s agenda: one event, changed or called off by
    the next."""
    description = (
        _("Een medewerker van AMP Groep identificeert u als tekenbevoegde en hoofdcontactpersoon. "
          "Neem een paspoort, identiteitskaart of rijbewijs mee. Kenmerk: %(reference)s",
          reference=draft.reference) if recipient.one_person else
        _("Een medewerker van AMP Groep identificeert de tekenbevoegde en de hoofdcontactpersoon. "
          "Neem allebei een paspoort, identiteitskaart of rijbewijs mee. Kenmerk: %(reference)s",
          reference=draft.reference))
    calendar = appointments.ics(
        visit, reference=draft.reference, summary=_("Identificatie VECOZO-aansluiting (AMP Groep)"),
        description=description, location=where,
        # The sender's address, as the mail's Message-ID takes it (MAIL_FROM may carry a display name).
        organizer_email=parseaddr(current_app.config["MAIL_FROM"])[1], cancelled=cancelled)
    return Attachment("afspraak.ics", calendar, "text/calendar")


def reopen(draft, version: int, actor: str = drafts.APPLICANT) -> None:
    """``submission.reopen``, by the applicant or by staff; a visit still to come that it
    cancels is called off with both persons. Raises as ``submission.reopen`` does."""
    visit = appointments.current(get_db(), draft.id)
    submission.reopen(get_db(), draft, version, actor=actor)
    if visit is not None:
        mail_visit(draft, visit, cancelled=True, reopened=True)


def after_change(draft_id: int) -> None:
    """Step 10 moved on (an identification, a signature, a visit): complete the
    application when everything is done, and tell both persons and the applicant once
    (each address once)."""
    db = get_db()
    if not submission.complete_if_done(db, draft_id):
        return
    draft = drafts.by_id(db, draft_id)
    told = recipients(db, draft)
    # Only the applicant's own session downloads the signed PDF: the applicant hears how,
    # the persons that the applicant can.
    if draft.email not in {recipient.email for recipient in told}:
        told.append(Recipient(draft.email, name=None, role=None, one_person=False))
    # Whom the mail names as identified and signed: the one person holding both roles, or both.
    alone = person.full_name if (person := one_person(draft)) else None
    for recipient in told:
        send_mail("completed", recipient.email, subject=_("Uw aansluiting bij VECOZO is rond (%(reference)s)",
                                                           reference=draft.reference),
                  draft_id=draft.id, name=recipient.name, applicant=recipient.email == draft.email, alone=alone,
                  reference=draft.reference, company=draft.company.name, start_url=external_url("start.index"))
