import pytest
from hypothesis import given
from hypothesis import strategies as st

from onboarding.validators import Invalid, eight_digits, email_address, strip_separators


@pytest.mark.parametrize("typed, expected", [
    ("12345678", "12345678"),
    ("1234 5678", "12345678"),
    ("12.34.56.78", "12345678"),
    ("1234-5678", "12345678"),
    ("  01-05 12.34 ", "01051234"),
])
def test_eight_digits_are_normalised(typed, expected):
    assert eight_digits(typed) == expected


@pytest.mark.parametrize("typed, code", [
    ("", "required"),
    ("   ", "required"),
    (" - . ", "required"),
    ("1234567", "length"),
    ("123456789", "length"),
    ("1234567a", "not_digits"),
    ("abcdefgh", "not_digits"),
    ("١٢٣٤٥٦٧٨", "not_digits"),  # Arabic-Indic digits are digits to Python, not to the KvK
    ("1234_5678", "not_digits"),
    ("1234/5678", "not_digits"),
])
def test_eight_digits_refuses(typed, code):
    with pytest.raises(Invalid) as refused:
        eight_digits(typed)
    assert refused.value.code == code


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.lists(st.sampled_from([" ", ".", "-"]), max_size=6))
def test_separators_never_change_the_digits(digits, separators):
    typed = digits
    for position, separator in enumerate(separators):
        index = position % (len(typed) + 1)
        typed = typed[:index] + separator + typed[index:]
    assert eight_digits(typed) == digits


@given(st.text())
def test_strip_separators_never_fails(text):
    assert not set(strip_separators(text)) & {" ", ".", "-"}


@pytest.mark.parametrize("typed, expected", [
    ("praktijk@example.nl", "praktijk@example.nl"),
    ("  Praktijk@Example.NL ", "praktijk@example.nl"),
    ("j.de.vries+vecozo@zorg-groep.example", "j.de.vries+vecozo@zorg-groep.example"),
    ("İlker@Example.nl", "İlker@example.nl"),  # lower-casing would make it another mailbox
])
def test_email_addresses_accepted(typed, expected):
    assert email_address(typed) == expected


@pytest.mark.parametrize("typed, code", [
    ("", "required"),
    ("   ", "required"),
    ("praktijk", "invalid"),
    ("praktijk@", "invalid"),
    ("@example.nl", "invalid"),
    ("praktijk@example", "invalid"),
    ("prak tijk@example.nl", "invalid"),
    ("praktijk@@example.nl", "invalid"),
    ("<script>@example.nl", "invalid"),
    ("a" * 250 + "@example.nl", "too_long"),
])
def test_email_addresses_refused(typed, code):
    with pytest.raises(Invalid) as refused:
        email_address(typed)
    assert refused.value.code == code
