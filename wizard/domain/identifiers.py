"""NPI and DEA registration number checks."""

from __future__ import annotations

import re
from enum import StrEnum

_NPI = re.compile(r"[0-9]{10}")  # ASCII digits only
_DEA = re.compile(r"[A-Z][A-Z9][0-9]{7}")  # [0-9], not \d: ASCII digits only
# An NPI's Luhn check digit is computed as if the number were prefixed by the
# ISO health-card issuer identifier 80840.
_NPI_PREFIX = "80840"


def _luhn_remainder(digits: str) -> int:
    """The Luhn sum mod 10: from the right, every second digit doubled (its digits summed)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10


def npi_check_digit(first_nine: str) -> str:
    """The tenth digit that makes first_nine a well-formed NPI."""
    if not re.fullmatch(r"[0-9]{9}", first_nine):
        raise ValueError("an NPI's first nine characters are digits")
    return str(-_luhn_remainder(_NPI_PREFIX + first_nine + "0") % 10)


def clean_npi(value: str) -> str:
    """Drop the spaces and dashes people type inside an NPI."""
    return re.sub(r"[\s-]", "", value or "")


class NpiProblem(StrEnum):
    """Why a cleaned NPI cannot be one."""

    NOT_TEN_DIGITS = "not-ten-digits"
    FIRST_DIGIT = "first-digit"  # NPIs start with 1 or 2
    CHECK_DIGIT = "check-digit"  # the last digit does not match the other nine


def npi_problem(value: str) -> NpiProblem | None:
    """What is wrong with a cleaned NPI, or None when it is well formed."""
    if not _NPI.fullmatch(value or ""):
        return NpiProblem.NOT_TEN_DIGITS
    if value[0] not in "12":
        return NpiProblem.FIRST_DIGIT
    if _luhn_remainder(_NPI_PREFIX + value):
        return NpiProblem.CHECK_DIGIT
    return None


def is_valid_npi(value: str) -> bool:
    """True when value is 10 digits starting with 1 or 2 whose Luhn check passes."""
    return npi_problem(value) is None


def clean_dea(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def is_valid_dea(value: str) -> bool:
    """True for 2 letters + 7 digits whose last digit is the DEA check digit."""
    if not _DEA.fullmatch(value or ""):
        return False
    d = [int(c) for c in value[2:]]
    check = (d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])
    return check % 10 == d[6]
