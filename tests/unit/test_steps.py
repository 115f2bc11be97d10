import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wizard.domain.steps import (
    ORDER,
    TITLES,
    Backup,
    Progress,
    Step,
    advance,
    allowed,
    caption,
    code_is_fresh,
    may_show,
    number,
    place,
    titles,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def verified(ago: timedelta) -> float:
    return (NOW - ago).timestamp()


NEW = Progress()
PLATFORM_ONLY = Progress(platform="iphone")
CONFIRMED_ONLY = Progress(device_confirmed=True)
DEVICE_READY = Progress(platform="iphone", device_confirmed=True)
CREDENTIAL_GIVEN = replace(DEVICE_READY, credential_id="SYMC26070843")
VERIFIED = replace(CREDENTIAL_GIVEN, verified_at=verified(timedelta(minutes=1)))
VERIFIED_LONG_AGO = replace(CREDENTIAL_GIVEN, verified_at=verified(timedelta(minutes=11)))
SAVED = replace(VERIFIED, nickname="iPhone VIP Access", token_id=7)


@pytest.mark.parametrize(
    "progress, step",
    [
        (NEW, Step.GET_APP),
        (PLATFORM_ONLY, Step.GET_APP),
        (CONFIRMED_ONLY, Step.GET_APP),
        (DEVICE_READY, Step.CREDENTIAL_ID),
        (CREDENTIAL_GIVEN, Step.SECURITY_CODE),
        (VERIFIED, Step.NAME),
        (VERIFIED_LONG_AGO, Step.SECURITY_CODE),
        (SAVED, Step.DONE),
    ],
)
def test_should_allow_up_to_the_step_the_progress_has_earned(progress, step):
    assert allowed(progress, NOW) is step


def test_cant_reach_name_with_a_verified_code_but_no_credential_id():
    progress = replace(DEVICE_READY, verified_at=verified(timedelta(minutes=1)))

    assert allowed(progress, NOW) is Step.CREDENTIAL_ID


@pytest.mark.parametrize("token_id", [0, 1, 42])
def test_should_allow_only_done_once_the_token_is_saved(token_id):
    # Even id 0, which is falsy, counts as saved.
    progress = replace(NEW, token_id=token_id)

    assert allowed(progress, NOW) is Step.DONE


@pytest.mark.parametrize(
    "ago, fresh",
    [
        (timedelta(0), True),
        (timedelta(minutes=9, seconds=59), True),
        (timedelta(minutes=10), True),
        (timedelta(minutes=10, seconds=1), False),
        (timedelta(hours=3), False),
        (timedelta(seconds=-1), False),
    ],
)
def test_should_keep_a_verified_code_fresh_for_ten_minutes(ago, fresh):
    progress = replace(CREDENTIAL_GIVEN, verified_at=verified(ago))

    assert code_is_fresh(progress, NOW) is fresh
    assert allowed(progress, NOW) is (Step.NAME if fresh else Step.SECURITY_CODE)


def test_cant_be_fresh_without_a_verified_code():
    assert code_is_fresh(CREDENTIAL_GIVEN, NOW) is False


def test_should_send_the_prescriber_back_to_the_code_as_time_passes():
    assert allowed(VERIFIED, NOW) is Step.NAME
    assert allowed(VERIFIED, NOW + timedelta(minutes=10)) is Step.SECURITY_CODE


@pytest.mark.parametrize(
    "progress, shown",
    [
        (NEW, {Step.GET_APP}),
        (DEVICE_READY, {Step.GET_APP, Step.CREDENTIAL_ID}),
        (CREDENTIAL_GIVEN, {Step.GET_APP, Step.CREDENTIAL_ID, Step.SECURITY_CODE}),
        (VERIFIED, {Step.GET_APP, Step.CREDENTIAL_ID, Step.SECURITY_CODE, Step.NAME}),
        (VERIFIED_LONG_AGO, {Step.GET_APP, Step.CREDENTIAL_ID, Step.SECURITY_CODE}),
        (SAVED, {Step.DONE}),
    ],
)
def test_should_show_earlier_steps_until_saved_and_then_only_done(progress, shown):
    assert {step for step in Step if may_show(progress, step, NOW)} == shown


def test_should_start_a_new_progress_at_the_first_step():
    progress = Progress()

    assert progress.furthest == Step.GET_APP
    assert progress.backup == Backup.NONE
    assert progress.verified_at is None
    assert progress.token_id is None
    assert progress.is_backup_run is False


def test_should_ignore_unknown_keys_in_progress_from_dict():
    progress = Progress.from_dict(
        {"platform": "android", "one_time_pin": "123456", "unknown": 1, "device_confirmed": True}
    )

    assert progress == Progress(platform="android", device_confirmed=True)
    assert "one_time_pin" not in progress.to_dict()


@pytest.mark.parametrize("data", [None, {}])
def test_should_make_a_new_progress_from_nothing(data):
    assert Progress.from_dict(data) == Progress()


def test_should_round_trip_progress_through_a_dict():
    progress = replace(
        SAVED, backup=Backup.DECLINED, furthest=Step.DONE, is_backup_run=True, token_id=3
    )

    assert Progress.from_dict(progress.to_dict()) == progress


def test_should_round_trip_progress_through_json():
    progress = replace(VERIFIED, backup=Backup.SHOWN, furthest=Step.NAME)

    assert Progress.from_dict(json.loads(json.dumps(progress.to_dict()))) == progress


@pytest.mark.parametrize(
    "start, reached, furthest",
    [
        (Step.GET_APP, Step.CREDENTIAL_ID, Step.CREDENTIAL_ID),
        (Step.GET_APP, Step.NAME, Step.NAME),
        (Step.SECURITY_CODE, Step.NAME, Step.NAME),
        (Step.NAME, Step.CREDENTIAL_ID, Step.NAME),
        (Step.NAME, Step.NAME, Step.NAME),
        (Step.DONE, Step.GET_APP, Step.DONE),
    ],
)
def test_should_only_move_furthest_forward(start, reached, furthest):
    progress = Progress(furthest=start)

    advance(progress, reached)

    assert progress.furthest == furthest


def test_should_advance_from_a_furthest_read_back_as_plain_text():
    progress = Progress.from_dict({"furthest": "security-code"})

    advance(progress, Step.CREDENTIAL_ID)
    assert progress.furthest == "security-code"

    advance(progress, Step.NAME)
    assert progress.furthest == "name"


@pytest.mark.parametrize(
    "step, n",
    [
        (Step.GET_APP, 1),
        (Step.CREDENTIAL_ID, 2),
        (Step.SECURITY_CODE, 3),
        (Step.NAME, 4),
        (Step.DONE, 5),
    ],
)
def test_should_number_steps_from_one(step, n):
    assert number(step) == n


def test_should_order_steps_as_the_wizard_runs():
    assert [step.value for step in ORDER] == [
        "get-app",
        "credential-id",
        "security-code",
        "name",
        "done",
    ]


def test_should_title_every_step():
    assert set(TITLES) == set(Step)
    assert all(TITLES.values())


def test_should_title_a_key_fobs_second_step_for_its_serial_number():
    assert titles(key_fob=True)[Step.CREDENTIAL_ID] == "Find the serial number"
    assert titles()[Step.CREDENTIAL_ID] == "Find your Credential ID"
    others = [s for s in Step if s is not Step.CREDENTIAL_ID]
    assert [titles(key_fob=True)[s] for s in others] == [TITLES[s] for s in others]


@pytest.mark.parametrize(
    "step, words",
    [
        (Step.GET_APP, "Step 1 of 5"),
        (Step.SECURITY_CODE, "Step 3 of 5"),
        (Step.DONE, "Step 5 of 5"),
    ],
)
def test_should_caption_a_step_with_its_place_in_the_step_list(step, words):
    assert caption(step) == words
    assert place(step) == words.removeprefix("Step ")
    assert caption(step).endswith(f"of {len(ORDER)}")


def test_should_start_a_backup_run_from_the_first_step_naming_the_first_device():
    progress = replace(SAVED, backup=Backup.SHOWN, furthest=Step.DONE)

    fresh = progress.for_backup()

    assert fresh == Progress(is_backup_run=True, previous_platform="iphone")
    assert allowed(fresh, NOW) is Step.GET_APP
