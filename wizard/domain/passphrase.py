"""Passphrase rules after NIST SP 800-63B: length, any characters, no common ones.

No composition rules (no "one digit and one symbol"): length and a block list
do more for security and less harm to memorability.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MIN_LENGTH = 12
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    # zxcvbn ships the most common passwords of public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(passphrase: str) -> str:
    """NFKC, as NIST asks, so the same passphrase typed on two keyboards matches."""
    return unicodedata.normalize("NFKC", passphrase)


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def problem(passphrase: str, *, npi: str = "", name: str = "") -> str | None:
    """Why a new passphrase is refused, in words for the prescriber; None when it is fine."""
    value = normalise(passphrase or "")
    if not value:
        return "Enter a passphrase"
    if len(value) < MIN_LENGTH:
        return f"Your passphrase must be at least {MIN_LENGTH} characters"
    if len(value) > MAX_LENGTH:
        return f"Your passphrase must be {MAX_LENGTH} characters or fewer"
    squashed = _squashed(value)
    if squashed in _common() or len(set(squashed)) < 4:
        return "This passphrase is too common. Choose a passphrase that others would not guess"
    if npi and npi in value:
        return "Your passphrase must not contain your NPI"
    parts = [_squashed(part) for part in (name or "").split()]
    whole = _squashed(name or "")
    if squashed and any(squashed == part for part in [whole, *parts] if len(part) >= 4):
        return "Your passphrase must not be your name"
    return None
