import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn  # an independent Luhn: the wizard's own is checked against it

from wizard.domain.identifiers import (
    NpiProblem,
    clean_dea,
    clean_npi,
    is_valid_dea,
    is_valid_npi,
    npi_check_digit,
    npi_problem,
)


@pytest.mark.parametrize(
    "typed, cleaned",
    [
        ("1234567893", "1234567893"),
        ("123 456 7893", "1234567893"),
        ("1234-567-893", "1234567893"),
        ("\t1234567893\n", "1234567893"),
        (" 12-34 56-78 93 ", "1234567893"),
        ("", ""),
        (None, ""),
    ],
)
def test_should_strip_spaces_and_dashes_from_npi(typed, cleaned):
    assert clean_npi(typed) == cleaned


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_should_accept_valid_npi(npi):
    assert is_valid_npi(npi)


def test_should_accept_npi_once_cleaned():
    assert is_valid_npi(clean_npi("1234-567 893"))


@pytest.mark.parametrize(
    "npi, reason",
    [
        ("1234567890", "check digit does not match"),
        ("1245319598", "check digit does not match"),
        ("123456789", "nine digits"),
        ("12345678931", "eleven digits"),
        ("12345678a3", "a letter"),
        ("ABCDEFGHIJ", "letters only"),
        ("1234 567893", "not cleaned"),
        ("", "empty"),
        (None, "missing"),
        ("1٢٣٤٥٦٧٨٩٣", "non-ASCII digits"),
    ],
)
def test_cant_accept_invalid_npi(npi, reason):
    assert not is_valid_npi(npi), reason


@pytest.mark.parametrize("npi", ["3234567899", "0234567895", "9234567896"])
def test_cant_accept_npi_whose_first_digit_is_not_1_or_2(npi):
    # These pass the Luhn check, so only the first-digit rule can reject them.
    assert luhn.is_valid("80840" + npi)
    assert not is_valid_npi(npi)


@pytest.mark.parametrize(
    "typed, cleaned",
    [
        ("AB1234563", "AB1234563"),
        ("ab1234563", "AB1234563"),
        ("bj 612-5341", "BJ6125341"),
        (" Ab1234563\n", "AB1234563"),
        ("", ""),
        (None, ""),
    ],
)
def test_should_clean_dea_to_upper_case_without_separators(typed, cleaned):
    assert clean_dea(typed) == cleaned


@pytest.mark.parametrize("dea", ["AB1234563", "BJ6125341", "A91234563"])
def test_should_accept_valid_dea_number(dea):
    assert is_valid_dea(dea)


def test_should_accept_lower_case_dea_number_once_cleaned():
    assert is_valid_dea(clean_dea("bj6125341"))


@pytest.mark.parametrize(
    "dea, reason",
    [
        ("AB1234564", "check digit does not match"),
        ("BJ6125340", "check digit does not match"),
        ("AB123456", "six digits"),
        ("AB12345634", "eight digits"),
        ("1B1234563", "starts with a digit"),
        ("A11234563", "second character a digit other than 9"),
        ("ABC234563", "three letters"),
        ("A1234563", "one letter"),
        ("ab1234563", "lower case, not cleaned"),
        ("AB 1234563", "not cleaned"),
        ("AB١٢٣٤٥٦٣", "non-ASCII digits"),
        ("", "empty"),
        (None, "missing"),
    ],
)
def test_cant_accept_invalid_dea_number(dea, reason):
    assert not is_valid_dea(dea), reason


@pytest.mark.parametrize(
    "npi, problem",
    [
        ("1234567893", None),
        ("1234567890", NpiProblem.CHECK_DIGIT),
        ("1245319598", NpiProblem.CHECK_DIGIT),
        ("3234567899", NpiProblem.FIRST_DIGIT),
        ("123456789", NpiProblem.NOT_TEN_DIGITS),
        ("12345678a3", NpiProblem.NOT_TEN_DIGITS),
        ("1٢٣٤٥٦٧٨٩٣", NpiProblem.NOT_TEN_DIGITS),
        ("", NpiProblem.NOT_TEN_DIGITS),
    ],
)
def test_should_name_what_is_wrong_with_an_npi(npi, problem):
    assert npi_problem(npi) is problem


@given(st.from_regex(r"[12][0-9]{8}", fullmatch=True))
def test_should_complete_nine_digits_with_the_check_digit_of_an_npi(first_nine):
    assert npi_check_digit(first_nine) == luhn.calc_check_digit("80840" + first_nine)
    assert is_valid_npi(first_nine + npi_check_digit(first_nine))


@given(st.from_regex(r"[12][0-9]{9}", fullmatch=True))
def test_should_accept_an_npi_exactly_when_its_luhn_check_passes(npi):
    assert is_valid_npi(npi) == luhn.is_valid("80840" + npi)


@pytest.mark.parametrize("first_nine", ["12345678", "1234567890", "12345678x", "1٢٣٤٥٦٧٨٩", ""])
def test_cant_compute_a_check_digit_of_anything_but_nine_ascii_digits(first_nine):
    with pytest.raises(ValueError):
        npi_check_digit(first_nine)
