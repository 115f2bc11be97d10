"""Issue 3, step 3: the security code, checked by the token authority; lockout and replay."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import event

from wizard.extensions import db

WRONG = (
    "That code did not match. Wait for the next code and enter it within 30 seconds. "
    "If it keeps failing, check that your phone sets its time automatically."
)
REUSED_START = "That code has already been used."


@pytest.fixture
def at_step_3(demo, enrol):
    """Signed in, device confirmed, a fresh sandbox credential entered; returns it."""
    return enrol.reach("security-code")


def post_code(client_request, code: str, status: int = 422, **kwargs):
    return client_request.post(
        "/enroll/security-code", {"code": code}, _expected_status=status, **kwargs
    )


def assert_code_error(page, message: str) -> None:
    assert page.text(".error-summary h2") == "There is a problem"
    assert page.error_summary == [("#code", message)]
    field = page.select_one("#code")
    assert field["aria-invalid"] == "true"
    assert "code-error" in field["aria-describedby"].split()
    assert message in page.text("#code-error")
    assert field.get("value", "") == "", "a refused code is not shown again"


def test_should_ask_for_the_code_masked_for_a_phone_keypad(client_request, at_step_3):
    page = client_request.get("/enroll/security-code")

    assert "Enter the security code" in page.h1
    assert page.text("#credential-read") == at_step_3.credential_id
    field = page.select_one("#code")
    assert field["type"] == "password"
    assert field["autocomplete"] == "one-time-code"
    assert field["inputmode"] == "numeric"
    assert "maxlength" not in field.attrs
    assert field.get("value", "") == ""
    toggle = page.select_one(".toggle-clear a")
    assert toggle.text == "Show clear text"
    assert toggle["href"] == "/enroll/security-code?clear=1"


def test_should_show_the_code_field_in_clear_text_without_javascript(client_request, at_step_3):
    page = client_request.get("/enroll/security-code?clear=1")

    assert page.select_one("#code")["type"] == "text"
    toggle = page.select_one(".toggle-clear a")
    assert toggle.text == "Hide clear text"
    assert toggle["href"] == "/enroll/security-code"


@pytest.mark.parametrize("shape", ["{}", "{0} {1}", " {0}-{1} ", "{0}  {1}"])
def test_should_accept_the_code_the_app_shows(client_request, at_step_3, vip, store, shape):
    code = vip.code(at_step_3)
    typed = shape.format(code[:3], code[3:]) if "{0}" in shape else code

    post_code(client_request, typed, 303, _expected_redirect="/enroll/name")

    page = client_request.get("/enroll/name")
    assert "Name and save" in page.h1
    [accepted] = store.audit("enrollment.code")
    assert accepted.outcome == "accepted"
    assert json.loads(accepted.detail)["credential_id"] == at_step_3.credential_id


def statements_during(app, request) -> list[str]:
    seen = []
    with app.app_context():
        engine = db.engine

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_should_accept_a_code_without_loading_the_prescribers_row(
    app, client_request, at_step_3, vip
):
    """The check reads the prescriber's id and NPI alone: the POST reads the snapshot, never
    the whole row (the ORM's work, and the passphrase's hash with it)."""
    code = vip.code(at_step_3)
    seen = statements_during(
        app, lambda: post_code(client_request, code, 303, _expected_redirect="/enroll/name")
    )
    assert seen, "the check's own statements are seen"
    assert not any("passphrase_hash" in sql for sql in seen)


def test_should_show_the_step_and_a_refusal_without_loading_the_prescribers_row(
    app, client_request, at_step_3, vip
):
    """The page reads only the code counter to say how many tries are left."""
    shown = statements_during(app, lambda: client_request.get("/enroll/security-code"))
    refused = statements_during(app, lambda: post_code(client_request, vip.wrong_code(at_step_3)))
    assert any("code_failures" in sql for sql in refused)
    assert not any("passphrase_hash" in sql for sql in shown + refused)


@pytest.mark.parametrize("steps_away", [-1, 1])
def test_should_accept_the_code_of_the_step_either_side_of_now(
    client_request, at_step_3, vip, clock, steps_away
):
    code = vip.code(at_step_3, at=clock() + timedelta(seconds=30 * steps_away))
    post_code(client_request, code, 303, _expected_redirect="/enroll/name")


@pytest.mark.parametrize("steps_away", [-2, 2, 20])
def test_cant_use_a_code_from_further_away_in_time(
    client_request, at_step_3, vip, clock, steps_away
):
    code = vip.code(at_step_3, at=clock() + timedelta(seconds=30 * steps_away))
    page = post_code(client_request, code)
    assert_code_error(page, WRONG)


def test_should_say_exactly_what_to_do_when_the_code_does_not_match(
    client_request, at_step_3, vip, store
):
    page = post_code(client_request, vip.wrong_code(at_step_3))

    assert_code_error(page, WRONG)
    assert "4 more tries" in page.text("main")
    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")
    [failure] = store.audit("enrollment.code")
    assert failure.outcome == "wrong"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter the security code"),
        ("   ", "Enter the security code"),
        ("12345", "The security code is 6 digits"),
        ("1234567", "The security code is 6 digits"),
        ("123 45", "The security code is 6 digits"),
        ("12a456", "The security code is numbers only"),
        ("one two", "The security code is numbers only"),
        ("１２３４５６", "The security code is numbers only"),
    ],
)
def test_should_explain_a_code_that_cannot_be_right(client_request, at_step_3, typed, message):
    page = post_code(client_request, typed)
    assert_code_error(page, message)


def test_should_refuse_a_code_already_used_with_its_own_message(client_request, at_step_3, vip):
    code = vip.code(at_step_3)
    post_code(client_request, code, 303, _expected_redirect="/enroll/name")

    page = post_code(client_request, code)

    message = page.error_summary[0][1]
    assert message.startswith(REUSED_START)
    assert message != WRONG
    assert_code_error(page, message)


def test_should_accept_the_next_code_after_one_was_used(client_request, at_step_3, vip, clock):
    post_code(client_request, vip.code(at_step_3), 303, _expected_redirect="/enroll/name")
    clock.advance(seconds=30)
    post_code(client_request, vip.code(at_step_3), 303, _expected_redirect="/enroll/name")


def fail_five_times(client_request, credential, vip):
    """Five wrong codes; the locked page's own faults are checked by the test below."""
    for _ in range(5):
        post_code(client_request, vip.wrong_code(credential))


def test_should_link_the_lock_message_to_something_on_the_page(client_request, at_step_3, vip):
    for _ in range(4):
        post_code(client_request, vip.wrong_code(at_step_3))

    page = post_code(client_request, vip.wrong_code(at_step_3))

    for target, _message in page.error_summary:
        assert page.select_one(target), f"the error summary links to {target}, which is not there"


def test_should_lock_the_step_after_5_failed_codes_and_audit_it(
    client_request, at_step_3, vip, store, clock
):
    for attempt in range(1, 5):
        page = post_code(client_request, vip.wrong_code(at_step_3))
        assert_code_error(page, WRONG)
        left = 5 - attempt
        assert f"{left} more {'try' if left == 1 else 'tries'}" in page.text("main")

    page = post_code(client_request, vip.wrong_code(at_step_3))

    message = page.error_summary[0][1]
    assert "paused until 15:15 UTC" in message
    assert "paused until 15:15 UTC" in page.text('[role="alert"]')
    assert not page.select("#code"), "no code field while locked"
    failures = store.audit("enrollment.code")
    assert [e.outcome for e in failures] == ["wrong"] * 5
    assert [json.loads(e.detail)["failures"] for e in failures] == [1, 2, 3, 4, 5]
    prescriber = store.prescriber()
    assert {e.prescriber_id for e in failures} == {prescriber.id}
    [lock] = store.audit("code.lock")
    assert lock.outcome == "locked"
    assert lock.prescriber_id == prescriber.id
    assert prescriber.code_locked_until == clock() + timedelta(minutes=15)


def test_cant_check_even_the_right_code_while_locked(client_request, at_step_3, vip, store, clock):
    fail_five_times(client_request, at_step_3, vip)
    clock.advance(minutes=14, seconds=59)

    page = post_code(client_request, vip.code(at_step_3))

    assert "paused until 15:15 UTC" in page.error_summary[0][1]
    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")
    assert len(store.audit("enrollment.code")) == 5, "a refused attempt while locked is not checked"
    page = client_request.get("/enroll/security-code")
    assert "paused until 15:15 UTC" in page.text('[role="alert"]')


def test_should_keep_the_lock_when_starting_over(client_request, at_step_3, enrol, vip):
    fail_five_times(client_request, at_step_3, vip)
    client_request.post("/enroll/start-over", _expected_redirect="/enroll/get-app")
    credential = enrol.reach("security-code")

    page = post_code(client_request, vip.code(credential))

    assert "paused until 15:15 UTC" in page.error_summary[0][1]


def test_should_unlock_after_15_minutes(client_request, at_step_3, vip, store, clock):
    fail_five_times(client_request, at_step_3, vip)
    clock.advance(minutes=15)

    page = client_request.get("/enroll/security-code")
    assert page.select_one("#code") is not None
    post_code(client_request, vip.code(at_step_3), 303, _expected_redirect="/enroll/name")
    assert store.prescriber().code_failures == 0


def test_should_forget_failures_after_a_code_matches(client_request, at_step_3, vip, store, clock):
    for _ in range(4):
        post_code(client_request, vip.wrong_code(at_step_3))
    post_code(client_request, vip.code(at_step_3), 303, _expected_redirect="/enroll/name")
    clock.advance(seconds=30)

    page = post_code(client_request, vip.wrong_code(at_step_3))

    assert_code_error(page, WRONG)
    assert "4 more tries" in page.text("main")
    assert store.audit("code.lock") == []


def test_should_show_the_code_step_again_with_htmx(client_request, at_step_3, vip):
    page = post_code(client_request, vip.wrong_code(at_step_3), _htmx=True)

    assert "<html" not in page.html
    assert_code_error(page, WRONG)
    assert page.headers.get("HX-Push-Url") in (None, "false")


def test_should_go_to_the_name_step_with_htmx(client_request, at_step_3, vip):
    page = post_code(client_request, vip.code(at_step_3), 200, _htmx=True)

    assert page.headers["HX-Push-Url"] == "/enroll/name"
    assert "Name and save" in page.h1
