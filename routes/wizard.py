"""The ten steps: one GET and one POST view that every step shares, and per step
a small class that says how to fill its form from the draft and how to save it.

A new step is added by writing its form, its template and its ``Step`` class (with
its columns in a migration and its "done" rule in ``onboarding/steps.py``).
"""

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from onboarding import drafts, steps, tokens
from onboarding.ratelimit import Limit, RateLimited, hit
from onboarding.registry import (
    AgbCodeOfOtherCompany,
    InactiveAgbCode,
    InactiveCompany,
    RegistryUnavailable,
    UnknownAgbCode,
    UnknownCompany,
)

from . import forms
from .mailer import send_mail
from .pages import (
    SESSION_BROWSER,
    Pager,
    advance,
    browser_id,
    client_id,
    current_draft,
    external_url,
    get_db,
    registry_file,
    remembered_email,
    render_page,
)

bp = Blueprint("wizard", __name__, url_prefix="/stap")

TITLES = {
    1: _l("Vul uw e-mailadres in"),
    2: _l("Vul uw KvK-nummer en AGB-code in"),
    3: _l("Controleer de gegevens"),
    4: _l("Selecteer uw tekenbevoegde"),
    5: _l("Geef uw hoofdcontactpersoon op"),
    6: _l("Geef uw contactpersonen op"),
    7: _l("Geef uw ICT-beheerder(s) op (optioneel)"),
    8: _l("Controleer uw diensten"),
    9: _l("Controleer uw aanmelding"),
    10: _l("Identificeren en ondertekenen"),
}

# Links to one address from one client; a higher cap for the address from everywhere, so
# that nobody can use up someone else's quota; and what one client may ask in all.
MAIL_PER_ADDRESS_AND_CLIENT = Limit("mail-address-client", hits=5, window=timedelta(hours=1))
MAIL_PER_ADDRESS = Limit("mail-address", hits=20, window=timedelta(hours=1))
MAIL_PER_CLIENT = Limit("mail-client", hits=30, window=timedelta(hours=1))
LOOKUP_PER_DRAFT = Limit("lookup-draft", hits=20, window=timedelta(minutes=10))
LOOKUP_PER_CLIENT = Limit("lookup-client", hits=100, window=timedelta(minutes=10))


STALE = _l(
    "Deze aanmelding is intussen in een ander venster of tabblad gewijzigd. "
    "Wat u hier invulde, is nog niet opgeslagen: controleer het en verstuur het opnieuw."
)


class FormRejected(Exception):
    """Valid input that the domain refused: a message for ``field`` (or the whole form).

    A ``notice`` is not a fault of what was typed (a registry that is down, too many
    tries): it is shown as a notification above the form, not as a field error.
    """

    def __init__(self, message, field: str | None = None, status: int = 422, notice: bool = False):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status
        self.notice = notice


def rate_limited(error: RateLimited):
    return _("U heeft dit te vaak geprobeerd. Probeer het over %(minutes)s minuten opnieuw.", minutes=error.minutes)


class Step:
    number: int
    template: str
    form_class: type
    announcement = _l("Uw antwoorden zijn opgeslagen.")

    def load(self, draft) -> dict:
        """The form's values as stored in the draft."""
        return {}

    def context(self, draft) -> dict:
        """What the template shows besides the form."""
        return {}

    def save(self, draft, form) -> str:
        """Store the valid form and return the URL to go on to; may raise FormRejected."""
        raise NotImplementedError

    def bind(self, draft, formdata=None):
        data = self.load(draft) if draft else {}
        if draft is not None and issubclass(self.form_class, forms.StepForm):
            data["version"] = draft.version
        return self.form_class(formdata, data=data)


STEPS: dict[int, Step] = {}


def step(cls):
    STEPS[cls.number] = cls()
    return cls


def step_url(number: int) -> str:
    return url_for("wizard.step_get", number=number)


def progress(draft, current: int) -> Markup:
    """The progress list: every step done, current or to do.

    It depends only on which steps are done, the current one and the language,
    so each variant is rendered once per process and then reused.
    """
    states = tuple(
        "current" if number == current else "done" if steps.is_done(draft, number) else "todo"
        for number in TITLES
    )
    key = (states, str(get_locale()))
    cache = current_app.extensions.setdefault("aansluiten.progress", {})
    if key not in cache:
        labels = {"done": _("klaar"), "current": _("huidige stap"), "todo": _("nog te doen")}
        items = [
            {"number": number, "title": title, "state": state, "state_label": labels[state]}
            for (number, title), state in zip(TITLES.items(), states)
        ]
        cache[key] = Markup(render_template("_progress.html", items=items, current=current))
    return cache[key]


def show(number: int, draft, form=None, status: int = 200, **extra):
    """Render a step (or a page belonging to it, given ``template`` and ``title``)."""
    step = STEPS.get(number)
    context = step.context(draft) if step and draft else {}
    context.update(extra)
    context.setdefault("template", step.template if step else "steps/coming.html")
    context.setdefault("title", TITLES[number])
    context.setdefault("back_url", step_url(number - 1) if number > 1 else url_for("start.index"))
    return render_page(
        context.pop("template"),
        status=status,
        number=number,
        error=bool(form and form.errors),
        progress=progress(draft, number),
        draft=draft,
        form=form,
        **context,
    )


def gate(draft, number: int):
    """Send a visit to a step whose earlier steps are unfinished to the first unfinished one."""
    if not 1 <= number <= steps.STEP_COUNT:
        abort(404)
    if not steps.may_visit(draft, number):
        return advance(step_url(steps.first_unfinished(draft)))
    return None


@bp.get("/<int:number>")
def step_get(number: int):
    draft = current_draft()
    if response := gate(draft, number):
        return response
    step = STEPS.get(number)
    return show(number, draft, step.bind(draft) if step else None)


@bp.post("/<int:number>")
def step_post(number: int):
    draft = current_draft()
    if response := gate(draft, number):
        return response
    step = STEPS.get(number) or abort(405, valid_methods=["GET", "HEAD"])
    form = step.bind(draft, request.form)
    status = 422
    if form.validate():
        try:
            return _saved(step, draft, form)
        except FormRejected as rejected:
            if rejected.notice:
                return show(number, draft, form, rejected.status, notice=rejected.message)
            errors = getattr(form, rejected.field).errors if rejected.field else form.form_errors
            errors.append(rejected.message)
            status = rejected.status
        except drafts.StaleDraft:
            draft = current_draft()
            form.version.data = str(draft.version)
            if all(form[name].data == value for name, value in step.load(draft).items()):
                # The same answers are stored already: a second click, not a second tab.
                return _saved(step, draft, form)
            # Keep what this tab typed, now based on the stored version: sending it
            # again is a deliberate choice, never a silent overwrite.
            form.form_errors.append(STALE)
            status = 409
    return show(number, draft, form, status)


def _saved(step: Step, draft, form):
    return advance(step.save(draft, form), announce=step.announcement)


@step
class EmailStep(Step):
    number = 1
    template = "steps/email.html"
    form_class = forms.EmailForm
    # The next page says what happened; a second message in the live region would repeat it.
    announcement = None

    def load(self, draft):
        return {"email": draft.email}

    def bind(self, draft, formdata=None):
        form = super().bind(draft, formdata)
        if formdata is None and draft is None:
            form.email.data = remembered_email()
        return form

    def save(self, draft, form):
        email = form.email.data
        db = get_db()
        requested_by = tokens.browser_hash(browser_id())
        if tokens.recently_issued(db, email, requested_by):
            return url_for("wizard.email_sent")  # a double click: the first link stays valid
        client = client_id()
        try:
            hit(db, [(MAIL_PER_ADDRESS_AND_CLIENT, f"{email} {client}"), (MAIL_PER_ADDRESS, email),
                     (MAIL_PER_CLIENT, client)])
        except RateLimited as error:
            raise FormRejected(rate_limited(error), field="email", status=429) from None
        # From inside a draft, the new link moves that draft to the new address.
        draft_id = draft.id if draft else None
        token = tokens.issue(db, email, draft_id=draft_id, requested_by=requested_by)
        send_mail(
            "verify",
            email,
            subject=_("Bevestig uw e-mailadres voor uw aanmelding bij VECOZO"),
            links={"link": external_url("access.open_link", token=token)},
            hours=int(tokens.TOKEN_LIFETIME.total_seconds() // 3600),
            draft_id=draft_id,
        )
        return url_for("wizard.email_sent")


@bp.get("/1/verstuurd")
def email_sent():
    browser = session.get(SESSION_BROWSER)
    sent_to = tokens.last_requested(get_db(), tokens.browser_hash(browser)) if browser else None
    return show(1, current_draft(), template="steps/email_sent.html", title=_l("Kijk in uw mailbox"),
                sent_to=sent_to)


_REGISTRY_MESSAGES = {
    UnknownCompany: ("kvk_number", _l(
        "Dit KvK-nummer staat niet in het Handelsregister. Controleer het nummer op uw uittreksel van de KvK.")),
    InactiveCompany: ("kvk_number", _l(
        "Deze onderneming is niet meer actief in het Handelsregister. "
        "Alleen een actieve onderneming kan een aansluitovereenkomst afsluiten.")),
    UnknownAgbCode: ("agb_code", _l(
        "Deze AGB-code staat niet in het AGB-register van Vektis. Controleer de code.")),
    InactiveAgbCode: ("agb_code", _l(
        "Deze AGB-code is niet actief in het AGB-register. Vul een actieve AGB-code in.")),
    AgbCodeOfOtherCompany: ("agb_code", _l(
        "Deze AGB-code hoort bij een andere onderneming dan dit KvK-nummer. "
        "Vul een AGB-code in die bij dit KvK-nummer is geregistreerd.")),
}


@step
class CompanyStep(Step):
    number = 2
    template = "steps/company.html"
    form_class = forms.CompanyForm

    def load(self, draft):
        return {"kvk_number": draft.kvk_number, "agb_code": draft.agb_code}

    def save(self, draft, form):
        db = get_db()
        kvk_number, agb_code = form.kvk_number.data, form.agb_code.data
        try:
            hit(db, [(LOOKUP_PER_DRAFT, draft.key), (LOOKUP_PER_CLIENT, client_id())])
            registry = registry_file().get()
            company = registry.company(kvk_number)
            registry.agb_code(agb_code, kvk_number)
            codes = registry.active_agb_codes(kvk_number)
        except RateLimited as error:
            raise FormRejected(rate_limited(error), status=429, notice=True) from None
        except RegistryUnavailable:
            current_app.logger.warning("registry unavailable for a look-up of KvK %s", kvk_number)
            raise FormRejected(_l(
                "Het Handelsregister of het AGB-register is op dit moment niet bereikbaar. "
                "Wat u heeft ingevuld is niet verloren: probeer het over een paar minuten opnieuw."
            ), status=503, notice=True) from None
        except UnknownAgbCode:
            zorgsoorten = current_app.extensions["aansluiten.zorgsoorten"]
            if agb_code[:2] not in zorgsoorten:
                raise FormRejected(_(
                    "Deze AGB-code staat niet in het AGB-register van Vektis. De eerste twee cijfers zijn de "
                    "zorgsoort, en %(code)s is geen zorgsoort: controleer de code.", code=agb_code[:2]
                ), field="agb_code") from None
            raise FormRejected(_REGISTRY_MESSAGES[UnknownAgbCode][1], field="agb_code") from None
        except tuple(_REGISTRY_MESSAGES) as error:
            field, message = _REGISTRY_MESSAGES[type(error)]
            raise FormRejected(message, field=field) from None
        drafts.save_company(db, draft, form.based_on(), kvk_number, agb_code, company.raw, codes)
        return step_url(3)


PARTY_TYPES = {
    "onderneming": _l("Onderneming"),
    "vestiging": _l("Vestiging"),
    "zorgverlener": _l("Zorgverlener"),
}
AUTHORITIES = {
    "azb": _l("Alleen/zelfstandig bevoegd"),
    "gb": _l("Gezamenlijk bevoegd"),
    "nb": _l("Niet bevoegd"),
}


@step
class CheckStep(Step):
    number = 3
    template = "steps/check.html"
    form_class = forms.CheckForm

    def load(self, draft):
        return {"data_correct": draft.data_correct}

    def context(self, draft):
        db = get_db()
        pager = Pager.from_request(drafts.agb_code_count(db, draft))
        return {
            "company": draft.company,
            "agb_codes": drafts.agb_code_page(db, draft, pager.offset, pager.size),
            "pager": pager,
            "zorgsoorten": current_app.extensions["aansluiten.zorgsoorten"],
            # Translated once per page, not once per row.
            "party_types": {key: str(label) for key, label in PARTY_TYPES.items()},
            "authorities": {key: str(label) for key, label in AUTHORITIES.items()},
        }

    def save(self, draft, form):
        if form.data_correct.data == "yes":
            drafts.confirm_company(get_db(), draft, form.based_on())
            return step_url(4)
        drafts.mark_incorrect(get_db(), draft, form.based_on())
        return url_for("wizard.incorrect")


@bp.get("/3/onjuist")
def incorrect():
    draft = current_draft()
    if response := gate(draft, 3):
        return response
    return _incorrect_page(draft)


def _incorrect_page(draft, error=None, status: int = 200):
    """Where to correct the registry data, with the button to start again."""
    form = forms.StepForm(None, data={"version": draft.version})
    if error:
        form.form_errors.append(error)
    return show(3, draft, form, status, template="steps/incorrect.html", title=_l("Gegevens laten aanpassen"),
                back_url=step_url(3))


@bp.post("/3/opnieuw")
def start_again():
    draft = current_draft()
    if response := gate(draft, 3):
        return response
    try:
        drafts.start_again(get_db(), draft, forms.StepForm(request.form).based_on())
    except drafts.StaleDraft:
        return _incorrect_page(current_draft(), STALE, 409)
    return advance(step_url(2))
