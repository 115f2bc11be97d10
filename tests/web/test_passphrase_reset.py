"""Forgot passphrase (issue 4): an administrator's one-time reset code (24 hours), the NPI and
a current code from an Active token, then a new passphrase under the same rules."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from signing import (
    NOT_SIGNED_IN,
    audit_events,
    passphrase_step,
    pause,
    post,
    prescriber,
    sign_in,
)
from support.accounts import unused_npi
from support.pages import page_text

from wizard.domain.codes import ALPHABET

NEW_PASSPHRASE = "a brand new passphrase for me"
NOT_CHECKED = (
    "We could not check those details. Check your NPI, the security code and the reset code"
)
RESET_CODE = re.compile(rf"Reset code: ((?:[{ALPHABET}]{{4}}-){{3}}[{ALPHABET}]{{4}})\n")


def issue_reset_code(runner, npi: str) -> str:
    result = runner.invoke(args=["reset-passphrase", "--npi", npi])
    assert result.exit_code == 0, result.output
    return RESET_CODE.search(result.output).group(1)


def ask_reset(client, npi: str, code: str, reset_code: str):
    return post(client, "/forgot-passphrase", {"npi": npi, "code": code, "reset_code": reset_code})


def choose(client, passphrase: str = NEW_PASSPHRASE, again: str | None = None):
    return post(
        client,
        "/forgot-passphrase/new",
        {"passphrase": passphrase, "confirm": passphrase if again is None else again},
    )


def wrong_code(token, at) -> str:
    near = {token.code(at=at + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def test_reset_passphrase_prints_a_one_time_code(app, runner, account):
    result = runner.invoke(args=["reset-passphrase", "--npi", account.npi])
    assert result.exit_code == 0
    assert RESET_CODE.search(result.output)
    assert "Valid for 24 hours, once." in result.output
    stored = prescriber(app, account.id)
    assert stored.reset_code_hash and RESET_CODE.search(result.output).group(1) not in (
        stored.reset_code_hash
    )
    [event] = audit_events(app, "passphrase.reset-code")
    assert (event.actor, event.outcome, event.prescriber_id) == (
        "administrator",
        "issued",
        account.id,
    )


def test_reset_passphrase_refuses_an_unknown_npi(runner):
    npi = unused_npi()
    result = runner.invoke(args=["reset-passphrase", "--npi", npi])
    assert result.exit_code == 1
    assert f"No prescriber with NPI {npi}." in result.output


def test_should_reset_the_passphrase_and_sign_in_with_the_new_one(
    app, client, runner, account, clock
):
    reset_code = issue_reset_code(runner, account.npi)
    token = account.token()

    page = page_text(client.get("/forgot-passphrase"))
    assert "You need three things: your NPI, a current code" in page

    response = ask_reset(client, account.npi, token.code(at=clock()), reset_code.lower())
    assert response.status_code == 303
    assert response.headers["Location"] == "/forgot-passphrase/new"
    assert client.get("/forgot-passphrase/new").status_code == 200

    response = choose(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "Your passphrase is changed. Sign in with your new passphrase." in page_text(
        client.get("/sign-in")
    )
    assert [e.outcome for e in audit_events(app, "passphrase.reset")] == [
        "code-accepted",
        "success",
    ]

    old = passphrase_step(client, account.npi, account.passphrase)
    assert old.status_code == 422
    assert NOT_SIGNED_IN in page_text(old)

    clock.advance(30)  # the code of the reset step is spent
    new = passphrase_step(client, account.npi, NEW_PASSPHRASE)
    assert new.status_code == 303
    response = post(
        client, "/sign-in/code", {"token": str(token.id), "code": token.code(at=clock())}
    )
    assert response.headers["Location"] == "/"


def test_a_reset_code_works_once(app, client, runner, account, clock):
    reset_code = issue_reset_code(runner, account.npi)
    ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    choose(client)
    assert prescriber(app, account.id).reset_code_hash is None

    clock.advance(30)
    again = app.test_client()
    response = ask_reset(again, account.npi, account.token().code(at=clock()), reset_code)
    assert response.status_code == 422
    assert NOT_CHECKED in page_text(response)


def test_a_new_reset_code_replaces_the_last_one(client, runner, account, clock):
    first = issue_reset_code(runner, account.npi)
    second = issue_reset_code(runner, account.npi)
    refused = ask_reset(client, account.npi, account.token().code(at=clock()), first)
    assert refused.status_code == 422
    assert (
        ask_reset(client, account.npi, account.token().code(at=clock()), second).status_code == 303
    )


def test_every_refusal_says_the_same_and_counts_toward_the_lock(
    app, client, runner, account, clock
):
    token = account.token()
    reset_code = issue_reset_code(runner, account.npi)
    other_reset_code = "ABCD-EFGH-JKMN-PQRS"
    refusals = [
        ask_reset(client, account.npi, token.code(at=clock()), other_reset_code),  # wrong reset
        ask_reset(client, account.npi, wrong_code(token, clock()), reset_code),  # wrong code
    ]
    clock.advance(hours=24)  # the reset code has expired
    refusals.append(ask_reset(client, account.npi, token.code(at=clock()), reset_code))

    # The support code in the footer is the session's; the day's wait outlived the session.
    texts = {re.sub(r"support code is \S+", "", page_text(r)) for r in refusals}
    assert [r.status_code for r in refusals] == [422, 422, 422]
    assert len(texts) == 1
    assert NOT_CHECKED in texts.pop()
    assert prescriber(app, account.id).sign_in_failures == 3
    assert [e.outcome for e in audit_events(app, "passphrase.reset")] == [
        "wrong-reset-code",
        "wrong-code",
        "wrong-reset-code",
    ]


def test_only_a_checked_reset_warns_about_pauses(app, client, runner, account, clock):
    """An empty or malformed form checked nothing and counted nothing: no word of pauses."""
    empty = ask_reset(client, "", "", "")
    assert empty.status_code == 422
    assert "failed attempts in a row" not in page_text(empty)
    assert prescriber(app, account.id).sign_in_failures == 0

    wrong = ask_reset(client, account.npi, account.token().code(at=clock()), "ABCD-EFGH-JKMN-PQRS")
    assert wrong.status_code == 422
    assert "After 5 failed attempts in a row" in page_text(wrong)


def test_a_reset_code_is_still_good_just_before_24_hours(client, runner, account, clock):
    reset_code = issue_reset_code(runner, account.npi)
    clock.advance(hours=24, seconds=-30)
    response = ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    assert response.status_code == 303


def test_an_unknown_npi_gets_the_same_message(client, runner, account, clock):
    issue_reset_code(runner, account.npi)
    response = ask_reset(client, unused_npi(), "123456", "ABCD-EFGH-JKMN-PQRS")
    assert response.status_code == 422
    assert NOT_CHECKED in page_text(response)


def test_only_an_active_tokens_code_resets(app, client, runner, make_account, clock):
    account = make_account(("Inactive", "Active"))
    reset_code = issue_reset_code(runner, account.npi)
    inactive = account.token("Inactive")
    response = ask_reset(client, account.npi, inactive.code(at=clock()), reset_code)
    assert response.status_code == 422
    assert NOT_CHECKED in page_text(response)
    active = account.token("Active")
    assert ask_reset(client, account.npi, active.code(at=clock()), reset_code).status_code == 303


def test_failed_resets_lock_the_account(app, client, runner, account, clock):
    reset_code = issue_reset_code(runner, account.npi)
    for _ in range(5):
        ask_reset(client, account.npi, account.token().code(at=clock()), "ABCD-EFGH-JKMN-PQRS")
    name = f"prescriber:{account.npi}"
    assert pause(app, name).locked_until == clock() + timedelta(minutes=15)
    assert len(audit_events(app, "sign_in.lock")) == 1

    # Paused: the right details are refused, in the words any failure gets (the pause is not
    # named: that would tell the NPI has an account), and so is signing in.
    response = ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    assert response.status_code == 422
    assert NOT_CHECKED in page_text(response)
    assert "from your network for 15 minutes" in page_text(response)
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 422
    clock.advance(minutes=15)
    assert (
        ask_reset(client, account.npi, account.token().code(at=clock()), reset_code).status_code
        == 303
    )


def test_reset_failures_and_sign_in_failures_share_one_count(app, client, runner, account, clock):
    issue_reset_code(runner, account.npi)
    for _ in range(3):
        passphrase_step(client, account.npi, "not the right passphrase")
    for _ in range(2):
        ask_reset(client, account.npi, account.token().code(at=clock()), "ABCD-EFGH-JKMN-PQRS")
    assert pause(app, f"prescriber:{account.npi}").locked_until is not None
    assert prescriber(app, account.id).sign_in_failures == 5


def test_the_reset_form_asks_for_each_detail(client):
    cases = [
        ({"npi": "", "code": "123456", "reset_code": "x"}, "Enter your NPI (10 digits)"),
        (
            {"npi": "1234567893", "code": "", "reset_code": "x"},
            "Enter the security code from one of your tokens",
        ),
        (
            {"npi": "1234567893", "code": "123456", "reset_code": ""},
            "Enter the reset code your administrator gave you",
        ),
        ({"npi": "1234567893", "code": "12345a", "reset_code": "x"}, "numbers only"),
        ({"npi": "123456789", "code": "123456", "reset_code": "x"}, "Enter your 10-digit NPI"),
        ({"npi": "1234567890", "code": "123456", "reset_code": "x"}, "(the check digit)"),
    ]
    for data, message in cases:
        response = post(client, "/forgot-passphrase", data)
        assert response.status_code == 422, data
        assert message in page_text(response), data


def test_the_new_passphrase_follows_the_same_rules(app, client, runner, account, clock):
    rules = [
        ("eleven char", "eleven char", "Your passphrase must be at least 12 characters"),
        ("ab cd" * 26, "ab cd" * 26, "Your passphrase must be 128 characters or fewer"),
        ("password1234", "password1234", "This passphrase is too common."),
        (f"{account.npi} please", f"{account.npi} please", "must not contain your NPI"),
        (NEW_PASSPHRASE, NEW_PASSPHRASE + "!", "The passphrases do not match."),
    ]
    reset_code = issue_reset_code(runner, account.npi)
    ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    for passphrase, again, message in rules:
        response = choose(client, passphrase, again)
        assert response.status_code == 422, passphrase
        assert message in page_text(response), passphrase
    assert prescriber(app, account.id).reset_code_hash is not None  # not spent yet
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 303


def test_choosing_a_new_passphrase_needs_the_checks_first(client):
    assert client.get("/forgot-passphrase/new").headers["Location"] == "/forgot-passphrase"
    assert choose(client).headers["Location"] == "/forgot-passphrase"


def test_the_new_passphrase_step_expires_after_10_minutes(app, client, runner, account, clock):
    reset_code = issue_reset_code(runner, account.npi)
    ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    clock.advance(minutes=10, seconds=1)
    assert choose(client).headers["Location"] == "/forgot-passphrase"
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 303


def test_a_reset_is_throttled_per_client_address(app, client, account):
    app.config["SIGN_IN_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        ask_reset(client, account.npi, "123456", "ABCD-EFGH-JKMN-PQRS")
    assert ask_reset(client, account.npi, "123456", "ABCD-EFGH-JKMN-PQRS").status_code == 429


def test_a_reset_does_not_sign_anyone_in(client, runner, account, clock):
    reset_code = issue_reset_code(runner, account.npi)
    ask_reset(client, account.npi, account.token().code(at=clock()), reset_code)
    choose(client)
    assert client.get("/tokens").headers["Location"] == "/sign-in?next=/tokens"
    clock.advance(30)
    sign_in(client, replace(account, passphrase=NEW_PASSPHRASE), clock())


def test_should_reset_the_passphrase_with_a_code_from_a_token_a_thief_reported_lost(
    app, client, runner, account, clock
):
    """Someone with the stolen passphrase alone reports every token lost (and again as soon
    as one is reactivated): the prescriber, token and reset code in hand, still resets the
    passphrase, which ends the thief's report flow and their passphrase."""
    token = account.token()
    thief = app.test_client()
    post(thief, "/lost-token", {"npi": account.npi, "passphrase": account.passphrase})
    post(thief, "/lost-token/choose", {"token": str(token.id)})
    assert post(thief, "/lost-token/confirm", {"acknowledge": "y"}).status_code == 303
    reset_code = issue_reset_code(runner, account.npi)

    response = ask_reset(client, account.npi, token.code(at=clock()), reset_code)
    assert response.headers["Location"] == "/forgot-passphrase/new"
    assert choose(client).headers["Location"] == "/sign-in"

    assert thief.get("/lost-token/choose").headers["Location"] == "/lost-token"
    assert passphrase_step(thief, account.npi, account.passphrase).status_code == 422


def test_cant_reset_with_a_code_from_a_token_lost_for_good(app, client, runner, account, clock):
    token = account.token()
    post(client, "/lost-token", {"npi": account.npi, "passphrase": account.passphrase})
    post(client, "/lost-token/choose", {"token": str(token.id)})
    post(client, "/lost-token/confirm", {"acknowledge": "y"})
    clock.advance(days=30)
    reset_code = issue_reset_code(runner, account.npi)

    response = ask_reset(app.test_client(), account.npi, token.code(at=clock()), reset_code)

    assert response.status_code == 422
    assert NOT_CHECKED in page_text(response)
