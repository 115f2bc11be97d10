"""Issue 13: passphrases hashed with OWASP's 7 MiB argon2id, older hashes still verifying, and
the unknown-NPI hash made with the hasher's own parameters."""

from __future__ import annotations

import pytest
from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from argon2.exceptions import VerifyMismatchError

from wizard.domain.hashing import new_hasher, unknown_hash

PASSPHRASE = "plum river lantern 42"


def parameters_of(hasher: PasswordHasher) -> Parameters:
    return Parameters(
        type=hasher.type,
        version=19,
        salt_len=hasher.salt_len,
        hash_len=hasher.hash_len,
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )


def test_should_hash_new_passphrases_with_argon2id_at_7_mib_and_5_passes():
    made = extract_parameters(new_hasher().hash(PASSPHRASE))

    assert made.type is Type.ID
    assert (made.memory_cost, made.time_cost, made.parallelism) == (7168, 7, 1)
    assert (made.salt_len, made.hash_len) == (16, 32)


def test_should_still_verify_a_19_mib_hash_and_ask_for_a_new_one():
    older = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(PASSPHRASE)
    hasher = new_hasher()

    assert hasher.verify(older, PASSPHRASE)
    assert hasher.check_needs_rehash(older)
    assert not hasher.check_needs_rehash(hasher.hash(PASSPHRASE))


@pytest.mark.parametrize("cheap", [False, True], ids=["production", "tests' cheap profile"])
def test_should_make_the_unknown_hash_with_the_hashers_own_parameters(cheap):
    hasher = new_hasher(cheap=cheap)
    dummy = unknown_hash(hasher)

    assert extract_parameters(dummy) == parameters_of(hasher)
    assert not hasher.check_needs_rehash(dummy)
    # A well-formed hash: verifying runs argon2 in full and answers "no match".
    with pytest.raises(VerifyMismatchError):
        hasher.verify(dummy, PASSPHRASE)


def test_cant_predict_the_unknown_hash():
    hasher = new_hasher(cheap=True)

    assert unknown_hash(hasher) != unknown_hash(hasher)
