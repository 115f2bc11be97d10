from dataclasses import dataclass

import pytest

from wizard.domain.tokens import (
    NICKNAME_MAX,
    PLATFORMS,
    active,
    is_last_active,
    needs_backup,
    suggest_nickname,
)


@pytest.mark.parametrize(
    "active_tokens, needed",
    [
        (0, True),
        (1, True),
        (2, False),
        (5, False),
    ],
)
def test_should_recommend_a_backup_until_there_are_two_active_tokens(active_tokens, needed):
    assert needs_backup(active_tokens) is needed


@pytest.mark.parametrize(
    "platform, nickname",
    [
        ("iphone", "iPhone VIP Access"),
        ("android", "Android VIP Access"),
        ("windows", "Windows VIP Access"),
        ("mac", "Mac VIP Access"),
        ("", "VIP Access"),
        ("blackberry", "VIP Access"),
    ],
)
def test_should_suggest_the_devices_name_for_a_first_token(platform, nickname):
    assert suggest_nickname(platform, set()) == nickname


@pytest.mark.parametrize(
    "taken, nickname",
    [
        ({"Android VIP Access"}, "iPhone VIP Access"),
        ({"iPhone VIP Access"}, "iPhone VIP Access 2"),
        ({"iphone vip access"}, "iPhone VIP Access 2"),
        ({"IPHONE VIP ACCESS"}, "iPhone VIP Access 2"),
        ({"iPhone VIP Access", "iPhone VIP Access 2"}, "iPhone VIP Access 3"),
        ({"iPhone VIP Access", "IPHONE VIP ACCESS 2"}, "iPhone VIP Access 3"),
        ({"iPhone VIP Access", "iPhone VIP Access 3"}, "iPhone VIP Access 2"),
        ({"iPhone VIP Access 2"}, "iPhone VIP Access"),
        (
            {"iPhone VIP Access", "iPhone VIP Access 2", "iPhone VIP Access 3"},
            "iPhone VIP Access 4",
        ),
    ],
)
def test_should_make_the_suggested_nickname_unique_ignoring_case(taken, nickname):
    assert suggest_nickname("iphone", taken) == nickname


def test_should_make_the_fallback_nickname_unique_too():
    assert suggest_nickname("unknown", {"vip access"}) == "VIP Access 2"


def test_should_not_change_the_taken_names():
    taken = {"iPhone VIP Access"}

    suggest_nickname("iphone", taken)

    assert taken == {"iPhone VIP Access"}


@pytest.mark.parametrize("key", list(PLATFORMS))
def test_should_suggest_nicknames_that_fit_the_nickname_field(key):
    assert len(suggest_nickname(key, {PLATFORMS[key].nickname})) <= NICKNAME_MAX


@pytest.mark.parametrize("key, platform", PLATFORMS.items())
def test_should_key_each_platform_by_its_own_key_with_an_https_link_for_apps(key, platform):
    assert platform.key == key
    if platform.hard:
        assert platform.url == "" and platform.token_type == "OTP HARD TOKEN"
    else:
        assert platform.url.startswith("https://") and platform.token_type == "OTP SOFT TOKEN"


def test_should_offer_apps_before_key_fobs_in_the_choice_labels():
    assert PLATFORMS["iphone"].choice == "VIP Access app on an iPhone or iPad"
    assert PLATFORMS["android"].choice == "VIP Access app on an Android phone or tablet"
    assert PLATFORMS["onespan"].choice == "OneSpan Digipass GO 6 or GO 7 key fob"


@dataclass(frozen=True)
class Held:
    name: str
    status: str


PHONE = Held("phone", "Active")
FOB = Held("fob", "Active")
OLD = Held("old", "Inactive")
GONE = Held("gone", "Suspended")


def test_should_count_only_active_tokens():
    assert active([PHONE, OLD, GONE, FOB]) == [PHONE, FOB]


@pytest.mark.parametrize(
    "token, held, last",
    [
        (PHONE, [PHONE, OLD, GONE], True),
        (PHONE, [PHONE, FOB], False),
        (OLD, [PHONE, OLD], False),
        (OLD, [OLD], False),
        (PHONE, [], False),
    ],
)
def test_should_tell_the_last_active_token(token, held, last):
    assert is_last_active(token, held) is last
