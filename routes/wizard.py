"""The step mechanism: one GET and one POST view that every step shares, the gate,
the progress list, and the ``Step`` class each step subclasses.

The steps themselves live in ``routes/steps/``, one module each: its ``Step``
subclass (how to fill its form from the draft, what it shows, how to save it) and
the extra pages that belong to it. A step's rule lives in ``onboarding/``.
"""

from flask import Blueprint, abort, current_app, flash, g, render_template, request, url_for
from markupsafe import Markup

from onboarding import drafts, steps, store, validators
from onboarding.ratelimit import RateLimited

from . import forms
from .i18n import language
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .pages import NOTICE, advance, current_draft, fixed_url, render_page, too_many_tries

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


SAVE_UNAVAILABLE = _l(
    "Uw gegevens kunnen op dit moment niet worden opgeslagen. "
    "Wat u heeft ingevuld is niet verloren: probeer het over een paar minuten opnieuw."
)

LEFT_BEHIND = _l(
    "Wat u net verstuurde, is niet opgeslagen: de aanmelding is intussen in een ander venster of tabblad "
    "veranderd. U gaat hier verder."
)

STALE = _l(
    "Deze aanmelding is intussen in een ander venster of tabblad gewijzigd. "
    "Wat u hier invulde, is nog niet opgeslagen: controleer het en verstuur het opnieuw."
)


class FormRejected(Exception):
    """Valid input that the domain refused: a message for ``field`` (or the whole form).

    A ``notice`` is not a fault of what was typed (a registry that is down, too many
    tries): it is shown as a notification above the form, not as a field error.
    """

    def __init__(self, message, field: str | None = None, status: int = 422, notice: bool = False,
                 context: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status
        self.notice = notice
        self.context = context or {}

    def shown_in(self, form) -> None:
        """The message as an error of its field, or of the whole form."""
        if self.field:
            field = getattr(form, self.field)
            field.errors = [*field.errors, self.message]  # a tuple until the form is validated
        else:
            form.form_errors.append(self.message)


def save_unavailable(error: store.Unavailable) -> str:
    """What a save the store could not take says (logged for the operator): nothing was lost."""
    current_app.logger.warning("store unavailable for a save (%s): %s", request.path, error)
    return str(SAVE_UNAVAILABLE)


def rate_limited(error: RateLimited):
    return too_many_tries(error.minutes)


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

    def asked(self, draft, form) -> None:
        """Check what a GET form of the page asked (step 4's choice of officer); may raise
        FormRejected, which the page shows as a whole."""

    def redirect(self, draft) -> str | None:
        """Where a GET that is an action on the page leads instead of a page of its own (step 5's
        copy of the signatory): the browser's history keeps that page, not the action, which Back
        would otherwise do again over what was saved since."""
        return None

    def unchanged(self, draft, form) -> bool:
        """Whether the draft holds what the form says already (a second click)."""
        return all(form[name].data == value for name, value in self.load(draft).items())

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
    return fixed_url("wizard.step_get", number=int(number))


# A step opened from the summary's change link (``?terug=overzicht``) goes back to the
# summary once saved; its form's action and its back link keep the way back.
RETURN_ARG, SUMMARY = "terug", "overzicht"
WAY_BACK = f"{RETURN_ARG}={SUMMARY}"
SUMMARY_STEP = 9


def returning() -> bool:
    """Opened from the summary, and not back there yet (``advance()`` renders the summary
    inside the POST that saved the changed step: its own form must not carry the way back)."""
    return request.args.get(RETURN_ARG) == SUMMARY and not g.get("back_at_summary")


@bp.app_template_global()
def keep_return(url: str) -> str:
    """``url`` with the way back to the summary, when this page was opened from it (in its query,
    before a ``#row-...``; once, however often it is asked)."""
    if not returning():
        return url
    url, hash_mark, fragment = url.partition("#")
    path, _mark, query = url.partition("?")
    if WAY_BACK not in query.split("&"):
        query = f"{query}&{WAY_BACK}" if query else WAY_BACK
    return f"{path}?{query}{hash_mark}{fragment}"


@bp.app_template_global()
def within_step(endpoint: str, **values) -> str:
    """A URL within the step on screen: the step itself, its rows and further pages, and where their
    links, forms and redirects lead. Opened from the summary, each keeps the way back there until
    the step is saved: one way to make them, so that none of them drops it."""
    return keep_return(url_for(endpoint, **values))


@bp.app_template_global()
def way_back_fields() -> dict:
    """The way back as the fields of a GET form (step 4's choice of officer, step 6's filter), whose
    action loses its query when it is sent."""
    return {RETURN_ARG: SUMMARY} if returning() else {}


def resume_url(draft) -> str:
    """Where a returning applicant goes on: the first unfinished step, or once submitted
    the status page."""
    if steps.is_frozen(draft):
        return url_for("status.index")
    return step_url(steps.first_unfinished(draft))


def change_url(number: int) -> str:
    return fixed_url("wizard.step_get", number=int(number), **{RETURN_ARG: SUMMARY})


def progress(draft, current: int) -> Markup:
    """The progress list: every step done, current or to do.

    It depends only on which steps are done, the current one and the language,
    so each variant is rendered once per process and then reused.
    """
    states = tuple(
        "current" if number == current else "done" if steps.is_done(draft, number) else "todo"
        for number in TITLES
    )
    key = (states, language())
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
    """Render a step (or a page belonging to it, given ``template`` and ``title``: that page
    gets what it shows in ``extra``, not the step's own context)."""
    step = STEPS[number]
    context = step.context(draft) if draft and "template" not in extra else {}
    context.update(extra)
    context.setdefault("template", step.template)
    context.setdefault("title", TITLES[number])
    if returning() and draft is not None and steps.may_visit(draft, SUMMARY_STEP):
        context.setdefault("back_url", step_url(SUMMARY_STEP))
    context.setdefault("back_url", keep_return(step_url(number - 1)) if number > 1 else url_for("start.index"))
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
    if steps.is_frozen(draft) and (number < steps.STEP_COUNT or (steps.is_done(draft, number)
                                                                  and request.method == "POST")):
        # Submitted: steps 1-9 are read-only now (reopening is the status page's); completed:
        # step 10 too.
        return advance(url_for("status.index"))
    if not steps.may_visit(draft, number):
        if request.method == "POST" and draft is not None:
            # Sent from a page the application has left (another tab started again at step 2): nothing
            # of it is stored, and the page it leads to says so.
            flash(str(LEFT_BEHIND), NOTICE)
        return advance(step_url(steps.first_unfinished(draft)))
    return None


@bp.get("/<int:number>")
def step_get(number: int):
    draft = current_draft()
    if response := gate(draft, number):
        return response
    step = STEPS[number]
    # Once: with htmx, advance() shows the page it leads to within this request, whose arguments
    # still ask for the action.
    if not g.get("redirected") and (url := step.redirect(draft)):
        g.redirected = True
        return advance(url)
    form = step.bind(draft)
    try:
        step.asked(draft, form)
    except FormRejected as rejected:
        rejected.shown_in(form)
        return show(number, draft, form, rejected.status, whole=True, **rejected.context)
    return show(number, draft, form)


# How often a save that met the same answers stored by another click tries again.
SAME_ANSWERS_TRIES = 3


@bp.post("/<int:number>")
def step_post(number: int):
    draft = current_draft()
    if response := gate(draft, number):
        return response
    step = STEPS[number]
    form = step.bind(draft, request.form)
    status = 422
    extra = {}
    if form.validate():
        try:
            return _saved(step, draft, form)
        except store.Unavailable as error:
            return show(number, draft, form, 503, notice=save_unavailable(error))
        except FormRejected as rejected:
            extra = rejected.context
            if rejected.notice:
                return show(number, draft, form, rejected.status, notice=rejected.message, **extra)
            rejected.shown_in(form)
            status = rejected.status
        except drafts.StaleDraft:
            # Another save came first. When it stored these same answers, this is one more click
            # of the same button (clicks without JavaScript cross each other), not another tab.
            for _click in range(SAME_ANSWERS_TRIES):
                draft = current_draft()
                if response := gate(draft, number):
                    return response  # submitted in another tab meanwhile
                form.version.data = str(draft.version)
                if not step.unchanged(draft, form):
                    break
                try:
                    return _saved(step, draft, form)
                except drafts.StaleDraft:
                    continue  # yet another click crossed this one
                except store.Unavailable as error:  # raised here, the handler above does not catch it
                    return show(number, draft, form, 503, notice=save_unavailable(error))
            else:
                draft = current_draft()  # every try was crossed: what follows is based on the latest
                form.version.data = str(draft.version)
            # Keep what this tab typed, now based on the stored version, beside what is stored
            # now: sending it again is a deliberate choice, never a silent overwrite.
            form.form_errors.append(STALE)
            extra["stored_now"] = stored_answers(step, draft, form)
            status = 409
    return show(number, draft, form, status, **extra)


def stored_answers(step: Step, draft, typed) -> list[tuple[str, str]]:
    """(label, answer) of what the draft holds now (the step's ``load``), for each field where it
    differs from ``typed`` (what this tab sent, after another tab saved)."""
    stored = step.bind(draft)
    answers = []
    for name in step.load(draft):
        field = stored[name]
        if field.type == "HiddenField" or _checked(field) == typed[name].data:
            continue
        if field.type == "BooleanField":
            answer = _("Ja") if field.data else _("Nee")
        elif hasattr(field, "choices"):
            answer = next((str(label) for value, label, *_rest in field.iter_choices() if value == field.data),
                          _("Niet opgegeven"))
        else:
            answer = str(field.data or "") or _("Niet opgegeven")
        answers.append((str(field.label.text), answer))
    return answers


def _checked(field):
    """A stored answer as its field's checks leave what is typed (``forms.Checked``): a stored
    "06-12345678" as "+31612345678", the form a validated typed answer has."""
    value = field.data
    for check in field.validators:
        if isinstance(check, forms.Checked):
            try:
                value = check.check(value or "")
            except validators.Invalid:
                break
    return value


def _saved(step: Step, draft, form):
    url = step.save(draft, form)
    if returning() and step.number != SUMMARY_STEP:
        if steps.may_visit(current_draft(), SUMMARY_STEP):
            url = step_url(SUMMARY_STEP)
            g.back_at_summary = True
        else:
            # The change made steps due again (a new look-up: step 3, and step 8 when the codes
            # changed): on through them, and back to the summary once it can be shown.
            url = keep_return(url)
    # The next step's page says enough; htmx moves focus to it and says the answers were kept.
    return advance(url, announce=step.announcement, shown=False)
