"""The backup-token recommendation's state machine (wizard/domain/backup.py)."""

import pytest

from wizard.domain.backup import Answer, Backup, Choice, answer, is_open, recommend


@pytest.mark.parametrize(
    "active_tokens, state", [(0, Backup.SHOWN), (1, Backup.SHOWN), (2, Backup.NONE)]
)
def test_should_recommend_a_backup_only_without_a_second_active_token(active_tokens, state):
    assert recommend(active_tokens) is state


def test_should_ask_once_more_before_a_decline_is_taken():
    asked = answer(Backup.SHOWN, Choice.NOT_NOW)
    assert asked == Answer(Backup.CONFIRM_DECLINE)
    declined = answer(asked.state, Choice.DECLINE)
    assert declined == Answer(Backup.DECLINED, declined=True)


def test_cant_decline_without_being_asked_once_more():
    assert answer(Backup.SHOWN, Choice.DECLINE) == Answer(Backup.SHOWN)


@pytest.mark.parametrize("state", [Backup.SHOWN, Backup.CONFIRM_DECLINE])
def test_should_accept_and_start_a_new_run_when_adding_while_recommended(state):
    assert answer(state, Choice.ADD) == Answer(Backup.ACCEPTED, new_run=True)


@pytest.mark.parametrize("state", [Backup.NONE, Backup.DECLINED])
def test_should_start_a_new_run_without_counting_an_acceptance_when_nothing_was_recommended(
    state,
):
    assert answer(state, Choice.ADD) == Answer(state, new_run=True)


@pytest.mark.parametrize(
    "state, choice",
    [
        (Backup.NONE, Choice.NOT_NOW),
        (Backup.NONE, Choice.DECLINE),
        (Backup.CONFIRM_DECLINE, Choice.NOT_NOW),
        (Backup.DECLINED, Choice.NOT_NOW),
        (Backup.DECLINED, Choice.DECLINE),
        (Backup.SHOWN, "something else"),
        (Backup.SHOWN, ""),
    ],
)
def test_should_change_nothing_for_an_answer_that_does_not_fit_the_state(state, choice):
    assert answer(state, choice) == Answer(state)


def test_should_treat_an_unknown_stored_state_as_no_recommendation():
    assert answer("garbled", Choice.DECLINE) == Answer(Backup.NONE)


@pytest.mark.parametrize(
    "state, shown",
    [
        (Backup.NONE, False),
        (Backup.SHOWN, True),
        (Backup.CONFIRM_DECLINE, True),
        (Backup.DECLINED, False),
        (Backup.ACCEPTED, False),
    ],
)
def test_should_show_the_recommendation_only_while_it_waits_for_an_answer(state, shown):
    assert is_open(state) is shown
