"""NPI and DEA registration number checks."""

from __future__ import annotations

import re

from stdnum import luhn

_NPI = re.compile(r"\d{10}")
_DEA = re.compile(r"[A-Z][A-Z9][0-9]{7}")  # [0-9], not \d: ASCII digits only
# An NPI's Luhn check digit is computed as if the number were prefixed by the
# ISO health-card issuer identifier 80840.
_NPI_PREFIX = "80840"


def clean_npi(value: str) -> str:
    """Drop the spaces and dashes people type inside an NPI."""
    return re.sub(r"[\s-]", "", value or "")


def is_valid_npi(value: str) -> bool:
    """True when value is 10 digits starting with 1 or 2 whose Luhn check passes."""
    if not _NPI.fullmatch(value or "") or value[0] not in "12":
        return False
    return luhn.is_valid(_NPI_PREFIX + value)


def clean_dea(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def is_valid_dea(value: str) -> bool:
    """True for 2 letters + 7 digits whose last digit is the DEA check digit."""
    if not _DEA.fullmatch(value or ""):
        return False
    d = [int(c) for c in value[2:]]
    check = (d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])
    return check % 10 == d[6]
