"""Step 6: a contact person per AGB code, edited inline one row at a time.

With htmx a row's edit link swaps the row for its form (``{% block row %}`` of
``steps/contact_row.html``), Save swaps the saved row back and Cancel restores it.
Without JavaScript the same link opens the form as a page, and saving returns to
the table at that row, filtered as it was. A row carries a version of its own.
"""

import re
from types import SimpleNamespace
from typing import NamedTuple
from urllib.parse import unquote

from flask import abort, current_app, g, redirect, request

from onboarding import drafts, people, steps, store, validators
from onboarding.registry import zorgsoort_name

from .. import forms, person_forms
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..pages import Pager, advance, current_draft, get_db, per_locale, phone_formatter, translated, wants_fragment
from ..wizard import STALE, FormRejected, Step, bp, gate, save_unavailable, show, step, step_url, within_step

# Rows per page (SPEC §1): 68 KB of HTML at 1,000 codes, 6.5 KB compressed; the filter and the
# spreadsheet serve an organisation with many codes.
PAGE_SIZE = 50
NO_CONTACT = _l("Geef bij elke AGB-code een contactpersoon op. Nog zonder contactpersoon:")

# What every row says, translated once per language: a page of rows would otherwise look each
# string up once per row, which cost more than the page's queries.
ROW_TEXTS = {
    "known": _l("bekend bij VECOZO"),
    "main_contact": _l("hoofdcontactpersoon"),
    "former_main_contact": _l("vorige gegevens hoofdcontactpersoon"),
    "edit": _l("Wijzig"),
    "remove": _l("Verwijder"),
    "missing": _l("Nog geen contactpersoon"),
    "add": _l("Voeg een contactpersoon toe"),
    "add_second": _l("Voeg een tweede contactpersoon toe"),
    "contact_of": _l("contactpersoon %(position)s van %(code)s"),
    "for_code": _l("bij %(code)s"),
}


# The table's filter, in its URL and, without JavaScript, in those of its rows' pages: saving a row, or
# going back from it, returns to the table filtered as it was. Its form's id htmx sends (HX-Trigger).
FILTER_ARG = "zoek"
FILTER_FORM = "contact-filter"


def asked_filter() -> str:
    """What the table is filtered on: as typed, its control characters left out, at most 100 characters."""
    return "".join(char for char in request.args.get(FILTER_ARG, "")[:200] if char.isprintable()).strip()[:100]


def filter_args(query: str) -> dict:
    return {FILTER_ARG: query} if query else {}


class RowLinks:
    """The URLs of a row's links: made with url_for once per page, then filled in per row (their
    paths: the filter they carry is as typed)."""

    CODE, POSITION = "__agb__", 9

    def __init__(self, query: str = ""):
        def pattern(endpoint: str, **values) -> tuple[str, str]:
            path, mark, kept = within_step(endpoint, agb_code=self.CODE, **values, **filter_args(query)).partition("?")
            return path, mark + kept

        self._row = pattern("wizard.contact_row")
        self._edit = pattern("wizard.contact_edit", position=self.POSITION)
        self._remove = pattern("wizard.contact_remove", position=self.POSITION)

    def _fill(self, pattern: tuple[str, str], code: str, position: int) -> str:
        path, query = pattern
        # The position first: a code may hold the digits that stand for it.
        return path.replace(f"{self.CODE}/{self.POSITION}", f"{self.CODE}/{position}").replace(self.CODE, code) + query

    def row(self, code: str) -> str:
        path, query = self._row
        return path.replace(self.CODE, code) + query

    def edit(self, code: str, position: int) -> str:
        return self._fill(self._edit, code, position)

    def remove(self, code: str, position: int) -> str:
        return self._fill(self._remove, code, position)


class ShownContact(NamedTuple):
    """A contact person as a row shows them, every text and link made here: a page of rows of
    calls from the template cost more than the rest of the page. Named tuples: made in half the
    time of frozen dataclasses, 50 of them a page."""

    position: int
    full_name: str
    email: str
    phone: str
    tag: str  # "bekend bij VECOZO", "hoofdcontactpersoon" or nothing
    about: str  # which contact of which code, for a screen reader's link list
    edit_url: str
    remove_url: str


class ShownRow(NamedTuple):
    agb_code: str
    name: str
    zorgsoort: str  # its name
    version: int
    contacts: tuple[ShownContact, ...]
    url: str  # the row on its own
    add_url: str | None  # a first or second contact; None with two
    add_id: str  # the add link's, where the error summary leads (add_link_id)
    add_text: str
    add_about: str  # which code, for a screen reader's link list
    kept: bool = False  # typed in and not saved on the page that asked: htmx keeps it as it is (hx-preserve)


TAGS = {"registry": "known", "main_contact": "main_contact"}


def add_link_id(agb_code: str) -> str:
    """The id of a row's link that adds a contact: the first control of a row without one, where the
    error summary's link for that code leads (GOV.UK's pattern: to what can take the focus; a row, a
    <tr>, cannot, and following a link to it left the focus on the page's body)."""
    return f"row-{agb_code}-add"


def shown_rows(rows, kept=frozenset(), main_contact: tuple | None = None) -> list[ShownRow]:
    """The rows as the table shows them; ``main_contact``: the main contact's details
    (``people.main_contact_details``) when rows filled from them may hold an earlier version."""
    texts = row_texts()
    links = RowLinks(asked_filter())
    phone = phone_formatter()
    zorgsoorten = current_app.extensions["aansluiten.zorgsoorten"]
    return [
        ShownRow(
            agb_code=row.agb_code,
            name=row.name,
            zorgsoort=zorgsoort_name(zorgsoorten, row.zorgsoort),
            version=row.version,
            contacts=tuple(
                ShownContact(
                    position=contact.position,
                    full_name=contact.full_name,
                    email=contact.email,
                    phone=phone(contact.phone),
                    tag=_tag(texts, contact, main_contact),
                    about=texts.contact_of % {"position": contact.position, "code": row.agb_code},
                    edit_url=links.edit(row.agb_code, contact.position),
                    remove_url=links.remove(row.agb_code, contact.position),
                )
                for contact in row.contacts
            ),
            url=links.row(row.agb_code),
            add_url=links.edit(row.agb_code, len(row.contacts) + 1) if len(row.contacts) < 2 else None,
            add_id=add_link_id(row.agb_code),
            add_text=texts.add_second if row.contacts else texts.add,
            add_about=texts.for_code % {"code": row.agb_code},
            kept=row.agb_code in kept,
        )
        for row in rows
    ]


def _tag(texts, contact, main_contact: tuple | None) -> str:
    """Where a contact came from: the registry, or the main contact (as they were, when they have
    changed since the bulk action filled the row)."""
    if contact.source not in TAGS:
        return ""
    if contact.source == "main_contact" and main_contact is not None and main_contact != (
            contact.initials, contact.prefix, contact.surname, contact.email, contact.phone):
        return texts.former_main_contact
    return getattr(texts, TAGS[contact.source])


# The rows the page has open with something typed and not saved, named by app.js when it asks for the
# table again (filtered, paged) or for the whole page (Doorgaan, a bulk button): the id of each one's
# first changed field (row-<code>-<position>-<field>), URI-encoded, between spaces. At most MAX_UNSAVED.
UNSAVED_HEADER = "X-Aansluiten-Unsaved-Rows"
MAX_UNSAVED = 10
_UNSAVED_FIELD = re.compile(r"row-(?P<code>.+)-[12]-(?:initials|prefix|surname|email|phone)")
UNSAVED = _l("U heeft bij een AGB-code iets getypt en nog niet opgeslagen. Sla het op of annuleer het:")


def unsaved_rows() -> dict[str, str]:
    """The codes of the rows the page that asked holds unsaved (htmx only), each with its changed field's
    id. The table sends them back marked, so that htmx keeps the page's own with what was typed in them
    (hx-preserve), and an action on the whole table waits for them (``refuse_unsaved``). Codes that
    are not the draft's are left out by the queries that read them."""
    if not wants_fragment():
        return {}
    rows = {}
    for named in request.headers.get(UNSAVED_HEADER, "").split()[:MAX_UNSAVED]:
        if match := _UNSAVED_FIELD.fullmatch(field_id := unquote(named)):
            rows.setdefault(match["code"], field_id)
    return rows


def refuse_unsaved(draft) -> None:
    """Doorgaan or a bulk button while a row holds what was typed and not saved: FormRejected, its
    summary leading to what was typed. Without JavaScript a row being edited is a page of its own."""
    if not (unsaved := unsaved_rows()):
        return
    if shown := {row.agb_code for row in people.rows_of(get_db(), draft, unsaved)}:
        raise FormRejected(UNSAVED, context={"summary_links": [
            (f"#{field_id}", _("AGB-code %(code)s", code=code)) for code, field_id in unsaved.items() if code in shown]})


def row_texts() -> SimpleNamespace:
    """The rows' texts in this language, read as attributes: a dict's keys are found by the
    template only after a failed attribute look-up, a few each row."""
    return per_locale("row_texts", lambda: SimpleNamespace(**translated("row_texts", ROW_TEXTS)))


def row_context() -> dict:
    """What the row template needs besides the rows, for the table and the row endpoints alike."""
    return {"texts": row_texts()}


@step
class ContactsStep(Step):
    number = 6
    template = "steps/contacts.html"
    form_class = forms.StepForm

    def context(self, draft):
        db = get_db()
        query = asked_filter()
        pager = Pager.from_request(people.count_codes(db, draft, query), size=PAGE_SIZE)
        if query:
            g.announce = ngettext("%(num)s AGB-code gevonden.", "%(num)s AGB-codes gevonden.", pager.total)
        elif current_app.htmx.trigger == FILTER_FORM:  # the filter emptied: the live region's count goes
            g.announce = ngettext("Alle %(num)s AGB-code.", "Alle %(num)s AGB-codes.", pager.total)
        without_contact = people.count_without_contact(db, draft)
        behind_main_contact = people.rows_behind_main_contact(db, draft)
        rows = people.code_rows(db, draft, query, pager.offset, pager.size)
        # A row being typed in stays: where it is when this page of the table holds it, else above.
        kept = set(unsaved_rows())
        pinned = people.rows_of(db, draft, kept - {row.agb_code for row in rows}) if kept else []
        return {
            **row_context(),
            "without_contact": without_contact,
            "rows": shown_rows(pinned + rows, kept,
                               people.main_contact_details(db, draft) if behind_main_contact else None),
            "pager": pager,
            "query": query,
            "behind_main_contact": behind_main_contact,
            # The bulk actions' form, made only when the page offers one of them.
            "version_form": (forms.StepForm(None, data={"version": draft.version})
                             if without_contact or behind_main_contact else None),
        }

    def save(self, draft, form):
        refuse_unsaved(draft)
        db = get_db()
        missing = people.codes_without_contact(db, draft)
        if missing:
            links = [(f"#{add_link_id(code)}", _("AGB-code %(code)s", code=code)) for code in missing]
            count = people.count_without_contact(db, draft)
            if count > len(missing):
                links.append((None, _("en nog %(count)s andere codes: die staan bovenaan de tabel",
                                      count=count - len(missing))))
            raise FormRejected(NO_CONTACT, context={"summary_links": links})
        people.finish_contacts(db, draft, form.based_on())
        return step_url(7)


def _row_url(agb_code: str) -> str:
    """The table, filtered as it was when the row was opened, at the page that shows this row now (rows
    without a contact come first); unfiltered if the filter does not find it."""
    db, draft, query = get_db(), current_draft(), asked_filter()
    index = people.row_index(db, draft, agb_code, query)
    if index is None:
        query, index = "", people.row_index(db, draft, agb_code) or 0
    page = index // PAGE_SIZE + 1
    return within_step("wizard.step_get", number=6, **({"pagina": page} if page > 1 else {}),
                       **filter_args(query)) + f"#row-{agb_code}"


def _row(draft, agb_code: str):
    row = people.code_row(get_db(), draft, agb_code)
    if row is None:
        abort(404)
    return row


def _contact_form(row, position: int, formdata=None):
    """The form of one contact person of a row, based on the row's own version. Ids carry
    the code, so that two rows open at once never share one; names stay the contract's."""
    contact = next((c for c in row.contacts if c.position == position), None)
    data = {"version": row.version}
    if contact and formdata is None:  # a form sent back shows what was sent
        data.update(initials=contact.initials, prefix=contact.prefix, surname=contact.surname,
                    email=contact.email, phone=validators.format_phone(contact.phone))
    form = person_forms.ContactForm(formdata, data=data)
    for field in form:
        field.id = f"row-{row.agb_code}-{position}-{field.name}"
    return form


def _show_row(draft, row, *, form=None, position: int | None = None, status: int = 200, focus=None,
              stale: bool = False):
    """The row on its own (htmx) or, while editing without JavaScript, the page with its form."""
    return show(
        6, draft, form, status,
        template="steps/contact_row.html",
        title=_("Contactpersoon bij AGB-code %(code)s", code=row.agb_code),
        # The back link shows on the page only: an htmx row needs no count of the rows before it.
        back_url=None if wants_fragment() else _row_url(row.agb_code),
        # The main contact's details only for a row filled from them (a row save needs no more queries).
        row=shown_rows([row], main_contact=people.main_contact_details(get_db(), draft)
                       if any(contact.source == "main_contact" for contact in row.contacts) else None)[0],
        row_form=form,
        action=position and within_step("wizard.contact_save", agb_code=row.agb_code, position=position,
                                        **filter_args(asked_filter())),
        position=position,
        focus=focus,
        stale=stale,
        **row_context(),
    )


def _gated(agb_code: str, position: int = 1):
    """The draft and its row, once step 6 may be visited; a position other than 1 or 2 is no page."""
    if position not in (1, 2):
        abort(404)
    draft = current_draft()
    if response := gate(draft, 6):
        return draft, None, response
    return draft, _row(draft, agb_code), None


@bp.get("/6/code/<agb_code>")
def contact_row(agb_code: str):
    """The row as it is (Cancel with htmx); without JavaScript, the table at that row."""
    draft, row, response = _gated(agb_code)
    if response:
        return response
    if not wants_fragment():
        return redirect(_row_url(agb_code), 303)
    return _show_row(draft, row, focus=request.args.get("na", type=int) or 1)


@bp.get("/6/code/<agb_code>/<int:position>")
def contact_edit(agb_code: str, position: int):
    draft, row, response = _gated(agb_code, position)
    if response:
        return response
    if position > len(row.contacts) + 1:
        abort(404)
    return _show_row(draft, row, form=_contact_form(row, position), position=position)


@bp.post("/6/code/<agb_code>/<int:position>")
def contact_save(agb_code: str, position: int):
    draft, row, response = _gated(agb_code, position)
    if response:
        return response
    form = _contact_form(row, position, request.form)
    if form.validate():
        try:
            people.save_contact(get_db(), draft, agb_code, form.based_on(), position, form.contact())
        except drafts.StaleDraft:
            row = _row(draft, agb_code)
            stored = next((c for c in row.contacts if c.position == position), None)
            if stored and stored.same_as(form.contact()):
                return _saved(draft, agb_code, position)  # a second click, not a second window
            form.version.data = str(row.version)
            form.form_errors.append(STALE)
            return _show_row(draft, row, form=form, position=position, status=409, stale=True)
        except people.Refused:
            form.form_errors.append(_("Bij een AGB-code horen hoogstens twee contactpersonen."))
        except store.Unavailable as error:
            form.form_errors.append(save_unavailable(error))
            return _show_row(draft, row, form=form, position=position, status=503)
        else:
            return _saved(draft, agb_code, position)
    return _show_row(draft, row, form=form, position=position, status=422)


@bp.post("/6/code/<agb_code>/<int:position>/verwijder")
def contact_remove(agb_code: str, position: int):
    draft, row, response = _gated(agb_code, position)
    if response:
        return response
    form = forms.StepForm(request.form)
    try:
        people.remove_contact(get_db(), draft, agb_code, form.based_on(), position)
    except people.Refused:
        abort(404)
    except drafts.StaleDraft:
        row = _row(draft, agb_code)
        position = min(position, len(row.contacts)) or 1
        form = _contact_form(row, position)
        form.form_errors.append(STALE)
        return _show_row(draft, row, form=form, position=position, status=409, stale=True)
    return _saved(draft, agb_code, 1,
                  announce=_("De contactpersoon bij AGB-code %(code)s is verwijderd.", code=agb_code))


def _saved(draft, agb_code: str, position: int, announce=None):
    announce = announce or _("De contactpersoon bij AGB-code %(code)s is opgeslagen.", code=agb_code)
    if wants_fragment():
        g.announce = announce
        return _show_row(current_draft(), _row(draft, agb_code), focus=position)
    return advance(_row_url(agb_code), announce)  # without JavaScript, the table says it at its top


@bp.post("/6/aanvullen")
def fill_with_main_contact():
    """The bulk action: every code without a contact person gets the main contact."""
    return _bulk(people.fill_with_main_contact, lambda count: ngettext(
        "%(num)s AGB-code heeft de hoofdcontactpersoon als contactpersoon gekregen.",
        "%(num)s AGB-codes hebben de hoofdcontactpersoon als contactpersoon gekregen.", count),
        done_already=lambda db, draft: not draft.code_without_contact)


@bp.post("/6/hoofdcontact-volgen")
def follow_main_contact():
    """Rows the bulk action filled take the new main contact's details, when asked."""
    return _bulk(people.follow_main_contact, lambda count: ngettext(
        "%(num)s contactpersoon is bijgewerkt.", "%(num)s contactpersonen zijn bijgewerkt.", count),
        done_already=lambda db, draft: people.rows_behind_main_contact(db, draft) == 0)


def _bulk(action, announcement, done_already):
    """A button that changes many rows at once, based on the draft's version; when another
    window changed the draft but what the button asks is done already, it was a double click."""
    draft = current_draft()
    if response := gate(draft, 6):
        return response
    db = get_db()
    try:
        refuse_unsaved(draft)
    except FormRejected as rejected:
        form = forms.StepForm(None, data={"version": draft.version})
        rejected.shown_in(form)
        return show(6, draft, form, rejected.status, **rejected.context)
    try:
        count = action(db, draft, forms.StepForm(request.form).based_on())
    except people.Refused:  # the main contact went in another window: the gate says where to
        return advance(step_url(steps.first_unfinished(current_draft())))
    except drafts.StaleDraft:
        draft = current_draft()
        if done_already(db, draft):
            return advance(within_step("wizard.step_get", number=6))
        return show(6, draft, forms.StepForm(None, data={"version": draft.version}), 409, notice=STALE)
    return advance(within_step("wizard.step_get", number=6), announce=announcement(count))
