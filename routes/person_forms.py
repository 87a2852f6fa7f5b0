"""The forms about people: signatory and main contact (steps 4-5), a contact person per AGB code
(step 6, several on a page, each with its own ``prefix``) and an ICT administrator (step 7).
Field names are the stable contract of SPEC §7; the rules live in ``onboarding.validators``.

These are another person's details, even when the applicant fills in their own, so the browser
is not asked to fill them from the applicant's profile (autocomplete off)."""

from datetime import date

import wtforms
from wtforms import EmailField, HiddenField, RadioField, StringField, TelField
from wtforms.validators import DataRequired

from onboarding import people, validators

from .forms import Checkbox, Checked, StepForm
from .i18n import lazy_gettext as _l

_OFF = {"autocomplete": "off", "spellcheck": "false"}

_NOT_LATIN = _l("Schrijf de naam in Latijnse letters, zoals op het Nederlandse identiteitsbewijs of het paspoort")
_INITIALS = {
    "not_latin": _NOT_LATIN,
    "required": _l("Vul de voorletters in"),
    "invalid": _l("Vul alleen letters in als voorletters, zoals J.W. of J.-P."),
    "too_long": _l("Vul hoogstens 10 voorletters in"),
    "a_name": _l("Vul alleen de voorletters in, zoals J.W. voor Jan Willem"),
}
_PREFIX = {
    "not_latin": _NOT_LATIN,
    "invalid": _l("Een tussenvoegsel bestaat alleen uit letters, spaties en apostrofs, zoals van der of van 't"),
    "too_long": _l("Een tussenvoegsel heeft hoogstens 20 tekens"),
}
_SURNAME = {
    "not_latin": _NOT_LATIN,
    "required": _l("Vul de achternaam in"),
    "invalid": _l("Een achternaam bestaat alleen uit letters, spaties, apostrofs en streepjes"),
    "too_long": _l("Een achternaam heeft hoogstens 100 tekens"),
}
_BIRTH_DATE = {
    "required": _l("Vul de geboortedatum in"),
    "format": _l("Vul de geboortedatum in als 09-03-1971 of 1971-03-09"),
    "not_a_date": _l("Deze datum bestaat niet. Vul een bestaande geboortedatum in, zoals 09-03-1971"),
    "future": _l("De geboortedatum moet in het verleden liggen"),
    "underage": _l("De persoon moet 18 jaar of ouder zijn"),
    "too_old": _l("De geboortedatum mag niet meer dan 120 jaar geleden zijn"),
}
_EMAIL = {
    "required": _l("Vul het e-mailadres in"),
    "too_long": _l("Een e-mailadres heeft hoogstens 254 tekens"),
    "invalid": _l("Vul een geldig e-mailadres in, zoals naam@praktijk.nl"),
    "unprintable": _l("Dit e-mailadres heeft tekens die de aansluitovereenkomst niet kan tonen. Vul een adres in "
                      "met Latijnse letters, zoals naam@praktijk.nl"),
}
_BUSINESS_EMAIL = _EMAIL | {"required": _l("Vul het zakelijke e-mailadres in")}
_MOBILE = {
    "required": _l("Vul het zakelijke mobiele nummer in"),
    "invalid": _l("Vul een Nederlands mobiel nummer in, zoals 06-12345678"),
    "not_mobile": _l("Dit is geen mobiel nummer. Vul een mobiel nummer in dat begint met 06, zoals 06-12345678"),
    "not_dutch": _l("Vul een Nederlands mobiel nummer in, zoals 06-12345678. Een buitenlands nummer kan niet"),
}
_PHONE = {
    "required": _l("Vul het telefoonnummer in"),
    "invalid": _l("Vul een geldig telefoonnummer in, zoals 030-2345678 of 06-12345678; een buitenlands "
                  "nummer met het landnummer, zoals +32 2 234 56 78"),
}
_NAME = {
    "required": _l("Vul de naam in"),
    "invalid": _l("Een naam bestaat alleen uit letters, cijfers, spaties en de tekens . , - ' & ( ) /"),
    "too_long": _l("Een naam heeft hoogstens 100 tekens"),
    "unprintable": _l("Deze naam heeft tekens die de aansluitovereenkomst niet kan tonen. Schrijf de naam in "
                      "Latijnse letters"),
}
_AS_ON_ID = _l("Zoals op het identiteitsbewijs.")


def _birth_date_today(value: str) -> str:
    return validators.birth_date(value, date.today())


def _initials(description=""):
    return StringField(
        _l("Voorletters"), description=description,
        validators=[Checked(validators.initials, _INITIALS)],
        render_kw=_OFF | {"autocapitalize": "characters"},
    )


def _prefix(description=""):
    return StringField(
        _l("Tussenvoegsel (optioneel)"), description=description,
        validators=[Checked(validators.prefix, _PREFIX)],
        render_kw=_OFF | {"autocapitalize": "none"},
    )


def _surname(description=""):
    return StringField(
        _l("Achternaam"), description=description,
        validators=[Checked(validators.surname, _SURNAME)],
        render_kw=_OFF,
    )


def _email(label, messages):
    return EmailField(label, validators=[Checked(validators.agreement_email, messages)], render_kw=_OFF)


def _phone():
    return TelField(_l("Telefoonnummer"), validators=[Checked(validators.phone, _PHONE)], render_kw=_OFF)


class PersonForm(StepForm):
    """The signatory (step 4) and the main contact person (step 5): names as on the identity
    document, because iDIN's answer or the identification visit is compared with them."""

    initials = _initials(_l("Zoals op het identiteitsbewijs, bijvoorbeeld J.W."))
    prefix = _prefix(_l("Zoals op het identiteitsbewijs, bijvoorbeeld van der."))
    surname = _surname(_AS_ON_ID)
    birth_date = StringField(
        _l("Geboortedatum"), description=_l("Bijvoorbeeld 09-03-1971."),
        validators=[Checked(_birth_date_today, _BIRTH_DATE)],
        render_kw=_OFF,
    )
    email = _email(_l("Zakelijk e-mailadres"), _BUSINESS_EMAIL)
    mobile = TelField(
        _l("Zakelijk mobiel nummer"), description=_l("Een Nederlands mobiel nummer, bijvoorbeeld 06-12345678."),
        validators=[Checked(validators.mobile, _MOBILE)],
        render_kw=_OFF,
    )


    @staticmethod
    def values(person: people.Person) -> dict:
        """A stored person as this form shows them (the inverse of ``person``)."""
        return {"initials": person.initials, "prefix": person.prefix, "surname": person.surname,
                "birth_date": validators.format_date(person.birth_date), "email": person.email,
                "mobile": validators.format_mobile(person.mobile)}

    def person(self, **extra) -> people.Person:
        """The person as typed, normalised by the validators."""
        return people.Person(initials=self.initials.data, prefix=self.prefix.data, surname=self.surname.data,
                             birth_date=self.birth_date.data, email=self.email.data, mobile=self.mobile.data,
                             **extra)


REASON_JOINT = _l("gezamenlijk bevoegd, kan niet alleen tekenen")
REASON_NONE = _l("niet bevoegd om te tekenen")
REASON_NOT_A_PERSON = _l("een rechtspersoon, geen natuurlijk persoon: tekent via een eigen bestuurder")
CHOOSE_SIGNATORY = _l("Kies wie de overeenkomst tekent.")
NOT_AUTHORISED = _l("Kies een tekenbevoegde die in het Handelsregister alleen of zelfstandig bevoegd is.")


class OfficerChoiceForm(wtforms.Form):
    """Step 4's officer choice: a GET form of its own (choosing fills in the details below it),
    so a plain WTForms form: no CSRF token, and never bound to the POST of the details."""

    signatory = RadioField(_l("Wie tekent de overeenkomst?"), validate_choice=False)


class SignatoryForm(PersonForm):
    """Step 4: the officer chosen (their ``id`` in the KvK extract) and their details."""

    signatory = HiddenField()

    def officer_choice(self, choices) -> RadioField:
        """The choice of officer above this form, for ``forms.radios``: ``choices`` as (id, label),
        the officer of this form checked, and this form's message about the officer on it."""
        field = OfficerChoiceForm(data={"signatory": self.signatory.data}).signatory
        field.choices = choices
        field.errors = list(self.signatory.errors)
        return field


class MainContactForm(PersonForm):
    employed = Checkbox(
        _l("Deze persoon is in dienst van de onderneming"),
        validators=[DataRequired(_l("Bevestig dat deze persoon in dienst is van uw onderneming"))],
    )


class ContactForm(StepForm):
    """One contact person of an AGB code (step 6); one form per row, told apart by ``prefix``."""

    initials = _initials()
    prefix = _prefix()
    surname = _surname()
    email = _email(_l("E-mailadres"), _EMAIL)
    phone = _phone()

    def contact(self) -> people.ContactPerson:
        return people.ContactPerson(initials=self.initials.data, prefix=self.prefix.data,
                                    surname=self.surname.data, email=self.email.data, phone=self.phone.data)


class IctAdminForm(StepForm):
    name = StringField(
        _l("Naam"), description=_l("Van een persoon, afdeling of organisatie."),
        validators=[Checked(validators.agreement_name, _NAME)],
        render_kw=_OFF,
    )
    email = _email(_l("E-mailadres"), _EMAIL)
    phone = _phone()
