"""Step 9: everything the applicant answered, each section with a change link, and the
declaration that submits the application.

The page is a list of cards, each a list of rows (GOV.UK's summary list): built here as
data and drawn by one loop in the template, which costs a fraction of a macro call per row.
"""

import re
from dataclasses import dataclass

from flask import current_app

from onboarding import drafts, people, services, submission, validators

from .. import forms
from ..i18n import language
from ..i18n import lazy_gettext as _l
from ..pages import get_db, translated
from ..wizard import Step, change_url, step, step_url

# Codes shown with their contact persons; the rest are counted (the PDF lists them all).
SHOWN_CODES = 10

LABELS = {
    "change": _l("Wijzigen"),
    "not_given": _l("Niet opgegeven"),
    "none": _l("Geen"),
    "yes": _l("Ja"),
    "email_card": _l("E-mailadres"),
    "email": _l("E-mailadres"),
    "draft_email": _l("E-mailadres voor deze aanmelding"),
    "company": _l("Onderneming"),
    "kvk_number": _l("KvK-nummer"),
    "agb_code": _l("AGB-code"),
    "company_name": _l("Naam in het Handelsregister"),
    "address": _l("Adres hoofdvestiging"),
    "checked": _l("Gegevens gecontroleerd"),
    "data_correct": _l("Ja, de gegevens kloppen"),
    "signatory": _l("Tekenbevoegde"),
    "main_contact": _l("Hoofdcontactpersoon"),
    "name": _l("Naam"),
    "birth_date": _l("Geboortedatum"),
    "mobile": _l("Mobiel nummer"),
    "employed": _l("In dienst van de onderneming"),
    "contacts": _l("Contactpersonen per AGB-code"),
    "ict": _l("ICT-beheerders"),
    "ict_admin": _l("ICT-beheerder %(number)s"),
    "services": _l("Diensten"),
    "complete": _l("Het overzicht klopt en is volledig"),
    "remark": _l("Opmerking over de diensten"),
}


@dataclass(frozen=True)
class Row:
    """One answer: what was asked, and what was answered (nothing: "Niet opgegeven").
    ``kind`` says how the template shows the value: ``text``, ``dutch`` (a name, in Dutch
    whatever the page's language), ``address``, ``code`` (a CodeRow with its contacts),
    ``admin`` (an IctAdmin), ``list`` (texts; none: "Geen") or ``lines`` (a text with its line breaks)."""

    label: str
    value: object = None
    kind: str = "text"


@dataclass(frozen=True)
class Card:
    """A section of the summary, with the link to the step that changes it."""

    id: str
    title: str
    change_url: str
    rows: tuple[Row, ...]
    change_about: str  # what the change link's hidden text says it changes


def labels() -> dict:
    return translated("summary_labels", LABELS)


def in_sentence(title: str) -> str:
    """A title as it reads within a sentence ("Wijzigen e-mailadres"): its first letter in lower
    case, unless its first word is an abbreviation ("ICT-beheerders", "KvK-nummer"), whose
    capitals a screen reader needs to spell it out."""
    first = re.split(r"[\s-]", title, maxsplit=1)[0]
    return title if first[1:] != first[1:].lower() else title[:1].lower() + title[1:]


def person_rows(text: dict, person) -> list[Row]:
    if person is None:
        return [Row(text["name"]), Row(text["birth_date"]), Row(text["email"]), Row(text["mobile"])]
    return [
        Row(text["name"], person.full_name, "dutch"),
        Row(text["birth_date"], validators.format_date(person.birth_date) or None),
        Row(text["email"], person.email),
        Row(text["mobile"], validators.format_phone(person.mobile) or None),
    ]


@step
class SummaryStep(Step):
    number = 9
    template = "steps/summary.html"
    form_class = forms.DeclarationForm
    announcement = _l("Uw aanmelding is verstuurd.")

    def unchanged(self, draft, form):
        # The declaration is about what the page showed: a summary of an older version
        # is never "the same answers" (a second click meets the gate: submitted already).
        return False

    def context(self, draft):
        db = get_db()
        text = labels()
        company = draft.company
        lang = language()
        groups = services.code_groups(db, draft.id)
        opened = services.open_services(current_app.extensions["aansluiten.services"], groups)
        code_rows = people.code_rows(db, draft, limit=SHOWN_CODES)
        admins = people.ict_admins(db, draft)

        def card(number: int, id: str, title: str, rows: list[Row]) -> Card:
            return Card(id, title, change_url(number), tuple(rows), in_sentence(title))

        return {
            "labels": text,
            # Rows filled with a main contact changed since (from this summary, say): step 6 says so,
            # and so does the summary, before the agreement is made with the old details.
            "behind_main_contact": people.rows_behind_main_contact(db, draft),
            "code_total": drafts.agb_code_count(db, draft),
            "codes_shown": len(code_rows),
            "cards": [
                card(1, "summary-email", text["email_card"], [Row(text["draft_email"], draft.email)]),
                card(2, "summary-company", text["company"], [
                    Row(text["kvk_number"], company.kvk_number),
                    Row(text["agb_code"], draft.agb_code),
                    Row(text["company_name"], company.name, "dutch"),
                    Row(text["address"], company.address, "address"),
                    Row(text["checked"], text["data_correct"]),
                ]),
                card(4, "summary-signatory", text["signatory"],
                     person_rows(text, people.person(db, draft, people.SIGNATORY))),
                card(5, "summary-main-contact", text["main_contact"], [
                    *person_rows(text, people.person(db, draft, people.MAIN_CONTACT)),
                    Row(text["employed"], text["yes"]),
                ]),
                card(6, "summary-contacts", text["contacts"],
                     [Row(code.agb_code, code, "code") for code in code_rows]),
                card(7, "summary-ict", text["ict"],
                     [Row(text["ict_admin"] % {"number": index}, admin, "admin") for index, admin in enumerate(admins, 1)]
                     or [Row(text["ict"])]),
                card(8, "summary-services", text["services"], [
                    Row(text["services"], [open.service.name[lang] for open in opened], "list"),
                    Row(text["complete"], text["yes"]),
                    Row(text["remark"], draft.services_remark, "lines"),
                ]),
            ],
        }

    def save(self, draft, form):
        submission.submit(get_db(), draft, form.based_on(), current_app.extensions["aansluiten.services"],
                          current_app.extensions["aansluiten.zorgsoorten"])
        return step_url(10)

