import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from wizard.domain import otp
from wizard.domain.otp import (
    HOTP_RESYNC_LOOK_AHEAD,
    Algorithm,
    OathSecret,
    Outcome,
    Verdict,
    clean_code,
    code_at,
    code_error,
    judge,
    new_secret,
    provisioning_uri,
    seconds_left,
    time_step,
)

# The shared secret of RFC 4226 appendix D and RFC 6238 appendix B (SHA1).
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
TOTP = OathSecret(RFC_SECRET)
HOTP = OathSecret(RFC_SECRET, Algorithm.HOTP)

# 2005-03-18 01:58:29 UTC, one second before a step boundary; step 37037036.
NOW = datetime.fromtimestamp(1111111109, UTC)
NOW_STEP = 37037036


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(
    "counter, code",
    list(
        enumerate(
            ["755224", "287082", "359152", "969429", "338314"]
            + ["254676", "287922", "162583", "399871", "520489"]
        )
    ),
)
def test_should_compute_rfc_4226_hotp_test_vectors(counter, code):
    assert code_at(HOTP, counter) == code


@pytest.mark.parametrize(
    "seconds, code",
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_should_compute_rfc_6238_sha1_totp_test_vectors(seconds, code):
    eight_digits = OathSecret(RFC_SECRET, digits=8)

    assert code_at(eight_digits, time_step(at(seconds))) == code


@pytest.mark.parametrize(
    "seconds, period, step",
    [
        (0, 30, 0),
        (29, 30, 0),
        (30, 30, 1),
        (59, 30, 1),
        (1111111109, 30, 37037036),
        (1111111111, 30, 37037037),
        (119, 60, 1),
        (120, 60, 2),
    ],
)
def test_should_count_time_steps_from_the_epoch(seconds, period, step):
    assert time_step(at(seconds), period) == step


def test_should_ignore_fractions_of_a_second_in_time_step():
    assert time_step(at(59) + timedelta(milliseconds=999)) == 1


def test_should_count_time_steps_in_utc_whatever_the_time_zone():
    eastern = NOW.astimezone(timezone(timedelta(hours=-5)))

    assert time_step(eastern) == NOW_STEP


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_should_accept_totp_code_within_one_step_of_now(offset):
    code = code_at(TOTP, NOW_STEP + offset)

    assert judge(TOTP, code, NOW, None) == Verdict(Outcome.ACCEPTED, NOW_STEP + offset)


@pytest.mark.parametrize("seconds", [-30, 30])
def test_should_accept_the_current_code_from_a_clock_30_seconds_out(seconds):
    code = code_at(TOTP, NOW_STEP)

    assert judge(TOTP, code, NOW + timedelta(seconds=seconds), None).accepted


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_cant_accept_totp_code_two_or_more_steps_from_now(offset):
    code = code_at(TOTP, NOW_STEP + offset)

    assert judge(TOTP, code, NOW, None) == Verdict(Outcome.WRONG)


def test_should_accept_rfc_6238_code_at_its_own_time():
    # RFC 6238 gives 8 digits; a 6-digit token shows the last six.
    assert judge(TOTP, "081804", NOW, None) == Verdict(Outcome.ACCEPTED, NOW_STEP)


def test_cant_accept_a_code_that_matches_no_step():
    assert judge(TOTP, "000000", NOW, None) == Verdict(Outcome.WRONG)


@pytest.mark.parametrize(
    "offset, last_offset",
    [
        (0, 0),
        (-1, -1),
        (-1, 0),
        (0, 1),
        (1, 1),
    ],
)
def test_should_refuse_totp_code_whose_step_was_already_used(offset, last_offset):
    code = code_at(TOTP, NOW_STEP + offset)

    verdict = judge(TOTP, code, NOW, NOW_STEP + last_offset)

    assert verdict == Verdict(Outcome.REUSED, NOW_STEP + offset)
    assert not verdict.accepted


@pytest.mark.parametrize("offset, last_offset", [(0, -1), (1, 0), (1, -1), (0, -5)])
def test_should_accept_totp_code_for_a_step_after_the_last_one_used(offset, last_offset):
    code = code_at(TOTP, NOW_STEP + offset)

    assert judge(TOTP, code, NOW, NOW_STEP + last_offset) == Verdict(
        Outcome.ACCEPTED, NOW_STEP + offset
    )


@pytest.mark.parametrize(
    "code, reason",
    [
        ("", "empty"),
        ("08180", "too short"),
        ("0818040", "too long"),
        ("081 804", "not cleaned"),
        ("08180a", "a letter"),
        ("０８１８０４", "full-width digits"),
        ("٠٨١٨٠٤", "Arabic-Indic digits"),
    ],
)
def test_cant_accept_malformed_code(code, reason):
    assert judge(TOTP, code, NOW, None) == Verdict(Outcome.WRONG), reason


def test_should_judge_codes_of_the_secrets_own_length():
    eight_digits = OathSecret(RFC_SECRET, digits=8)

    assert judge(eight_digits, "07081804", NOW, None).accepted
    assert judge(eight_digits, "081804", NOW, None) == Verdict(Outcome.WRONG)


def test_should_use_the_secrets_period():
    sixty = OathSecret(RFC_SECRET, period=60)
    step = time_step(NOW, 60)

    assert judge(sixty, code_at(sixty, step + 1), NOW, None) == Verdict(Outcome.ACCEPTED, step + 1)
    assert judge(sixty, code_at(sixty, step + 2), NOW, None) == Verdict(Outcome.WRONG)


@pytest.mark.parametrize("counter", range(10))
def test_should_accept_first_ten_hotp_counters_of_a_new_token(counter):
    assert judge(HOTP, code_at(HOTP, counter), NOW, None) == Verdict(Outcome.ACCEPTED, counter)


def test_cant_accept_hotp_counter_eleven_ahead_of_a_new_token():
    # A new token's last counter is taken as -1, so counter 10 is eleven ahead.
    assert judge(HOTP, "403154", NOW, None) == Verdict(Outcome.WRONG)


@pytest.mark.parametrize("ahead", [1, 2, 9, 10])
def test_should_accept_hotp_counter_up_to_ten_ahead_of_the_last(ahead):
    code = code_at(HOTP, 5 + ahead)

    assert judge(HOTP, code, NOW, 5) == Verdict(Outcome.ACCEPTED, 5 + ahead)


@pytest.mark.parametrize("ahead", [11, 12, 20])
def test_cant_accept_hotp_counter_more_than_ten_ahead_of_the_last(ahead):
    code = code_at(HOTP, 5 + ahead)

    assert judge(HOTP, code, NOW, 5) == Verdict(Outcome.WRONG)


@pytest.mark.parametrize("counter", [0, 3, 4, 5])
def test_should_refuse_hotp_counter_at_or_below_the_last(counter):
    assert judge(HOTP, code_at(HOTP, counter), NOW, 5) == Verdict(Outcome.REUSED, counter)


def test_should_call_hotp_counter_far_below_the_last_wrong():
    # Only the look-ahead's width below the last counter is searched.
    assert judge(HOTP, code_at(HOTP, 9), NOW, 20) == Verdict(Outcome.WRONG)


def test_should_accept_hotp_with_a_wider_resync_look_ahead():
    code = code_at(HOTP, 60)

    assert judge(HOTP, code, NOW, 5) == Verdict(Outcome.WRONG)
    assert judge(HOTP, code, NOW, 5, look_ahead=HOTP_RESYNC_LOOK_AHEAD) == Verdict(
        Outcome.ACCEPTED, 60
    )


def test_should_ignore_the_clock_for_hotp():
    code = code_at(HOTP, 3)

    assert judge(HOTP, code, at(0), 2) == judge(HOTP, code, at(2000000000), 2)


def test_should_prefer_the_highest_matching_step(monkeypatch):
    # If a code matches several candidates, the newest wins, so a code that is
    # also valid ahead is not mistaken for a replay.
    monkeypatch.setattr(otp, "code_at", lambda oath, step: "123456")

    assert judge(TOTP, "123456", NOW, NOW_STEP) == Verdict(Outcome.ACCEPTED, NOW_STEP + 1)
    assert judge(HOTP, "123456", NOW, 5) == Verdict(Outcome.ACCEPTED, 15)


def test_should_mark_only_accepted_verdicts_accepted():
    assert Verdict(Outcome.ACCEPTED, 1).accepted
    assert not Verdict(Outcome.WRONG).accepted
    assert not Verdict(Outcome.REUSED, 1).accepted
    assert not Verdict(Outcome.UNKNOWN).accepted


@pytest.mark.parametrize(
    "typed, cleaned",
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        ("123-456", "123456"),
        (" 12 34-56\n", "123456"),
        ("12a456", "12a456"),
        ("", ""),
        (None, ""),
    ],
)
def test_should_strip_spaces_and_dashes_from_code(typed, cleaned):
    assert clean_code(typed) == cleaned


@pytest.mark.parametrize(
    "code, digits, message",
    [
        ("", 6, "Enter the security code"),
        ("12a456", 6, "The security code is numbers only"),
        ("123 456", 6, "The security code is numbers only"),
        ("-12345", 6, "The security code is numbers only"),
        ("１２３４５６", 6, "The security code is numbers only"),
        ("²²²²²²", 6, "The security code is numbers only"),
        ("12345", 6, "The security code is 6 digits"),
        ("1234567", 6, "The security code is 6 digits"),
        ("123456", 8, "The security code is 8 digits"),
        ("123456", 6, None),
        ("012345", 6, None),
        ("12345678", 8, None),
    ],
)
def test_should_explain_what_is_wrong_with_a_code(code, digits, message):
    assert code_error(code, digits) == message


@pytest.mark.parametrize(
    "seconds, period, left",
    [
        (0, 30, 30),
        (1, 30, 29),
        (29, 30, 1),
        (30, 30, 30),
        (59, 30, 1),
        (1111111109, 30, 1),
        (1111111111, 30, 29),
        (45, 60, 15),
    ],
)
def test_should_count_seconds_until_the_code_changes(seconds, period, left):
    assert seconds_left(at(seconds), period) == left


def test_should_make_a_160_bit_base32_secret():
    secret = new_secret()

    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20


def test_should_make_a_different_secret_each_time():
    assert len({new_secret() for _ in range(20)}) == 20


def test_should_make_totp_provisioning_uri_with_issuer():
    uri = provisioning_uri(TOTP, "dr.jones@example.org", "DRFIRST")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)

    assert uri.startswith("otpauth://totp/")
    assert "dr.jones%40example.org" in parts.path
    assert query["secret"] == [RFC_SECRET]
    assert query["issuer"] == ["DRFIRST"]


def test_should_carry_non_default_digits_and_period_in_provisioning_uri():
    query = parse_qs(
        urlsplit(provisioning_uri(OathSecret(RFC_SECRET, digits=8, period=60), "a", "X")).query
    )

    assert query["digits"] == ["8"]
    assert query["period"] == ["60"]


def test_should_make_hotp_provisioning_uri_starting_at_counter_zero():
    uri = provisioning_uri(HOTP, "card", "DRFIRST")
    query = parse_qs(urlsplit(uri).query)

    assert uri.startswith("otpauth://hotp/")
    assert query["counter"] == ["0"]
    assert query["issuer"] == ["DRFIRST"]


# --- The first time step not used yet (sandbox fresh codes, issue 12) --------------------------

SANDBOX_START = datetime(2025, 3, 3, 15, 0, 0, tzinfo=UTC)  # on a 30-second boundary
SANDBOX_STEP = time_step(SANDBOX_START)


@pytest.mark.parametrize("into", [0, 1, 17, 29])
@pytest.mark.parametrize("last_step", [None, SANDBOX_STEP - 1, SANDBOX_STEP - 40])
def test_the_current_step_is_first_unused_when_it_was_not_used(into, last_step):
    now = SANDBOX_START + timedelta(seconds=into)
    assert otp.first_unused_step(now, 30, last_step) == (SANDBOX_STEP, 0.0)


@pytest.mark.parametrize("into", [0, 1, 17, 29.5])
def test_a_used_current_step_means_waiting_for_the_next_at_most_one_period(into):
    now = SANDBOX_START + timedelta(seconds=into)
    step, wait = otp.first_unused_step(now, 30, SANDBOX_STEP)
    assert step == SANDBOX_STEP + 1
    assert wait == pytest.approx(30 - into) and 0 < wait <= 30


def test_a_used_next_step_means_waiting_for_the_one_after():
    step, wait = otp.first_unused_step(SANDBOX_START + timedelta(seconds=10), 30, SANDBOX_STEP + 1)
    assert (step, wait) == (SANDBOX_STEP + 2, pytest.approx(50))
