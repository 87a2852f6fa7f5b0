"""Normalising and checking what applicants type. No Flask in here."""

import functools
import re
import unicodedata
from datetime import date

import email_validator
import phonenumbers

from . import agreement

# Spaces (a no-break one too), dots, and the dashes people and their software type: hyphen-minus,
# hyphens, en and em dashes, the minus sign.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]+")


class Invalid(ValueError):
    """The value cannot be accepted; ``code`` names the reason for the message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def strip_separators(value: str) -> str:
    """Remove spaces, dots and dashes, as people type '1234 5678' or '01-05.1234' (full-width
    digits become ASCII ones, as in a phone number)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))


# The apostrophes a keyboard or a registry may give, as one: a phone types "’s" for "'s".
_APOSTROPHES = {char: "'" for char in "‘’‛ʼ`´′"}
# Letters whose accent is part of the letter (no decomposition takes it off): as typed without one.
_OWN_LETTERS = {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ħ": "h"}
_SEARCHABLE = str.maketrans(_APOSTROPHES | _OWN_LETTERS)


def searchable(text) -> str:
    """A name as a search compares it, case, accents and the kind of apostrophe left out:
    "Öztürk" as "ozturk", "Yılmaz" as "yilmaz", "’s-Hertogenbosch" as "'s-hertogenbosch"."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").casefold().translate(_SEARCHABLE))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def eight_digits(value: str) -> str:
    """A KvK number or AGB code: exactly 8 digits once separators are removed."""
    number = strip_separators(value)
    if not number:
        raise Invalid("required")
    if not number.isascii() or not number.isdigit():
        raise Invalid("not_digits")
    if len(number) != 8:
        raise Invalid("length")
    return number


def email_address(value: str) -> str:
    """A syntactically valid e-mail address, normalised and lower-cased.

    Lower case (for ASCII local parts), so that ``Jan@Praktijk.nl`` and ``jan@praktijk.nl`` find
    the same draft and void each other's links: no mail server in this field treats
    them as different mailboxes. Deliverability is not checked: that needs the
    network, and the verification mail proves the address anyway.
    """
    value = (value or "").strip()
    if not value:
        raise Invalid("required")
    if len(value) > 254:
        raise Invalid("too_long")
    try:
        # strict: the RFC's length limits too (at most 64 characters before the @), which mail servers keep.
        result = email_validator.validate_email(value, check_deliverability=False, strict=True)
    except email_validator.EmailNotValidError:
        raise Invalid("invalid") from None
    local, _, domain = result.normalized.rpartition("@")
    # Lower-casing a non-ASCII local part could name another mailbox (İ becomes i + dot).
    return f"{local.lower() if local.isascii() else local}@{domain.lower()}"


def agreement_email(value: str) -> str:
    """An e-mail address the agreement shows (the people of steps 4-7, a contact VECOZO knows): as
    ``email_address``, and printable there. A domain name the agreement cannot show is kept in its
    ASCII form (``wang@xn--r8jz45g.xn--zckzah``: the same address, which Chromium sends anyway); a
    mailbox name it cannot show is refused."""
    address = email_address(value)
    if not agreement.unprintable(address):
        return address
    local = address.rpartition("@")[0]
    domain = email_validator.validate_email(address, check_deliverability=False).ascii_domain
    return printable(f"{local}@{domain}")


def agreement_name(value: str) -> str:
    """A name the agreement shows (an ICT administrator): as ``name``, and printable there."""
    return printable(name(value))


def printable(value: str) -> str:
    """``value`` when the agreement can show every character of it: what its fonts have no glyph
    for (a Japanese mailbox name, say) is refused where it is typed, not lost in the signed PDF."""
    if agreement.unprintable(value):
        raise Invalid("unprintable")
    return value


_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")


def format_postcode(value: str) -> str:
    """A Dutch postcode as people write it: "3551CR" -> "3551 CR"; anything else as it is."""
    match = _POSTCODE.match(value or "")
    return f"{match.group(1)} {match.group(2).upper()}" if match else (value or "")


# People: names as on the identity document, a birth date, phone numbers.

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_HYPHENS = str.maketrans({"‐": "-", "‑": "-", "–": "-"})
# Spaces only (no-break and thin ones too): a tab or line break inside a name is refused, not
# quietly made a space.
_SPACES = re.compile(r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def _typed(value: str) -> str:
    """What was typed, composed (e + combining acute is é), with one kind of apostrophe and
    hyphen, trimmed (a pasted line break too) and with runs of spaces made one."""
    value = unicodedata.normalize("NFC", value or "").translate(_APOSTROPHES).translate(_HYPHENS)
    return _SPACES.sub(" ", value.strip()).strip()


def _latin_letter(char: str) -> bool:
    """A letter of the Latin script, diacritics included (é, ö, ç, ı, ß, Ĳ). Names on a Dutch
    identity document are in this script; Cyrillic or Greek look-alikes are not accepted."""
    return unicodedata.category(char).startswith("L") and unicodedata.name(char, "").startswith("LATIN ")


def _other_script(text: str) -> bool:
    """Whether ``text`` has a letter of another script than Latin (Greek, Cyrillic, Arabic): a name
    to write as the Dutch identity document does, in Latin letters."""
    return any(unicodedata.category(char).startswith("L") and not _latin_letter(char) for char in text)


def _mark(char: str) -> bool:
    """A combining mark that NFC could not fold into its letter."""
    return unicodedata.category(char) == "Mn"


_INITIALS_SEPARATORS = re.compile(r"[ .]+")
MAX_INITIALS = 10


def initials(value: str) -> str:
    """Initials as "J.W.": every letter upper-cased and followed by a dot; a hyphenated pair
    stays one ("j-p" -> "J.-P."). Spaces and dots as typed do not matter. A name typed instead
    ("Jan", which would become "J.A.N.") is refused."""
    typed = _typed(value)
    if not typed.replace(".", "").strip():
        raise Invalid("required")
    if len(typed) > 4 * MAX_INITIALS:
        raise Invalid("too_long")
    letters = _INITIALS_SEPARATORS.sub("", typed)
    if _other_script(letters):
        raise Invalid("not_latin")
    if not all(_latin_letter(char) or char == "-" for char in letters):
        raise Invalid("invalid")
    if letters.startswith("-") or letters.endswith("-") or "--" in letters:
        raise Invalid("invalid")
    if sum(char != "-" for char in letters) > MAX_INITIALS:
        raise Invalid("too_long")
    if any(_a_name(word) for word in re.split(r"[.\s-]+", typed)):
        raise Invalid("a_name")
    if "." in typed:
        # Typed with dots, the groups stay as typed: "th." is the initial "Th." (Theodorus).
        groups, carry = [], ""
        for group in re.split(r"[.\s]+", typed):
            if group in ("", "-"):
                carry += group
            else:
                groups.append(carry + group)
                carry = ""
        if all(len(group.lstrip("-")) <= 3 for group in groups):
            return "".join(_initial(group) for group in groups)
    result = []
    for char in letters:
        result.append("-" if char == "-" else _initial(char))
    return "".join(result)


_VOWELS = set("aeiouyàáâäèéêëìíîïòóôöùúûü")


def _a_name(word: str) -> bool:
    """A first name typed where its initial belongs ("Jan", "Jansen", "IJsbrand", also "Jan."): a
    capital (IJ is one) and two or more small letters, a vowel among them. Initials typed small ("jw")
    or as capitals ("JW") are letters each, and a group of consonants ("Th.", "Chr.") is one initial."""
    rest = word[2:] if word[:2] in ("IJ", "Ij") else word[1:]
    return word[:1].isupper() and len(rest) >= 2 and rest.islower() and bool(_VOWELS & set(rest))


def _initial(group: str) -> str:
    """One initial: its first letter upper case, the rest lower case ("th" -> "Th.")."""
    hyphen, letters = ("-", group.lstrip("-")) if group.startswith("-") else ("", group)
    if letters[:2].lower() == "ij":  # the Dutch digraph is one letter: IJsbrand is "IJ."
        return f"{hyphen}IJ{letters[2:].lower()}."
    first = letters[0].upper() if len(letters[0].upper()) == 1 else letters[0]  # "ß".upper() is "SS"
    return f"{hyphen}{first}{letters[1:].lower()}."


MAX_PREFIX = 20


def prefix(value: str) -> str:
    """A tussenvoegsel in lower case ("Van der" -> "van der", "VAN 'T" -> "van 't"); optional."""
    typed = _typed(value).lower()
    if not typed:
        return ""
    if len(typed) > MAX_PREFIX:
        raise Invalid("too_long")
    if _other_script(typed):
        raise Invalid("not_latin")
    if not all(_latin_letter(char) or _mark(char) or char in " '" for char in typed):
        raise Invalid("invalid")
    if not any(_latin_letter(char) for char in typed):
        raise Invalid("invalid")
    return typed


def full_name(initials: str, prefix: str, surname: str) -> str:
    """A person's name as written: "J. van der Berg"; a tussenvoegsel that ends in an apostrophe
    joins the surname ("H. d'Ancona", not "d' Ancona")."""
    last = prefix + surname if prefix.endswith(("'", "\u2019")) else " ".join(part for part in (prefix, surname) if part)
    return " ".join(part for part in (initials, last) if part)


MAX_NAME = 100


def surname(value: str) -> str:
    """A surname as on the identity document: letters with their diacritics, spaces,
    apostrophes and hyphens ("Jansen-de Vries", "O'Neill", "Öztürk"); case kept as typed."""
    typed = re.sub(r" ?- ?", "-", _typed(value))
    if not typed:
        raise Invalid("required")
    if len(typed) > MAX_NAME:
        raise Invalid("too_long")
    if _other_script(typed):
        raise Invalid("not_latin")
    if not all(_latin_letter(char) or _mark(char) or char in " '-" for char in typed):
        raise Invalid("invalid")
    if not any(_latin_letter(char) for char in typed):
        raise Invalid("invalid")
    if typed.startswith("-") or typed.endswith("-") or "--" in typed:
        raise Invalid("invalid")
    return typed


_NAME_PUNCTUATION = set(" .,-'&()/")


def name(value: str) -> str:
    """The name of a person, department or organisation (an ICT administrator): letters in any
    script, digits and the punctuation such names use (. , - ' & ( ) /)."""
    typed = _typed(value)
    if not typed:
        raise Invalid("required")
    if len(typed) > MAX_NAME:
        raise Invalid("too_long")
    allowed = (
        lambda char: unicodedata.category(char).startswith("L") or _mark(char)
        or char in "0123456789" or char in _NAME_PUNCTUATION
    )
    if not all(allowed(char) for char in typed):
        raise Invalid("invalid")
    if not any(char.isalnum() for char in typed):
        raise Invalid("invalid")
    return typed


_ISO_DATE = re.compile(r"^([0-9]{4}) ?[-/. ] ?([0-9]{1,2}) ?[-/. ] ?([0-9]{1,2})$")
_DUTCH_DATE = re.compile(r"^([0-9]{1,2}) ?[-/. ] ?([0-9]{1,2}) ?[-/. ] ?([0-9]{4})$")
ADULT = 18
OLDEST = 120


def _anniversary(born: date, years: int) -> date:
    """The day ``born`` is ``years`` years ago; someone born on 29 February has it on 1 March
    in a year without one."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def birth_date(value: str, today: date) -> str:
    """A birth date typed as YYYY-MM-DD or DD-MM-YYYY ("/" and "." also separate, "9-3-1971"
    is fine), of an adult on ``today``, at most 120 years ago; returned as "YYYY-MM-DD"."""
    typed = _typed(value)
    if not typed:
        raise Invalid("required")
    if match := _ISO_DATE.match(typed):
        year, month, day = match.groups()
    elif match := _DUTCH_DATE.match(typed):
        day, month, year = match.groups()
    else:
        raise Invalid("format")
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        raise Invalid("not_a_date") from None
    if born > today:
        raise Invalid("future")
    if _anniversary(born, OLDEST) < today:
        raise Invalid("too_old")
    if _anniversary(born, ADULT) > today:
        raise Invalid("underage")
    return born.isoformat()


# What people put in a phone number besides digits: "+31 (0)6-1234 5678", "030/2345678".
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
_DUTCH_MOBILE = re.compile(r"^\+316[0-9]{8}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _parsed(value: str) -> phonenumbers.PhoneNumber:
    """A phone number as typed in the Netherlands: Dutch (0..., +31..., 0031...) or with another
    country's code (+32..., 0032...); not yet known to be valid."""
    typed = unicodedata.normalize("NFKC", value or "").strip()  # full-width digits, no-break spaces
    if not typed:
        raise Invalid("required")
    # Letters would be read as a keypad ("0800-FLOWERS") and "x12" as an extension: refuse them.
    if len(typed) > 30 or not _PHONE_CHARACTERS.match(typed):
        raise Invalid("invalid")
    try:
        return phonenumbers.parse(typed, "NL")
    except phonenumbers.NumberParseException:
        raise Invalid("invalid") from None


def _valid(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid")
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile(value: str) -> str:
    """A Dutch mobile number (06..., +316..., 00316...) in E.164: "+31612345678"."""
    number = _parsed(value)
    if number.country_code != 31:
        raise Invalid("not_dutch")
    number = _e164(_valid(number))
    # 097 numbers are mobile to phonenumbers too, but they are for machines, not people.
    if not _DUTCH_MOBILE.match(number):
        raise Invalid("not_mobile")
    return number


def phone(value: str) -> str:
    """Any phone number in E.164: Dutch (mobile, landline, 085, 088, 0800, ...) or, typed with
    its country code, foreign (an ICT firm across the border)."""
    return _e164(_valid(_parsed(value)))


def format_mobile(value: str) -> str:
    """A Dutch mobile number in E.164 as people write it: "06-12345678"; anything else as it is."""
    if value and _DUTCH_MOBILE.match(value):
        return "0" + value[3:4] + "-" + value[4:]
    return value


def format_phone(value: str) -> str:
    """A phone number in E.164 as people write it: a mobile as "06-12345678", a landline in
    the national format ("030 234 5678"); what is not E.164 (registry data) as it is."""
    if not value or not _E164.match(value):
        return value
    if _DUTCH_MOBILE.match(value):
        return format_mobile(value)
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return value
    if number.country_code != 31:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_formatter():
    """``format_phone`` that formats each number once, for one list of people: a list's rows mostly
    share a few people, and phonenumbers takes about 25 µs a landline. Make one per list and let it
    go with the list: phone numbers are personal data, kept no longer than the request."""
    return functools.cache(format_phone)


def format_date(iso: str) -> str:
    """A date as Dutch people write it: "1971-03-09" -> "09-03-1971"; anything else as it is."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)}" if match else (iso or "")


def free_text(value: str, limit: int) -> str:
    """Optional text typed in a box: trimmed, line breaks kept as "\\n", other control
    characters refused (they have no place in a remark and can hide what it says)."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > limit:
        raise Invalid("too_long")
    if any(unicodedata.category(char)[0] == "C" and char not in "\n\t" for char in text):
        raise Invalid("invalid")
    return text


# An address in the Netherlands (step 10's visit).

MAX_ADDRESS_PART = 100
# A number, then an addition of letters and digits in parts joined by a space, dash or slash:
# "12a", "12-2", "12 bis", "1234 bis-3hg", "1 A-2", "99 ZW 1e etage".
# A number of at most five digits, then up to four parts of letters (of any script: "16 boîte 2") or
# digits, each after a space, a hyphen or a slash (those two with a space around them or not: "2 - A");
# only a part that starts with a letter may join the number ("12a": "123456" is no house number).
_HOUSE_NUMBER_SEPARATOR = r"(?: ?[/-] ?| )"
_HOUSE_NUMBER = re.compile(
    rf"^[1-9][0-9]{{0,4}}(?:(?:{_HOUSE_NUMBER_SEPARATOR}[^\W_]+|[^\W\d_][^\W_]*)"
    rf"(?:{_HOUSE_NUMBER_SEPARATOR}[^\W_]+){{0,3}})?$")
_HOUSE_NUMBER_LIMIT = 24


def postcode(value: str) -> str:
    """A Dutch postcode, "3551 cr" -> "3551CR"."""
    typed = _typed(value)
    if not typed:
        raise Invalid("required")
    match = _POSTCODE.match(typed)
    if not match:
        raise Invalid("invalid")
    return f"{match.group(1)}{match.group(2).upper()}"


def house_number(value: str) -> str:
    """A house number with an optional addition, as typed: "12", "12a", "12-2", "12 bis"."""
    typed = _typed(value)
    if not typed:
        raise Invalid("required")
    if len(typed) > _HOUSE_NUMBER_LIMIT or not _HOUSE_NUMBER.match(typed):
        raise Invalid("invalid")
    return typed


def house_number_text(number, addition: str) -> str:
    """A registry's house number and addition as one: a single letter, or an addition that begins
    with its own hyphen or slash, joins the number ("12a", "2-A"); any other follows a space
    ("1234 bis-3hg", "1 A-2")."""
    addition = (addition or "").strip()
    if not addition:
        return str(number)
    joins = (len(addition) == 1 and addition.isalpha()) or addition[0] in "-/"
    return f"{number}{addition}" if joins else f"{number} {addition}"


def address_part(value: str) -> str:
    """A street or a place name: letters in any script, digits and the usual punctuation."""
    typed = _typed(value)
    if not typed:
        raise Invalid("required")
    if len(typed) > MAX_ADDRESS_PART:
        raise Invalid("too_long")
    return name(typed)
