"""The help desk's words follow the step list and the lock policies (wizard/domain/support.py)."""

from datetime import timedelta

from wizard.domain.lockout import LockPolicy
from wizard.domain.steps import KEY_FOB_TITLES, ORDER, TITLES, Step, number
from wizard.domain.support import guides, page_names, script, step_name

MINUTE = timedelta(minutes=1)
DEFAULT = LockPolicy()


def test_should_name_each_wizard_page_as_the_step_list_does():
    names = page_names()
    for step in ORDER:
        assert names[str(step)] == f"Step {number(step)}: {TITLES[step]}"
    assert names["tokens"] == "Token table"


def test_should_name_the_key_fobs_step_2_as_its_step_list_does():
    assert page_names(KEY_FOB_TITLES)["credential-id"] == "Step 2: Find the serial number"


def test_should_title_the_script_from_the_step_list():
    titles = [step.title for step in script(DEFAULT, DEFAULT)]
    for step in ORDER:
        assert any(title.startswith(step_name(step)) for title in titles), step
    assert f"Key fob, step 2: {KEY_FOB_TITLES[Step.CREDENTIAL_ID]}" in titles


def test_should_say_the_pauses_the_policies_set():
    sign_in = LockPolicy(max_failures=3, lock=60 * MINUTE, longest_lock=24 * 60 * MINUTE)
    code = LockPolicy(lock=30 * MINUTE)

    said = " ".join(
        " ".join([step.title, *step.say, *(p + " " + f for p, f in step.problems)])
        for step in script(sign_in, code)
    )

    assert "3 failures in a row pause signing in" in said
    assert "for an hour" in said
    assert "Paused for 30 minutes" in said
    assert "15 minutes" not in said
    assert "{" not in said, "every placeholder filled"


def test_should_name_both_pauses_in_the_lock_guide_when_they_differ():
    same = guides(DEFAULT, DEFAULT)["locked"].what
    assert same == "Too many codes failed: this is paused for 15 minutes."

    differ = guides(LockPolicy(lock=60 * MINUTE), LockPolicy(lock=30 * MINUTE))["locked"].what
    assert "adding a token is paused for 30 minutes" in differ
    assert "signing in from their network for an hour" in differ
