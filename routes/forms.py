"""The forms of the steps. Field names are the stable contract of SPEC §7."""

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, StopValidation

from onboarding import validators

from . import unsent
from .i18n import language
from .i18n import lazy_gettext as _l


class Checked:
    """Run a domain check; keep its normalised value, or stop with the message for its failure."""

    def __init__(self, check, messages: dict):
        self.check = check
        self.messages = messages

    def __call__(self, form, field):
        try:
            field.data = self.check(field.data or "")
        except validators.Invalid as invalid:
            raise StopValidation(self.messages[invalid.code]) from None


def shown_value(field) -> str:
    """What a text field shows: what was typed, as it was typed (a check keeps its normalised value
    in ``data``, for saving), else the stored value; never a password (a template global)."""
    if field.type == "PasswordField":
        return ""
    return field.raw_data[0] if field.raw_data else field._value()


def forget(field) -> None:
    """Leave a field empty when its form comes back (a refused code): not even what was typed."""
    field.data = ""
    field.raw_data = []


def described_by(field, hint=None) -> str:
    """What a field's ``aria-describedby`` names: its hint and its message, when shown (a template
    global: a macro for this cost more than the rest of a text field)."""
    ids = [f"{field.id}-hint"] if hint else []
    if field.errors:
        ids.append(f"{field.id}-error")
    return " ".join(ids)


def wtforms_translations():
    """WTForms' own messages in the current language, read from disk once per process
    (Flask-WTF reads the catalogue again on every request that builds a form)."""
    locale = language()
    cache = current_app.extensions.setdefault("aansluiten.wtforms_translations", {})
    if locale not in cache:
        cache[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return cache[locale]


class Checkbox(BooleanField):
    """A box to tick: ticked only when it sends what the page's box sends ("y"). WTForms's own takes
    any value but "false" as ticked, so "0" or "n", posted by hand, would confirm or declare."""

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] == "y"


class Form(FlaskForm):
    """The base of every form: CSRF from Flask-WTF, translations cached, and on the page a form
    was sent to after the session ended, what it said (``unsent``)."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations()

        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            formdata = unsent.restored() if formdata is None else formdata
            # It shows what was typed, not what is stored (sent back with an error, or kept after the
            # session ended): all of it is the applicant's to keep when switching the language.
            form.typed = formdata is not None
            return formdata


def stored_number(text) -> int:
    """A hidden field's version or id as posted; -1 for anything that is not a number SQLite can
    hold, which no stored row has: the form counts as sent from an outdated page (409)."""
    try:
        number = int(text)
    except (TypeError, ValueError):
        return -1
    return number if 0 <= number < 2**63 else -1


class StepForm(Form):
    """Every step's form carries the draft version it was based on (two tabs, SPEC §2)."""

    version = HiddenField()

    def based_on(self) -> int:
        """The version posted; anything that is not a version SQLite can hold counts as
        an outdated one (409), never as an error of ours."""
        return stored_number(self.version.data)


class EmailForm(Form):
    email = EmailField(
        _l("E-mailadres"),
        validators=[
            Checked(validators.email_address, {
                "required": _l("Vul uw e-mailadres in"),
                "too_long": _l("Een e-mailadres heeft hoogstens 254 tekens"),
                "invalid": _l("Vul een geldig e-mailadres in, zoals naam@praktijk.nl"),
            }),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


_KVK_MESSAGES = {
    "required": _l("Vul het KvK-nummer in"),
    "not_digits": _l("Een KvK-nummer bestaat alleen uit cijfers"),
    "length": _l("Een KvK-nummer heeft 8 cijfers"),
}
_AGB_MESSAGES = {
    "required": _l("Vul een AGB-code in"),
    "not_digits": _l("Een AGB-code bestaat alleen uit cijfers"),
    "length": _l("Een AGB-code heeft 8 cijfers"),
}


class CompanyForm(StepForm):
    kvk_number = StringField(
        _l("KvK-nummer"),
        validators=[Checked(validators.eight_digits, _KVK_MESSAGES)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    agb_code = StringField(
        _l("AGB-code"),
        validators=[Checked(validators.eight_digits, _AGB_MESSAGES)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )


class CheckForm(StepForm):
    data_correct = RadioField(
        _l("Kloppen deze gegevens?"),
        choices=[SelectChoice("yes", _l("Ja, de gegevens kloppen")), SelectChoice("no", _l("Nee, er klopt iets niet"))],
        validate_choice=False,
        validators=[
            InputRequired(_l("Geef aan of de gegevens kloppen")),
            AnyOf(["yes", "no"], message=_l("Geef aan of de gegevens kloppen")),
        ],
    )


REMARK_LIMIT = 1000


class ServicesForm(StepForm):
    services_ok = Checkbox(
        _l("Het overzicht van de diensten klopt en is volledig"),
        validators=[DataRequired(_l("Bevestig dat het overzicht van de diensten klopt en volledig is"))],
    )
    services_remark = TextAreaField(
        _l("Mist er iets, of klopt er iets niet? (optioneel)"),
        description=_l("Een medewerker van VECOZO leest dit bij de behandeling van uw aanmelding. "
                       "Hoogstens %(count)s tekens.", count=REMARK_LIMIT),
        validators=[Checked(lambda value: validators.free_text(value, REMARK_LIMIT), {
            "too_long": _l("Gebruik hoogstens %(count)s tekens", count=REMARK_LIMIT),
            "invalid": _l("Gebruik alleen gewone tekst, zonder stuurtekens"),
        })],
        # The browser stops typing where the server would refuse; what gets past it (a body posted
        # by hand) still meets the check above.
        render_kw={"maxlength": REMARK_LIMIT},
    )


class DeclarationForm(StepForm):
    declaration = Checkbox(
        _l("Ik verklaar dat ik deze aanmelding naar waarheid heb ingevuld en dat ik namens de onderneming "
           "mag handelen"),
        validators=[DataRequired(_l("Verklaar dat u de aanmelding naar waarheid heeft ingevuld"))],
    )


class MethodForm(StepForm):
    method = RadioField(
        _l("Hoe identificeren de tekenbevoegde en de hoofdcontactpersoon zich?"),
        choices=[
            SelectChoice("online", _l("Online, met iDIN bij de eigen bank")),
            SelectChoice("appointment", _l("Met een afspraak: een medewerker van AMP Groep komt langs")),
        ],
        validate_choice=False,
        validators=[
            InputRequired(_l("Kies hoe de personen zich identificeren")),
            AnyOf(["online", "appointment"], message=_l("Kies hoe de personen zich identificeren")),
        ],
    )


_ADDRESS_PART = {
    "too_long": _l("Gebruik hoogstens %(count)s tekens", count=validators.MAX_ADDRESS_PART),
    "invalid": _l("Gebruik alleen letters, cijfers, spaties en . , - ' & ( ) /"),
}


class VisitForm(Form):
    """Step 10's visit: where (prefilled with the company's address) and when, and which visit
    the page showed (``appointment``: its id, 0 for none), which a change or a cancel replaces."""

    appointment = HiddenField()

    def based_on(self) -> int:
        """The visit the page showed; anything else than an id counts as an outdated page."""
        return stored_number(self.appointment.data)

    street = StringField(_l("Straat"), validators=[Checked(validators.address_part, _ADDRESS_PART | {
        "required": _l("Vul de straat in")})], render_kw={"autocomplete": "address-line1"})
    house_number = StringField(_l("Huisnummer en toevoeging"), validators=[Checked(validators.house_number, {
        "required": _l("Vul het huisnummer in"),
        "invalid": _l("Vul een huisnummer in, met eventueel een toevoeging, zoals 12 of 12a")})],
        render_kw={"autocomplete": "off"})
    postcode = StringField(_l("Postcode"), validators=[Checked(validators.postcode, {
        "required": _l("Vul de postcode in"),
        "invalid": _l("Vul een Nederlandse postcode in, zoals 1234 AB")})],
        render_kw={"autocomplete": "postal-code", "spellcheck": "false"})
    city = StringField(_l("Plaats"), validators=[Checked(validators.address_part, _ADDRESS_PART | {
        "required": _l("Vul de plaats in")})], render_kw={"autocomplete": "address-level2"})
    slot = SelectField(_l("Datum en tijd van het bezoek"), validate_choice=False,
                       description=_l("Op werkdagen tussen 9:00 en 17:00 uur; het bezoek duurt ongeveer een uur."),
                       validators=[InputRequired(_l("Kies een datum en tijd voor het bezoek"))])
