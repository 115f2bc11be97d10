"""How passphrases are hashed: argon2id, and the hash verified when there is no account."""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher, profiles
from argon2.low_level import ARGON2_VERSION

# OWASP's Password Storage Cheat Sheet lists five argon2id settings as an equal defense,
# trading passes for memory (46 MiB x 1 pass ... 7 MiB x 5 passes). We take its 7 MiB row,
# which keeps each sync worker's peak memory low, with 7 passes instead of 5: a check then
# takes as long as one at the 19 MiB x 2 used before, so an account whose hash is not yet
# replaced is refused in the same time as an unknown NPI (no sign of who has an account).
TIME_COST = 7
MEMORY_COST_KIB = 7 * 1024
PARALLELISM = 1


def new_hasher(*, cheap: bool = False) -> PasswordHasher:
    """The hasher for new passphrases. cheap: tests only (hashing speed, not strength).

    A hash made with other parameters still verifies; the sign-in that verifies it stores a
    new one (PasswordHasher.check_needs_rehash)."""
    if cheap:
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")  # argon2's encoding: no padding


def unknown_hash(hasher: PasswordHasher) -> str:
    """A hash with hasher's parameters whose passphrase nobody knows: a random salt and a
    random digest. Verifying a passphrase against it costs what verifying a real one does,
    and nothing is hashed to make it."""
    return (
        f"$argon2{hasher.type.name.lower()}$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${_b64(secrets.token_bytes(hasher.salt_len))}${_b64(secrets.token_bytes(hasher.hash_len))}"
    )
