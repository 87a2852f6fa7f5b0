"""Step 6 from a spreadsheet: every AGB code's contact persons in one file.

The applicant downloads a template (.xlsx or .csv) with every code and what is filled in now,
fills it in and uploads it: a plain multipart form that works without JavaScript; with htmx the
answer swaps in. The answer is a preview of what the file would change, with every row that has
an error; only the applicant's confirmation stores it, all at once (``onboarding.spreadsheet``).
The rows read wait in the database between preview and confirmation, not in the session cookie.

Only the upload takes a larger body than any other form (``UPLOAD_MAX_BYTES``): its view is
marked ``large_body``, which ``app.py`` reads before the CSRF check reads the form. A file that is
larger still gets its message beside the file field (this blueprint's handler of the 413).
"""

import os
from datetime import timedelta

from flask import Blueprint, current_app, request
from flask_babel import format_decimal
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField

from onboarding import drafts, spreadsheet, store
from onboarding.ratelimit import Limit, RateLimited, hit

from .. import forms, person_forms
from ..i18n import language
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..pages import advance, current_draft, get_db
from ..wizard import STALE, bp, gate, rate_limited, save_unavailable, show, within_step

# Nested in the wizard's blueprint (its URLs under /stap, its endpoints wizard.upload.*), so
# that a too large file meets this blueprint's 413 handler and no other form does.
upload = Blueprint("upload", __name__)

TITLE = _l("Contactpersonen uit een spreadsheet")
# Errors named in the error summary, and listed in the table below it (the rest are counted).
SUMMARY_ERRORS = 10
SHOWN_ERRORS = 200
# Changed rows shown with what they held before (every change is counted).
SHOWN_CHANGES = 50
# Reading a file takes a worker up to a second or so: uploads per application in 10 minutes.
UPLOADS = Limit("upload-draft", hits=20, window=timedelta(minutes=10))


def large_body(view):
    """Mark a view that accepts a body up to UPLOAD_MAX_BYTES (app.py: allow_large_body)."""
    view.large_body = True
    return view


def _checked(form_class, name: str) -> forms.Checked:
    """A field's check with its messages, as the form declares it."""
    return next(rule for rule in getattr(form_class, name).kwargs["validators"] if isinstance(rule, forms.Checked))


# The inline form's own rules and messages (person_forms.ContactForm): a row of the file meets
# the same ones, never a second set. The code column is checked as step 2 checks a code.
CHECKS = {name: _checked(person_forms.ContactForm, name) for name in spreadsheet.FIELDS}
CODE_CHECK = _checked(forms.CompanyForm, "agb_code")
RULES = {name: checked.check for name, checked in CHECKS.items()}

ROW_MESSAGES = {
    "formula": _l("Deze cel bevat een formule. Zet er de waarde zelf in: kopieer de cel en plak alleen de "
                  "waarde"),
    "date": _l("Deze cel is als datum opgemaakt. Maak de kolom op als tekst en vul de waarde opnieuw in"),
    "unknown": _l("Deze AGB-code hoort niet bij uw aanmelding"),
    "twice": _l("Deze AGB-code staat meer dan eens in het bestand: ook in rij %(lines)s"),
}

FILE_MESSAGES = {
    "empty": _l("Het bestand is leeg. Kies het ingevulde sjabloon"),
    "not_a_spreadsheet": _l("Dit bestand is geen spreadsheet. Kies een .xlsx- of .csv-bestand, zoals het "
                            "sjabloon"),
    "encrypted": _l("Dit bestand is beveiligd met een wachtwoord, of het is een oud Excel-bestand (.xls). Sla "
                    "het op als .xlsx zonder wachtwoord, of als .csv, en kies het opnieuw"),
    "corrupt": _l("Dit bestand kunnen wij niet lezen: het is beschadigd of onvolledig. Sla het opnieuw op als "
                  ".xlsx of .csv en kies het opnieuw"),
    "too_big_unpacked": _l("Dit bestand is uitgepakt veel groter dan een lijst contactpersonen kan zijn. Kies "
                           "het ingevulde sjabloon"),
    "empty_rows": _l("Het bestand heeft meer dan %(limit)s lege rijen, tussen of onder de gegevens. Verwijder de "
                     "lege rijen en kies het opnieuw"),
    "no_rows": _l("Het bestand heeft alleen een kopregel, zonder rijen met AGB-codes. Vul het sjabloon in en "
                  "kies het opnieuw"),
    "missing_columns": _l("Het bestand mist de kolom(men) %(columns)s. Gebruik de eerste regel van het sjabloon "
                          "als kopregel"),
    "duplicate_column": _l("De kolom \u201c%(column)s\u201d staat er te vaak in. Gebruik de kolommen van het "
                           "sjabloon"),
    "missing": _l("Kies het bestand met de contactpersonen"),
    "too_large": _l("Het bestand is groter dan %(size)s. Kies het ingevulde sjabloon: met alle AGB-codes "
                    "is het veel kleiner"),
}

NOT_STORED = _l("Uw bestand heeft fouten. Er is nog niets opgeslagen.")
REPLACED = _l("Er is intussen in een ander venster een ander bestand geüpload. Hieronder ziet u wat dat "
              "bestand verandert.")


class UploadForm(forms.Form):
    file = FileField(_l("Het ingevulde bestand"))


class ConfirmForm(forms.StepForm):
    # The pending upload this preview shows: a new upload in another window replaces it.
    upload = HiddenField()


def _size(limit: int) -> str:
    return f"{format_decimal(limit / (1024 * 1024), format='#,##0.#')} MB"


def _table_url() -> str:
    """Step 6's table, where the upload's pages lead back to."""
    return within_step("wizard.step_get", number=6)


def _gated():
    draft = current_draft()
    return draft, gate(draft, 6)


@upload.get("/6/sjabloon.<any(xlsx, csv):kind>")
def template(kind: str):
    """The template: every code of the draft with what it holds now, in the page's language."""
    draft, response = _gated()
    if response:
        return response
    lang = language()
    rows = spreadsheet.template_rows(get_db(), draft, current_app.extensions["aansluiten.zorgsoorten"])
    if kind == "xlsx":
        body, mimetype = spreadsheet.xlsx_template(rows, lang), spreadsheet.XLSX_TYPE
    else:
        body, mimetype = spreadsheet.csv_template(rows, lang), spreadsheet.CSV_TYPE
    response = current_app.response_class(body, content_type=mimetype)
    name = spreadsheet.SHEET_TITLE[lang].lower().replace(" ", "-")
    response.headers.set("Content-Disposition", "attachment", filename=f"{name}-{draft.kvk_number}.{kind}")
    return response


@upload.get("/6/bestand")
def page():
    draft, response = _gated()
    if response:
        return response
    return _show(draft, UploadForm(None), spreadsheet.pending(get_db(), draft))


@upload.post("/6/bestand")
@large_body
def upload_post():
    """Read the file and plan what it would change; the preview shows that plan."""
    draft, response = _gated()
    if response:
        return response
    form = UploadForm()
    if form.validate():
        chosen = form.file.data
        if not chosen or not chosen.filename:
            form.file.errors.append(FILE_MESSAGES["missing"])
        else:
            db = get_db()
            codes = drafts.agb_code_count(db, draft)
            try:
                hit(db, [(UPLOADS, str(draft.id))])
            except RateLimited as limited:
                return _show(draft, form, None, status=429, notice=rate_limited(limited))
            except store.Unavailable as error:
                return _show(draft, form, None, status=503, notice=save_unavailable(error))
            try:
                sheet = spreadsheet.read(chosen.read(), _file_name(chosen.filename), spreadsheet.row_limit(codes))
            except spreadsheet.FileRefused as refused:
                form.file.errors.append(_refusal(refused, codes))
            else:
                try:
                    spreadsheet.keep(db, draft, sheet, spreadsheet.plan(db, draft, sheet, RULES))
                except store.Unavailable as error:
                    return _show(draft, form, None, status=503, notice=save_unavailable(error))
                return advance(within_step("wizard.upload.page"))
    return _show(draft, form, None, status=422)


@upload.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """A body over UPLOAD_MAX_BYTES: the upload page with the message at the file field (422 for
    htmx, which swaps that; a plain 413 otherwise)."""
    draft, response = _gated()
    if response:
        return response
    form = UploadForm(None)  # the body is not read: the form stays as it was
    form.file.errors = [FILE_MESSAGES["too_large"] % {"size": _size(current_app.config["UPLOAD_MAX_BYTES"])}]
    return _show(draft, form, None, status=422 if current_app.htmx else 413)


@upload.post("/6/bestand/opslaan")
def confirm():
    """Store the preview's plan: every row ("store"), or, when the file has errors, the valid
    rows only ("store=valid"), after which the rows left out are shown."""
    draft, response = _gated()
    if response:
        return response
    db = get_db()
    form = ConfirmForm(request.form)
    pending = spreadsheet.pending(db, draft)
    if pending is None or pending.token is None:
        return advance(_table_url())  # stored already (a second click), or nothing to store
    if pending.token != form.upload.data:
        return _show(draft, UploadForm(None), pending, status=409, notice=REPLACED)
    valid_only = request.form.get("store") == "valid"
    plan = pending.plan
    if not plan.changes:
        if plan.errors:
            return _show(draft, UploadForm(None), pending, status=422)
        spreadsheet.discard(db, draft)
        return advance(_table_url(), announce=_("Uw bestand verandert niets aan de contactpersonen."))
    if plan.errors and not valid_only:
        return _show(draft, UploadForm(None), pending, status=422)
    try:
        spreadsheet.apply(db, draft, form.based_on(), pending, valid_only)
    except spreadsheet.UploadGone:
        return advance(_table_url())
    except store.Unavailable as error:  # the preview again, to confirm once the store takes writes
        return _show(draft, UploadForm(None), pending, status=503, notice=save_unavailable(error))
    except drafts.StaleDraft:
        draft = current_draft()
        if response := gate(draft, 6):
            return response  # submitted in another window meanwhile
        # What the file says, planned again on what is stored now: confirming again is a choice.
        spreadsheet.keep(db, draft, pending.sheet, spreadsheet.plan(db, draft, pending.sheet, RULES))
        return _show(draft, UploadForm(None), spreadsheet.pending(db, draft), status=409, notice=STALE)
    announce = _("Opgeslagen uit uw bestand. Ingevuld: %(filled)s, gewijzigd: %(changed)s.",
                 filled=plan.filled, changed=plan.changed)
    return advance(within_step("wizard.upload.page") if plan.errors else _table_url(), announce=announce)


def _file_name(name: str) -> str:
    """The file's own name, as the preview mentions it (no path, no control characters)."""
    base = os.path.basename(name.replace("\\", "/"))
    return "".join(char for char in base if char.isprintable())[:120] or "?"


def _refusal(refused: spreadsheet.FileRefused, codes: int) -> str:
    details = dict(refused.details)
    if refused.reason == "missing_columns":
        headers = spreadsheet.HEADERS[language()]
        details["columns"] = ", ".join(headers[key] for key in details["columns"])
    if refused.reason == "empty_rows":
        details["limit"] = format_decimal(details["limit"])
    if refused.reason == "too_many_rows":
        return ngettext("Het bestand heeft meer dan %(limit)s rijen. Uw aanmelding heeft %(num)s AGB-code: zet in "
                        "het bestand hoogstens een rij per code",
                        "Het bestand heeft meer dan %(limit)s rijen. Uw aanmelding heeft %(num)s AGB-codes: zet in "
                        "het bestand hoogstens een rij per code", codes, **details)
    return FILE_MESSAGES[refused.reason] % details


def _message(error: spreadsheet.RowError) -> str:
    if error.reason == "twice":
        return ROW_MESSAGES["twice"] % {"lines": ", ".join(map(str, error.lines))}
    if error.reason in ROW_MESSAGES:
        return str(ROW_MESSAGES[error.reason])
    if error.column == spreadsheet.CODE:
        return str(CODE_CHECK.messages[error.reason])
    return str(CHECKS[error.column.partition("_")[0]].messages[error.reason])


def _preview(pending: spreadsheet.Pending | None) -> dict:
    """What the page shows of the pending upload: its counts, its errors with their messages
    and the columns as the file names them, the changed rows."""
    if pending is None:
        return {}
    headers = {**spreadsheet.HEADERS[language()], **pending.sheet.headers}
    errors = [{"id": f"upload-error-{index}", "line": error.line, "agb_code": spreadsheet.shown(error.agb_code),
               "column": headers.get(error.column, error.column), "message": _message(error),
               "value": spreadsheet.shown(error.value)}
              for index, error in enumerate(pending.plan.errors[:SHOWN_ERRORS], start=1)]
    links = [(f"#{error['id']}", _("Rij %(line)s, %(column)s: %(message)s", line=error["line"],
                                   column=error["column"], message=error["message"]))
             for error in errors[:SUMMARY_ERRORS]]
    total = len(pending.plan.errors)
    if total > SUMMARY_ERRORS:
        links.append((None, _("en nog %(count)s fouten: die staan in de tabel hieronder", count=total - SUMMARY_ERRORS)
                      if total <= SHOWN_ERRORS else
                      _("en nog %(count)s fouten: de eerste %(shown)s staan in de tabel hieronder",
                        count=total - SUMMARY_ERRORS, shown=SHOWN_ERRORS)))
    changed = [change for change in pending.plan.changes if not change.filled]
    return {"errors": errors, "more_errors": total - len(errors), "summary_links": links,
            "changed": changed[:SHOWN_CHANGES], "more_changed": max(0, len(changed) - SHOWN_CHANGES)}


def _show(draft, upload_form: UploadForm, pending, status: int = 200, notice=None):
    confirm_form = None
    preview = _preview(pending)
    if pending is not None and pending.token is not None:
        confirm_form = ConfirmForm(None, data={"version": pending.plan.draft_version, "upload": pending.token})
        if pending.plan.errors and not upload_form.errors:
            confirm_form.form_errors.append(NOT_STORED)
    summary_form = upload_form if upload_form.errors or confirm_form is None else confirm_form
    if upload_form.errors:
        preview = {}  # a file refused now: the page is about that file
        pending = None
    return show(
        6, draft, summary_form, status,
        template="steps/contacts_upload.html",
        title=TITLE,
        back_url=_table_url(),
        summary_links=preview.get("summary_links") if summary_form is confirm_form else None,
        notice=notice,
        upload_form=upload_form,
        confirm_form=confirm_form,
        pending=pending,
        preview=preview,
        max_size=_size(current_app.config["UPLOAD_MAX_BYTES"]),
        codes=drafts.agb_code_count(get_db(), draft),
    )


bp.register_blueprint(upload)
