"""Normalising and checking what applicants type. No Flask in here."""

import re

import email_validator

_SEPARATORS = re.compile(r"[\s.\-]+")


class Invalid(ValueError):
    """The value cannot be accepted; ``code`` names the reason for the message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def strip_separators(value: str) -> str:
    """Remove spaces, dots and dashes, as people type '1234 5678' or '01-05.1234'."""
    return _SEPARATORS.sub("", value or "")


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
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise Invalid("invalid") from None
    local, _, domain = result.normalized.rpartition("@")
    # Lower-casing a non-ASCII local part could name another mailbox (İ becomes i + dot).
    return f"{local.lower() if local.isascii() else local}@{domain.lower()}"



_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")


def format_postcode(value: str) -> str:
    """A Dutch postcode as people write it: "3551CR" -> "3551 CR"; anything else as it is."""
    match = _POSTCODE.match(value or "")
    return f"{match.group(1)} {match.group(2).upper()}" if match else (value or "")
