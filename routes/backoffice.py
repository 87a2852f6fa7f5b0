"""The back office (``/beheer``): staff log in with a password and a second factor, find
applications, settle manual identity checks, record visits, reopen or delete, see the
funnel and export the completed applications.

Every page works without JavaScript; htmx only enhances. A stranger (and any applicant's
session) is sent to the login; the staff session is a cookie of its own (``staff_session``).
"""

from datetime import date

from flask import Blueprint, abort, current_app, g, make_response, redirect, request, url_for
from markupsafe import Markup
from wtforms import PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length

from onboarding import appointments, backoffice, drafts, people, services, staff, submission

from . import notify, staff_session
from .forms import Form, StepForm, forget
from .i18n import gettext as _
from .i18n import in_language, ngettext
from .i18n import lazy_gettext as _l
from .mailer import send_mail, seal
from .pages import Pager, advance, client_id, get_db, idle_warning, navigate, render_page, too_many_tries
from .notify import after_change

bp = Blueprint("backoffice", __name__, url_prefix="/beheer")
bp.after_request(staff_session.save)

LOGIN = {"backoffice.login_get", "backoffice.login_post"}
SECOND_FACTOR = {"backoffice.code_get", "backoffice.code_post", "backoffice.enrol_get", "backoffice.enrol_post",
                 "backoffice.logout"}
STATUS_NAMES = {
    "manual_check": _l("Handmatige controle"),
    "draft": _l("Wordt ingevuld"),
    "submitted": _l("Verstuurd"),
    "completed": _l("Afgerond"),
}
ROLE_NAMES = {"signatory": _l("tekenbevoegde"), "main_contact": _l("hoofdcontactpersoon")}


# -- forms -----------------------------------------------------------------------------------------


class LoginForm(Form):
    username = StringField(_l("Gebruikersnaam"), validators=[InputRequired(_l("Vul uw gebruikersnaam in"))],
                           render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(_l("Wachtwoord"), validators=[InputRequired(_l("Vul uw wachtwoord in"))],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(Form):
    code = StringField(_l("Code"), description=_l("De 6 cijfers uit uw authenticator-app, of een herstelcode."),
                       validators=[InputRequired(_l("Vul de code in")),
                                   Length(max=40, message=_l("Gebruik hoogstens 40 tekens"))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})


class SettleForm(StepForm):
    decision = RadioField(_l("Besluit"), choices=[
        SelectChoice("approve", _l("Goedkeuren: de persoon is geïdentificeerd")),
        SelectChoice("reject", _l("Afwijzen")),
    ], validate_choice=False, validators=[InputRequired(_l("Kies goedkeuren of afwijzen")),
                                          AnyOf(["approve", "reject"], message=_l("Kies goedkeuren of afwijzen"))])
    reason = TextAreaField(_l("Reden van afwijzen"), description=_l("Deze reden mailen wij naar de persoon."),
                           validators=[Length(max=500, message=_l("Gebruik hoogstens 500 tekens"))])


def settle_form(role: str, *args, **kwargs) -> SettleForm:
    """The decision on one person's check. Both persons may wait on one page: ids carry the role, so
    that no label, hint or error link points into the other's form; names stay the same."""
    form = SettleForm(*args, **kwargs)
    for field in form:
        field.id = f"{role}-{field.name}"
    return form


class VisitOutcomeForm(StepForm):
    outcome = RadioField(_l("Wat is er bij het bezoek gebeurd?"), choices=[
        SelectChoice("identified", _l("Beide personen zijn geïdentificeerd")),
        SelectChoice("signed", _l("Beide personen zijn geïdentificeerd en de overeenkomst is op papier ondertekend")),
        SelectChoice("no_show", _l("Niemand aanwezig")),
    ], validate_choice=False, validators=[
        InputRequired(_l("Kies wat er bij het bezoek is gebeurd")),
        AnyOf(submission.VISIT_OUTCOMES, message=_l("Kies wat er bij het bezoek is gebeurd"))])


# Of one person who is both signatory and main contact, not "both persons".
ONE_PERSON_OUTCOMES = {
    "identified": _l("De tekenbevoegde, ook hoofdcontactpersoon, is geïdentificeerd"),
    "signed": _l("De tekenbevoegde, ook hoofdcontactpersoon, is geïdentificeerd en heeft de overeenkomst op papier "
                 "ondertekend"),
}


def visit_outcome_form(one_person: bool, *args, **kwargs) -> VisitOutcomeForm:
    form = VisitOutcomeForm(*args, **kwargs)
    if one_person:
        form.outcome.choices = [SelectChoice(choice.value, ONE_PERSON_OUTCOMES.get(choice.value, choice.label))
                                for choice in form.outcome.choices]
    return form


def mail_language():
    """The mails a staff action sends (a rejection, a visit's outcome, a reopen) are in the service's
    language: the back office's own language is the staff member's, not the applicant's."""
    return in_language(current_app.config["BABEL_DEFAULT_LOCALE"])


# -- who may come in ------------------------------------------------------------------------------


@bp.before_request
def require_staff():
    data = staff_session.load()
    user = staff.by_id(get_db(), data["uid"]) if data.get("uid") else None
    if user is not None and (user.disabled or user.session_epoch != data.get("epoch")):
        staff_session.end()
        user = None
    g.staff = user if user and data.get("stage") == "ok" else None
    g.staff_pending = user if user and data.get("stage") == "password" else None
    if request.endpoint in LOGIN:
        return None
    if request.endpoint in SECOND_FACTOR and (g.staff_pending or g.staff):
        return None
    if g.staff is None:
        if request.endpoint != "backoffice.keep_alive":  # the idle warning asks; nobody goes on there
            staff_session.remember_asked(request.full_path.rstrip("?") if request.method == "GET" else None)
        return navigate(url_for("backoffice.login_get"))
    staff_session.touch()
    return None


def page(template: str, title, status: int = 200, **context):
    """A back-office page: the staff user in the header, no applicant's account, the staff
    session's idle warning, and "Fout: " in the title when a form on it has errors."""
    error = any(isinstance(value, Form) and value.errors for value in context.values())
    idle = idle_warning(staff_session.idle_timeout(), staff=True) if g.get("staff") else None
    return render_page(f"backoffice/{template}", title=title, status=status, error=error, account=None, idle=idle,
                       staff_user=g.get("staff"), **context)


@bp.get("/sessie/verlengen")
def keep_alive():
    """The idle warning's "I am still here" (``require_staff`` touched the session) and its
    question at the end of the countdown (which does not touch it): how long it lasts now."""
    return "", 204, {"X-Session-Remaining": str(staff_session.seconds_left())}


# -- login ---------------------------------------------------------------------------------------------


@bp.get("/login")
def login_get():
    expired = g.get("staff_session_expired")
    if request.args.get("uitgelogd") == "1":
        return page("login.html", _("U bent uitgelogd"), form=LoginForm(None), logged_out=True)
    return page("login.html", _("Inloggen beheer"), form=LoginForm(None), expired=expired)


@bp.post("/login")
def login_post():
    form = LoginForm()
    if form.validate():
        try:
            user = staff.check_password(get_db(), form.username.data, form.password.data, client_id())
        except staff.LoginRefused as refused:
            message = (too_many_tries(refused.minutes) if refused.reason == "rate_limited"
                       else _("De gebruikersnaam of het wachtwoord klopt niet."))
            form.form_errors.append(message)
            forget(form.password)
            return page("login.html", _("Inloggen beheer"), 422, form=form)
        staff_session.start(user.id, user.session_epoch, "password")
        return redirect(url_for("backoffice.code_get" if user.totp_enrolled else "backoffice.enrol_get"), 303)
    return page("login.html", _("Inloggen beheer"), 422, form=form)


@bp.get("/code")
def code_get():
    if g.staff_pending is None or not g.staff_pending.totp_enrolled:
        return redirect(url_for("backoffice.index"), 303)
    return page("code.html", _("Tweede stap: uw code"), form=CodeForm(None))


def refuse_code(form, refused: staff.CodeRefused, wrong: str) -> None:
    """A refused second-factor code: why, next to the field, and the field empty again."""
    form.code.errors.append(
        too_many_tries(refused.minutes)
        if refused.reason == "rate_limited" else wrong)
    forget(form.code)


@bp.post("/code")
def code_post():
    user = g.staff_pending
    if user is None or not user.totp_enrolled:
        return redirect(url_for("backoffice.index"), 303)
    form = CodeForm()
    if form.validate():
        try:
            used = staff.check_code(get_db(), user.id, form.code.data, seal())
        except staff.CodeRefused as refused:
            refuse_code(form, refused, _("Deze code klopt niet. Vul de code in die uw app nu toont, of een herstelcode."))
            return page("code.html", _("Tweede stap: uw code"), 422, form=form)
        asked = staff_session.asked()
        staff_session.start(user.id, user.session_epoch, "ok")
        # Logged in with a recovery code: the list says how many are left.
        if used == "recovery":
            return redirect(url_for("backoffice.index", melding="herstelcode"), 303)
        return redirect(asked, 303)
    return page("code.html", _("Tweede stap: uw code"), 422, form=form)


@bp.get("/koppelen")
def enrol_get():
    user = g.staff_pending
    if user is None or user.totp_enrolled:
        return redirect(url_for("backoffice.index"), 303)
    return _enrol_page(user, staff.enrolment_secret(get_db(), user.id, seal()), CodeForm(None))


def _enrol_page(user, secret: str, form, status: int = 200):
    uri = staff.provisioning_uri(secret, user.username)
    return page("enrol.html", _("Tweede stap instellen"), status, form=form, secret=secret,
                # Made here from a URI of our own (the username allows [A-Za-z0-9._-] only).
                qr=Markup(staff.qr_svg(uri, _("QR-code om uw authenticator-app te koppelen"))))


@bp.post("/koppelen")
def enrol_post():
    user = g.staff_pending
    if user is None or user.totp_enrolled:
        return redirect(url_for("backoffice.index"), 303)
    form = CodeForm()
    if form.validate():
        try:
            codes = staff.confirm_enrolment(get_db(), user.id, form.code.data, seal())
        except staff.CodeRefused as refused:
            refuse_code(form, refused, _("Deze code klopt niet. Vul de code in die uw app nu toont."))
            return _enrol_page(user, staff.enrolment_secret(get_db(), user.id, seal()), form, 422)
        staff_session.start(user.id, user.session_epoch, "ok")
        g.staff = staff.by_id(get_db(), user.id)
        # Shown once, on the answer to this POST; a reload does not show them again.
        return page("recovery.html", _("Uw herstelcodes"), codes=codes)
    return _enrol_page(user, staff.enrolment_secret(get_db(), user.id, seal()), form, 422)


@bp.post("/uitloggen")
def logout():
    if g.staff is not None:
        staff.end_sessions(get_db(), g.staff.id)
    staff_session.end()
    g.staff = None
    return redirect(url_for("backoffice.login_get", uitgelogd=1), 303)


# -- the applications --------------------------------------------------------------------------------


@bp.get("")
def index():
    chosen = request.args.get("status") or None
    if chosen not in (None, backoffice.MANUAL_CHECK, *backoffice.STATUSES):
        chosen = None
    query = (request.args.get("q") or "")[:100]
    db = get_db()
    pager = Pager.from_request(backoffice.count_applications(db, chosen, query), backoffice.PAGE_SIZE)
    if query or chosen:  # with htmx, screen readers hear what the search found (WCAG 4.1.3)
        g.announce = ngettext("%(num)s aanmelding", "%(num)s aanmeldingen", pager.total)
    rows = backoffice.list_applications(db, chosen, query, pager.offset, backoffice.PAGE_SIZE)
    checks = backoffice.manual_checks(db, submission.today()) if not query and chosen is None else []
    return page("list.html", _("Aanmeldingen"), rows=rows, pager=pager, chosen=chosen, query=query, checks=checks,
                status_names=STATUS_NAMES, role_names=ROLE_NAMES,
                notice=_("U bent ingelogd met een herstelcode. U heeft er nog %(left)s.",
                         left=staff.recovery_codes_left(db, g.staff.id))
                if request.args.get("melding") == "herstelcode" else None)


def _application(draft_id: int):
    draft = drafts.by_id(get_db(), draft_id)
    if draft is None:
        abort(404)
    return draft


def _name(draft) -> str:
    """What a heading calls an application: its reference, else what is known of it so far."""
    return draft.reference or draft.company_name or draft.email


@bp.get("/aanvraag/<id:draft_id>")
def detail(draft_id: int, status: int = 200, notice=None, posted_settle_form=None, visit_form=None, settle_role=None):
    draft = _application(draft_id)
    db = get_db()
    pager = Pager.from_request(drafts.agb_code_count(db, draft))
    version = {"version": draft.version}
    tasks = submission.progress(db, draft) if draft.status != "draft" else None
    return page(
        "detail.html", _("Aanmelding %(name)s", name=_name(draft)), status,
        draft=draft, notice=notice, pager=pager,
        signatory=people.person(db, draft, people.SIGNATORY),
        main_contact=people.person(db, draft, people.MAIN_CONTACT),
        code_rows=people.code_rows(db, draft, offset=pager.offset, limit=pager.size),
        ict_admins=people.ict_admins(db, draft),
        tasks=tasks,
        claims=backoffice.claims(db, draft.id),
        audit_log=drafts.audit_log(db, draft), mails=backoffice.mails(db, draft.id),
        open_services=services.open_services(current_app.extensions["aansluiten.services"],
                                             services.code_groups(db, draft.id)),
        # One form per person waiting for a manual check; the one just posted keeps its errors.
        settle_forms={role: posted_settle_form if role == settle_role and posted_settle_form
                      else settle_form(role, None, data=version) for role in ROLE_NAMES},
        settle_form=posted_settle_form,
        visit_form=visit_form or visit_outcome_form(bool(tasks and tasks.one_person), None, data=version),
        form=Form(None),
        version_form=StepForm(None, data=version), status_names=STATUS_NAMES, role_names=ROLE_NAMES,
        current_step=backoffice.current_step(draft),
    )


# A colleague, or the applicant (a reopen, an appointment, a signature): the version says only that it changed.
STALE = _l("Deze aanmelding is intussen gewijzigd, door een collega of door de aanvrager. Er is niets opgeslagen: "
           "bekijk hieronder hoe het nu staat en probeer het zo nodig opnieuw.")


def _stale(draft_id: int):
    return detail(draft_id, status=409, notice=STALE)


@bp.post("/aanvraag/<id:draft_id>/identificatie/<role>")
def settle(draft_id: int, role: str):
    if role not in ROLE_NAMES:
        abort(404)
    draft = _application(draft_id)
    form = settle_form(role)
    if form.validate() and form.decision.data == "reject" and not (form.reason.data or "").strip():
        form.reason.errors.append(_("Vul de reden van afwijzen in"))
    if form.errors:
        return detail(draft_id, status=422, posted_settle_form=form, settle_role=role)
    approve = form.decision.data == "approve"
    try:
        backoffice.settle(get_db(), draft, form.based_on(), role, approve, (form.reason.data or "").strip(),
                          g.staff.username)
    except drafts.StaleDraft:
        return _stale(draft_id)
    except backoffice.NoManualCheck:
        return detail(draft_id, status=409, notice=_("Voor de %(role)s is geen handmatige controle (meer) nodig.",
                                                      role=ROLE_NAMES[role]))
    if approve:
        submission.share_identification(get_db(), drafts.by_id(get_db(), draft_id))
        with mail_language():
            after_change(draft_id)
    else:
        person = people.person(get_db(), draft, role)
        with mail_language():
            send_mail("rejected", person.email, subject=_("Uw identificatie voor de VECOZO-aansluiting van %(company)s",
                                                           company=draft.company_name),
                      draft_id=draft.id, name=person.full_name, company=draft.company_name,
                      reference=draft.reference, reason=form.reason.data.strip())
    return advance(url_for("backoffice.detail", draft_id=draft_id),
                   announce=_("Het besluit is opgeslagen."))


@bp.post("/aanvraag/<id:draft_id>/bezoek")
def visit(draft_id: int):
    draft = _application(draft_id)
    form = visit_outcome_form(submission.same_person(get_db(), draft))
    if not form.validate():
        return detail(draft_id, status=422, visit_form=form)
    visit = appointments.current(get_db(), draft.id)
    try:
        submission.record_visit(get_db(), draft, form.based_on(), form.outcome.data, g.staff.username)
    except drafts.StaleDraft:
        return _stale(draft_id)
    except LookupError:
        return detail(draft_id, status=409, notice=_("Er is geen afspraak (meer) voor deze aanmelding."))
    except submission.AlreadyCompleted:
        return detail(draft_id, status=409,
                      notice=_("Deze aanmelding is al afgerond: er valt geen bezoek meer vast te leggen."))
    except submission.VisitRecorded:
        return detail(draft_id, status=409,
                      notice=_("Het bezoek is al vastgelegd: er valt geen tweede uitkomst vast te leggen."))
    with mail_language():
        if form.outcome.data == "no_show":
            notify.mail_visit(draft, visit, missed=True)
        after_change(draft_id)
    return advance(url_for("backoffice.detail", draft_id=draft_id), announce=_("Het bezoek is vastgelegd."))


@bp.post("/aanvraag/<id:draft_id>/heropenen")
def reopen(draft_id: int):
    draft = _application(draft_id)
    form = StepForm()
    try:
        with mail_language():
            notify.reopen(draft, form.based_on(), actor=g.staff.username)
    except drafts.StaleDraft:
        return _stale(draft_id)
    except submission.NotSubmitted:
        return detail(draft_id, status=409, notice=_("Deze aanmelding hoeft niet te worden heropend: de aanvrager "
                                                      "kan haar al wijzigen."))
    except submission.NotReopenable:
        return detail(draft_id, status=409, notice=_("Deze aanmelding kan niet meer worden heropend: het "
                                                      "ondertekenen is begonnen of de aanmelding is afgerond."))
    return advance(url_for("backoffice.detail", draft_id=draft_id), announce=_("De aanmelding is heropend."))


@bp.get("/aanvraag/<id:draft_id>/verwijderen")
def delete_get(draft_id: int):
    """Deleting cannot be undone: this page names the application and asks first. Its form
    carries the version shown, so that what a colleague changed meanwhile is not deleted unseen."""
    draft = _application(draft_id)
    return page("delete.html", _("Weet u zeker dat u aanmelding %(name)s wilt verwijderen?", name=_name(draft)),
                draft=draft, version_form=StepForm(None, data={"version": draft.version}),
                status_names=STATUS_NAMES, current_step=backoffice.current_step(draft))


@bp.post("/aanvraag/<id:draft_id>/verwijderen")
def delete_post(draft_id: int):
    draft = _application(draft_id)
    form = StepForm()
    try:
        backoffice.delete(get_db(), draft, form.based_on(), g.staff.username)
    except drafts.StaleDraft:
        return _stale(draft_id)
    return advance(url_for("backoffice.index"), announce=_("De aanmelding is verwijderd."))


# -- the funnel and the export -----------------------------------------------------------------------


@bp.get("/trechter")
def funnel():
    started, completed, rows = backoffice.funnel(get_db())
    return page("funnel.html", _("Trechter van de afgelopen 30 dagen"), started=started, completed=completed,
                rows=rows, top=max([row.reached for row in rows] + [1]))


@bp.get("/export.csv")
def export():
    response = make_response(backoffice.export_csv(get_db()))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="aansluitingen-{date.today().isoformat()}.csv"')
    return response

