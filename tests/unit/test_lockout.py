"""The pause schedule and whose attempts count together (wizard/domain/lockout.py)."""

from datetime import timedelta

import pytest

from wizard.domain.lockout import LockPolicy, client_key, duration_words

MINUTE = timedelta(minutes=1)


def test_should_pause_from_the_fifth_failure_doubling_up_to_the_longest():
    policy = LockPolicy(max_failures=5, lock=15 * MINUTE, longest_lock=24 * 60 * MINUTE)
    pauses = [policy.lock_after(n) for n in range(1, 15)]
    assert pauses[:4] == [None] * 4
    assert [p / MINUTE for p in pauses[4:]] == [15, 30, 60, 120, 240, 480, 960, 1440, 1440, 1440]


def test_should_list_the_tiers_until_the_pause_stops_growing():
    policy = LockPolicy(max_failures=5, lock=15 * MINUTE, longest_lock=60 * MINUTE)
    assert policy.tiers() == [(5, 15 * MINUTE), (6, 30 * MINUTE), (7, 60 * MINUTE)]


def test_should_list_one_tier_when_the_first_pause_is_the_longest():
    policy = LockPolicy(max_failures=3, lock=60 * MINUTE, longest_lock=30 * MINUTE)
    assert policy.tiers() == [(3, 30 * MINUTE)]


def test_should_block_for_good_at_the_hard_limit():
    policy = LockPolicy(hard_limit=100)
    assert not policy.blocked_for_good(99)
    assert policy.blocked_for_good(100)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:5:7::1", "2001:db8:5:7::/64"),
        ("2001:db8:5:7:ffff:1:2:3", "2001:db8:5:7::/64"),
        ("2001:DB8:5:8::1", "2001:db8:5:8::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_should_count_an_ipv4_address_or_an_ipv6_64_as_one_client(address, key):
    assert client_key(address) == key


@pytest.mark.parametrize(
    "minutes, words",
    [
        (0.2, "a minute"),
        (1, "a minute"),
        (15, "15 minutes"),
        (60, "an hour"),
        (90, "90 minutes"),
        (120, "2 hours"),
        (24 * 60, "a day"),
        (3 * 24 * 60, "3 days"),
    ],
)
def test_should_say_a_pause_as_a_person_would(minutes, words):
    assert duration_words(minutes * MINUTE) == words


@pytest.mark.parametrize(
    "policy, words",
    [
        (LockPolicy(lock=15 * MINUTE), "15 minutes"),
        (LockPolicy(lock=60 * MINUTE, longest_lock=24 * 60 * MINUTE), "an hour"),
        (LockPolicy(lock=90 * MINUTE, longest_lock=30 * MINUTE), "30 minutes"),
    ],
)
def test_should_name_the_first_pause_the_policy_would_start(policy, words):
    assert policy.first_pause == words
