"""Credential ID (token serial number) formats and their normalization.

The prefixes are medium-confidence facts (see DOMAIN.md), so they are data
here and the application may replace them through configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from wizard.domain.identifiers import is_valid_dea, is_valid_npi


class Manufacturer(StrEnum):
    SYMANTEC = "SYMANTEC"
    ONESPAN = "ONESPAN"


# Prefixes of the VIP Access app's Credential IDs accepted for soft tokens.
SOFT_PREFIXES: tuple[str, ...] = ("SYMC", "SYMZ", "SYDC", "VSMT", "VSST")
# Symantec hard tokens: letter prefix then 6 to 12 digits (length unverified).
SYMANTEC_HARD_PREFIXES: tuple[str, ...] = ("AVT", "FT")
SYMANTEC_HARD_DIGITS = (6, 12)
ONESPAN_SERIAL_DIGITS = 10

# People type O for 0 and I or L for 1 when reading a small screen.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")


@dataclass(frozen=True)
class Normalised:
    """The outcome of reading a typed credential ID."""

    value: str | None
    error: str | None = None
    corrected_lookalikes: bool = False


def accepted_soft_forms(prefixes: tuple[str, ...] = SOFT_PREFIXES) -> str:
    names = prefixes[0]
    if len(prefixes) > 1:
        names = ", ".join(prefixes[:-1]) + " or " + prefixes[-1]
    return f"4 letters ({names}) then 8 digits, for example {prefixes[0]}12345678"


def _split_prefix(text: str, prefixes: tuple[str, ...]) -> tuple[str, str] | None:
    for prefix in sorted(prefixes, key=len, reverse=True):
        if text.startswith(prefix):
            return prefix, text[len(prefix) :]
    return None


def _digits(body: str) -> tuple[str, bool]:
    fixed = body.translate(_LOOKALIKES)
    return fixed, fixed != body


def _ascii_digits(text: str) -> bool:
    """str.isdigit alone also passes full-width and superscript digits."""
    return text.isascii() and text.isdigit()


def normalise_soft(typed: str, prefixes: tuple[str, ...] = SOFT_PREFIXES) -> Normalised:
    """Read a VIP Access Credential ID as typed: case, spaces, dashes and O/I/L slips allowed."""
    text = _SEPARATORS.sub("", typed or "").upper()
    if not text:
        return Normalised(None, "Enter the Credential ID shown in the VIP Access app")
    split = _split_prefix(text, prefixes)
    if split is None:
        return Normalised(None, f"A Credential ID starts with {accepted_soft_forms(prefixes)}")
    prefix, body = split
    digits, corrected = _digits(body)
    if not _ascii_digits(digits) or len(digits) != 8:
        return Normalised(
            None,
            f"A Credential ID is 12 characters: {accepted_soft_forms(prefixes)} "
            f"(you entered {len(text)})",
        )
    return Normalised(prefix + digits, None, corrected)


def normalise_onespan(typed: str) -> Normalised:
    """A Digipass GO 6/7 serial: 10 digits, often typed with the printed dashes."""
    text = _SEPARATORS.sub("", typed or "").upper()
    if not text:
        return Normalised(None, "Enter the serial number printed on the back of the token")
    digits, corrected = _digits(text)
    if not _ascii_digits(digits) or len(digits) != ONESPAN_SERIAL_DIGITS:
        return Normalised(
            None,
            f"A OneSpan Digipass serial number is {ONESPAN_SERIAL_DIGITS} digits, "
            "for example 1234567890",
        )
    return Normalised(digits, None, corrected)


def normalise_symantec_hard(typed: str) -> Normalised:
    """A Symantec key fob or card serial: AVT or FT, then 6 to 12 digits."""
    text = _SEPARATORS.sub("", typed or "").upper()
    if not text:
        return Normalised(None, "Enter the serial number printed on the token")
    split = _split_prefix(text, SYMANTEC_HARD_PREFIXES)
    low, high = SYMANTEC_HARD_DIGITS
    message = (
        f"A Symantec token serial number starts with AVT or FT, then {low} to {high} digits, "
        "for example AVT12345678"
    )
    if split is None:
        return Normalised(None, message)
    prefix, body = split
    digits, corrected = _digits(body)
    if not _ascii_digits(digits) or not low <= len(digits) <= high:
        return Normalised(None, message)
    return Normalised(prefix + digits, None, corrected)


def grouped(credential_id: str) -> str:
    """The Credential ID as the app shows it: SYMC 1234 5678."""
    m = re.fullmatch(r"([A-Z]{4})(\d{4})(\d{4})", credential_id)
    return " ".join(m.groups()) if m else credential_id


class LookAlike(StrEnum):
    """What a typed Credential ID or serial number is, going by its shape alone."""

    VIP_APP = "vip-app"  # SYMC…, SYDC…: the VIP Access app's Credential ID
    SYMANTEC_KEY_FOB = "symantec-key-fob"  # AVT…, FT…
    ONESPAN_KEY_FOB = "onespan-key-fob"  # 10 digits
    YUBIKEY = "yubikey"  # UBHE…: a YubiKey's VIP credential
    VIP_HARDWARE = "vip-hardware"  # VSMB…: a VIP hardware HOTP token
    SECURITY_CODE = "security-code"  # the 6-digit code, typed in the wrong box
    NPI = "npi"
    DEA_NUMBER = "dea-number"


# Prefixes of VIP credentials that no path here adds (see DOMAIN.md).
OTHER_VIP_PREFIXES: dict[str, LookAlike] = {
    "UBHE": LookAlike.YUBIKEY,
    "VSMB": LookAlike.VIP_HARDWARE,
}


def recognize(typed: str) -> LookAlike | None:
    """What the typed text looks like, or None when it looks like nothing we know.

    A 10-digit number that passes the NPI check is read as an NPI; any other as a OneSpan
    serial. An FT serial that also passes the DEA check is read as the key fob's serial.
    """
    text = _SEPARATORS.sub("", typed or "").upper()
    if not text:
        return None
    if normalise_soft(text).value:
        return LookAlike.VIP_APP
    if normalise_symantec_hard(text).value:
        return LookAlike.SYMANTEC_KEY_FOB
    for prefix, kind in OTHER_VIP_PREFIXES.items():
        if text.startswith(prefix):
            return kind
    if is_valid_dea(text):
        return LookAlike.DEA_NUMBER
    if _ascii_digits(text) and len(text) == 6:
        return LookAlike.SECURITY_CODE
    if _ascii_digits(text) and len(text) == ONESPAN_SERIAL_DIGITS:
        return LookAlike.NPI if is_valid_npi(text) else LookAlike.ONESPAN_KEY_FOB
    return None
