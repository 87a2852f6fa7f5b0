"""The person forms of steps 4-7: what a person sees for each bad input, and what is kept."""

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from routes.person_forms import ContactForm, IctAdminForm, MainContactForm, PersonForm


def years_ago(years: int, today: date | None = None) -> date:
    today = today or date.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February: 28 February is the last day that many years ago
        return date(today.year - years, 2, 28)


GOOD_PERSON = {
    "initials": "jw", "prefix": "Van der", "surname": " Berg ", "birth_date": "9-3-1971",
    "email": "J.vd.Berg@Praktijk.NL", "mobile": "06 1234 5678",
}
PERSON_SAVED = {
    "initials": "J.W.", "prefix": "van der", "surname": "Berg", "birth_date": "1971-03-09",
    "email": "j.vd.berg@praktijk.nl", "mobile": "+31612345678",
}
GOOD_CONTACT = {
    "initials": "a.s.", "prefix": "", "surname": "El  Amrani", "email": "a.elamrani@praktijk.nl",
    "phone": "030-2345678",
}
CONTACT_SAVED = {
    "initials": "A.S.", "prefix": "", "surname": "El Amrani", "email": "a.elamrani@praktijk.nl",
    "phone": "+31302345678",
}
GOOD_ICT_ADMIN = {"name": " ICT & Zorg B.V. ", "email": "servicedesk@ict.example", "phone": "+31 (0)85-1234567"}
ICT_ADMIN_SAVED = {"name": "ICT & Zorg B.V.", "email": "servicedesk@ict.example", "phone": "+31851234567"}


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


def posted(form_class, data, **kwargs):
    data = {name: typed_today(value) for name, value in data.items()}
    form = form_class(MultiDict(data), meta={"csrf": False}, **kwargs)
    form.validate()
    return form


def saved(form) -> dict:
    return {name: value for name, value in form.data.items() if name != "version"}


def messages(form) -> dict:
    return {name: [str(message) for message in errors] for name, errors in form.errors.items()}


# -- what every person form shares ------------------------------------------------------------

INITIALS_REFUSED = [
    ("", "Vul de voorletters in"),
    ("J1", "Vul alleen letters in als voorletters, zoals J.W. of J.-P."),
    ("<b>", "Vul alleen letters in als voorletters, zoals J.W. of J.-P."),
    ("J\x00", "Vul alleen letters in als voorletters, zoals J.W. of J.-P."),
    ("abcdefghijk", "Vul hoogstens 10 voorletters in"),
    ("Jansen", "Vul alleen de voorletters in, zoals J.W. voor Jan Willem"),
]
PREFIX_REFUSED = [
    ("v4n", "Een tussenvoegsel bestaat alleen uit letters, spaties en apostrofs, zoals van der of van 't"),
    ("<i>", "Een tussenvoegsel bestaat alleen uit letters, spaties en apostrofs, zoals van der of van 't"),
    ("van\u202e", "Een tussenvoegsel bestaat alleen uit letters, spaties en apostrofs, zoals van der of van 't"),
    ("x" * 21, "Een tussenvoegsel heeft hoogstens 20 tekens"),
]
SURNAME_REFUSED = [
    ("", "Vul de achternaam in"),
    ("  ", "Vul de achternaam in"),
    ("Berg2", "Een achternaam bestaat alleen uit letters, spaties, apostrofs en streepjes"),
    ("<b>Berg</b>", "Een achternaam bestaat alleen uit letters, spaties, apostrofs en streepjes"),
    ("Berg\x00", "Een achternaam bestaat alleen uit letters, spaties, apostrofs en streepjes"),
    ('"Berg"', "Een achternaam bestaat alleen uit letters, spaties, apostrofs en streepjes"),
    ("a" * 101, "Een achternaam heeft hoogstens 100 tekens"),
]
EMAIL_REFUSED = [
    ("praktijk", "Vul een geldig e-mailadres in, zoals naam@praktijk.nl"),
    ("<script>@example.nl", "Vul een geldig e-mailadres in, zoals naam@praktijk.nl"),
    ("a" * 250 + "@example.nl", "Een e-mailadres heeft hoogstens 254 tekens"),
    # Valid, but the agreement's font has no glyph for it: refused here rather than lost in the PDF.
    ("王@example.nl", "Dit e-mailadres heeft tekens die de aansluitovereenkomst niet kan tonen. Vul een adres in met "
                      "Latijnse letters, zoals naam@praktijk.nl"),
]
PHONE_INVALID = ("Vul een geldig telefoonnummer in, zoals 030-2345678 of 06-12345678; een buitenlands nummer met "
                 "het landnummer, zoals +32 2 234 56 78")
PHONE_REFUSED = [
    ("", "Vul het telefoonnummer in"),
    ("030-234567", PHONE_INVALID),
    ("0800-FLOWERS", PHONE_INVALID),
    ("<b>030-2345678</b>", PHONE_INVALID),
    ("+32 2 123", PHONE_INVALID),  # a foreign number too short for its country
]


# Dates relative to today are named, not computed, so that the test ids stay the same over midnight.
BIRTH_DATES_REFUSED = [
    ("", "Vul de geboortedatum in"),
    ("9 maart 1971", "Vul de geboortedatum in als 09-03-1971 of 1971-03-09"),
    ("09031971", "Vul de geboortedatum in als 09-03-1971 of 1971-03-09"),
    ("29-02-2023", "Deze datum bestaat niet. Vul een bestaande geboortedatum in, zoals 09-03-1971"),
    ("1900-02-29", "Deze datum bestaat niet. Vul een bestaande geboortedatum in, zoals 09-03-1971"),
    ("<tomorrow>", "De geboortedatum moet in het verleden liggen"),
    ("<a day short of 18 years ago>", "De persoon moet 18 jaar of ouder zijn"),
    ("<a day more than 120 years ago>", "De geboortedatum mag niet meer dan 120 jaar geleden zijn"),
]


RELATIVE_DATES = {
    "<tomorrow>": lambda today: today + timedelta(days=1),
    "<a day short of 18 years ago>": lambda today: years_ago(18, today) + timedelta(days=1),
    "<a day more than 120 years ago>": lambda today: years_ago(120, today) - timedelta(days=1),
}


def typed_today(typed: str) -> str:
    relative = RELATIVE_DATES.get(typed)
    return relative(date.today()).strftime("%d-%m-%Y") if relative else typed


NOT_MOBILE = "Dit is geen mobiel nummer. Vul een mobiel nummer in dat begint met 06, zoals 06-12345678"
PERSON_REFUSED = [
    *[("initials", typed, message) for typed, message in INITIALS_REFUSED],
    *[("prefix", typed, message) for typed, message in PREFIX_REFUSED],
    *[("surname", typed, message) for typed, message in SURNAME_REFUSED],
    *[("birth_date", typed, message) for typed, message in BIRTH_DATES_REFUSED],
    ("email", "", "Vul het zakelijke e-mailadres in"),
    *[("email", typed, message) for typed, message in EMAIL_REFUSED],
    ("mobile", "", "Vul het zakelijke mobiele nummer in"),
    ("mobile", "06-1234567", "Vul een Nederlands mobiel nummer in, zoals 06-12345678"),
    ("mobile", "06-CALLME12", "Vul een Nederlands mobiel nummer in, zoals 06-12345678"),
    ("mobile", "030-2345678", NOT_MOBILE),
    ("mobile", "0800-1234", NOT_MOBILE),
    ("mobile", "+32 470 12 34 56",
     "Vul een Nederlands mobiel nummer in, zoals 06-12345678. Een buitenlands nummer kan niet"),
]


# -- steps 4 and 5: signatory and main contact person -----------------------------------------

def test_a_person_is_kept_normalised(request_context):
    form = posted(PersonForm, GOOD_PERSON)
    assert form.errors == {}
    assert saved(form) == PERSON_SAVED


@pytest.mark.parametrize("field, typed, message", PERSON_REFUSED)
def test_a_person_with_bad_input_gets_a_message_that_says_what_to_do(request_context, field, typed, message):
    form = posted(PersonForm, GOOD_PERSON | {field: typed})
    assert messages(form) == {field: [message]}


def test_the_tussenvoegsel_may_be_left_empty(request_context):
    form = posted(PersonForm, GOOD_PERSON | {"prefix": "  "})
    assert form.errors == {} and form.prefix.data == ""


def test_an_eighteenth_birthday_today_is_old_enough(request_context):
    born = years_ago(18)
    form = posted(PersonForm, GOOD_PERSON | {"birth_date": born.strftime("%d-%m-%Y")})
    assert form.errors == {} and form.birth_date.data == born.isoformat()


def test_29_february_of_a_leap_year_is_a_birth_date(request_context):
    form = posted(PersonForm, GOOD_PERSON | {"birth_date": "29-02-2000"})
    assert form.errors == {} and form.birth_date.data == "2000-02-29"


def test_the_main_contact_person_must_be_employed_by_the_company(request_context):
    form = posted(MainContactForm, GOOD_PERSON)
    assert messages(form) == {"employed": ["Bevestig dat deze persoon in dienst is van uw onderneming"]}


@pytest.mark.parametrize("field, typed, message", PERSON_REFUSED)
def test_the_main_contact_person_is_checked_like_the_signatory(request_context, field, typed, message):
    form = posted(MainContactForm, GOOD_PERSON | {"employed": "y", field: typed})
    assert messages(form) == {field: [message]}


def test_a_confirmed_main_contact_person_is_kept_normalised(request_context):
    form = posted(MainContactForm, GOOD_PERSON | {"employed": "y"})
    assert form.errors == {}
    assert saved(form) == PERSON_SAVED | {"employed": True}


def test_the_person_fields_carry_the_names_of_the_contract(request_context):
    names = {field.name for field in MainContactForm(meta={"csrf": False})}
    assert names == {"version", "initials", "prefix", "surname", "birth_date", "email", "mobile", "employed"}


def test_another_persons_details_are_not_filled_in_by_the_browser(request_context):
    form = PersonForm(meta={"csrf": False})
    html = {field.name: field() for field in form if field.name != "version"}
    assert all('autocomplete="off"' in markup for markup in html.values())
    assert 'type="tel"' in html["mobile"] and 'type="email"' in html["email"]


# -- step 6: a contact person per AGB code ----------------------------------------------------

CONTACT_REFUSED = [
    *[("initials", typed, message) for typed, message in INITIALS_REFUSED],
    *[("prefix", typed, message) for typed, message in PREFIX_REFUSED],
    *[("surname", typed, message) for typed, message in SURNAME_REFUSED],
    ("email", "", "Vul het e-mailadres in"),
    *[("email", typed, message) for typed, message in EMAIL_REFUSED],
    *[("phone", typed, message) for typed, message in PHONE_REFUSED],
]


def test_a_contact_person_is_kept_normalised(request_context):
    form = posted(ContactForm, GOOD_CONTACT)
    assert form.errors == {}
    assert saved(form) == CONTACT_SAVED


@pytest.mark.parametrize("typed, expected", [
    ("06-12345678", "+31612345678"),
    ("0348-456789", "+31348456789"),
    ("0800-1234", "+318001234"),
])
def test_a_contact_person_may_have_any_dutch_phone_number(request_context, typed, expected):
    form = posted(ContactForm, GOOD_CONTACT | {"phone": typed})
    assert form.errors == {} and form.phone.data == expected


@pytest.mark.parametrize("field, typed, message", CONTACT_REFUSED)
def test_a_contact_person_with_bad_input_gets_a_message_that_says_what_to_do(request_context, field, typed, message):
    form = posted(ContactForm, GOOD_CONTACT | {field: typed})
    assert messages(form) == {field: [message]}


def test_contact_rows_on_one_page_keep_their_own_names_and_ids(request_context):
    row = "c-01051234-1"
    data = {f"{row}-{name}": value for name, value in GOOD_CONTACT.items()}
    data["c-01051234-2-surname"] = "<b>"  # another row's input is not this row's
    form = posted(ContactForm, data, prefix=row)
    assert form.errors == {}
    assert saved(form) == CONTACT_SAVED
    assert {field.name for field in form} == {f"{row}-{name}" for name in ["version", *GOOD_CONTACT]}
    assert 'id="c-01051234-1-surname"' in form.surname()


def test_a_contact_row_with_bad_input_names_the_rows_field(request_context):
    row = "c-01051234-2"
    data = {f"{row}-{name}": value for name, value in (GOOD_CONTACT | {"phone": "030"}).items()}
    form = posted(ContactForm, data, prefix=row)
    assert messages(form) == {"phone": [PHONE_INVALID]}
    assert form.phone.name == "c-01051234-2-phone"


# -- step 7: ICT administrators ---------------------------------------------------------------

ICT_ADMIN_REFUSED = [
    ("name", "", "Vul de naam in"),
    ("name", "<b>ICT</b>", "Een naam bestaat alleen uit letters, cijfers, spaties en de tekens . , - ' & ( ) /"),
    ("name", "ICT\x00", "Een naam bestaat alleen uit letters, cijfers, spaties en de tekens . , - ' & ( ) /"),
    ("name", "ICT\u202e", "Een naam bestaat alleen uit letters, cijfers, spaties en de tekens . , - ' & ( ) /"),
    ("name", "x" * 101, "Een naam heeft hoogstens 100 tekens"),
    ("name", "株式会社ケア", "Deze naam heeft tekens die de aansluitovereenkomst niet kan tonen. Schrijf de naam in "
                       "Latijnse letters"),
    # Right to left: the agreement would show it unjoined and in reverse.
    ("name", "شركة تقنية & Co", "Deze naam heeft tekens die de aansluitovereenkomst niet kan tonen. Schrijf de naam "
                               "in Latijnse letters"),
    ("name", "ICT שלום", "Deze naam heeft tekens die de aansluitovereenkomst niet kan tonen. Schrijf de naam in "
                        "Latijnse letters"),
    ("email", "", "Vul het e-mailadres in"),
    *[("email", typed, message) for typed, message in EMAIL_REFUSED],
    *[("phone", typed, message) for typed, message in PHONE_REFUSED],
]


def test_an_ict_administrator_is_kept_normalised(request_context):
    form = posted(IctAdminForm, GOOD_ICT_ADMIN)
    assert form.errors == {}
    assert saved(form) == ICT_ADMIN_SAVED


@pytest.mark.parametrize("typed", ["Afdeling ICT", "J. de Vries", "Zorg-ICT (servicedesk 24/7)", "Öztürk IT",
                                   "Ελληνική Πληροφορική"])
def test_an_ict_administrator_may_be_a_person_department_or_organisation(request_context, typed):
    form = posted(IctAdminForm, GOOD_ICT_ADMIN | {"name": typed})
    assert form.errors == {} and form.name.data == typed


@pytest.mark.parametrize("field, typed, message", ICT_ADMIN_REFUSED)
def test_an_ict_administrator_with_bad_input_is_told_what_to_do(request_context, field, typed, message):
    form = posted(IctAdminForm, GOOD_ICT_ADMIN | {field: typed})
    assert messages(form) == {field: [message]}
