"""Invitation IDs and reset codes: unguessable, and easy to read out and type."""

from __future__ import annotations

import hashlib
import re
import secrets

# No 0/O, 1/I/L: nothing to confuse when read over the phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_SIZE = 4, 4  # 16 characters: about 79 bits
_SEPARATORS = re.compile(r"[\s\-_.]")


def new_code() -> str:
    """A fresh code such as K7FQ-3QXM-ZP2D-9HRT."""
    chars = [secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE)]
    groups = ["".join(chars[i : i + GROUP_SIZE]) for i in range(0, len(chars), GROUP_SIZE)]
    return "-".join(groups)


def normalise(typed: str) -> str:
    """Upper case with separators dropped."""
    return _SEPARATORS.sub("", typed or "").upper()


def digest(code: str) -> str:
    """What we store: a code is a bearer secret, so only its hash is kept."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def well_formed(typed: str) -> bool:
    text = normalise(typed)
    return len(text) == GROUPS * GROUP_SIZE and all(ch in ALPHABET for ch in text)
