"""No answer tells whether an NPI or a help-desk user name has an account, or is paused
(issue 11): not the words, the status, the headers, the redirect, nor the time it takes.

Compared, on the same browser session (so the CSRF token and support code are the same): an
unknown name, a real one paused after failures from this address, a real one blocked after
100 failures, and a real one with a wrong passphrase or reset code. The timing test uses
argon2's production parameters and compares medians with a wide tolerance (the machine is
shared); bench/refusal_timing.py measures the same with more samples.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time

import pytest
from helpdesk_helpers import agent_sign_in_attempt, make_agent
from signing import passphrase_step, post
from support.accounts import account_maker, unused_npi

from wizard.extensions import db
from wizard.store.crypto import SeedCipher

WRONG = "not the right passphrase"
RESET = {"code": "123456", "reset_code": "ABCD-EFGH-JKMN-PQRS"}
# Per-address counters and the response's own date: the same for any account typed.
NOT_ABOUT_THE_ACCOUNT = {"date", "set-cookie", "content-length", "retry-after"}
CSRF_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")


def answer(response, *typed: str) -> tuple:
    """What a response tells, with the name typed into it set aside."""
    body = response.get_data(as_text=True)
    for value in typed:
        body = body.replace(value, "TYPED")
    body = CSRF_TOKEN.sub("CSRF", body)  # signed with the time: differs from second to second
    headers = sorted(
        (name, value)
        for name, value in response.headers.items()
        if name.lower() not in NOT_ABOUT_THE_ACCOUNT and not name.lower().startswith("x-ratelimit")
    )
    return response.status_code, response.headers.get("Location"), headers, body


def failing(client, times: int, send) -> None:
    for _ in range(times):
        assert send().status_code == 422


def block(app, table: str, column: str, value: str) -> None:
    """100 consecutive failures, as if from many addresses."""
    with app.app_context():
        db.session.execute(
            db.text(f"UPDATE {table} SET sign_in_failures = 100 WHERE {column} = :v"),  # noqa: S608
            {"v": value},
        )
        db.session.commit()


def test_cant_tell_an_unknown_npi_from_a_paused_or_blocked_one_at_sign_in(
    app, client, make_account
):
    paused, blocked, unknown = make_account(), make_account(), unused_npi()
    failing(client, 5, lambda: passphrase_step(client, paused.npi, WRONG))
    block(app, "prescribers", "npi", blocked.npi)

    answers = {
        "unknown": answer(passphrase_step(client, unknown, paused.passphrase), unknown),
        "paused": answer(passphrase_step(client, paused.npi, paused.passphrase), paused.npi),
        "blocked": answer(passphrase_step(client, blocked.npi, blocked.passphrase), blocked.npi),
    }
    assert answers["unknown"][0] == 422
    assert answers["paused"] == answers["unknown"]
    assert answers["blocked"] == answers["unknown"]


def test_cant_tell_an_unknown_npi_from_a_paused_one_when_reporting_a_lost_token(
    client, make_account
):
    paused, unknown = make_account(), unused_npi()
    form = "/lost-token"
    failing(client, 5, lambda: post(client, form, {"npi": paused.npi, "passphrase": WRONG}))

    first = post(client, form, {"npi": unknown, "passphrase": WRONG})
    second = post(client, form, {"npi": paused.npi, "passphrase": paused.passphrase})
    assert first.status_code == 422
    assert answer(second, paused.npi) == answer(first, unknown)


def test_cant_tell_an_unknown_npi_from_a_paused_blocked_or_real_one_at_forgot_passphrase(
    app, client, runner, make_account
):
    paused, blocked, real, unknown = make_account(), make_account(), make_account(), unused_npi()
    form = "/forgot-passphrase"
    failing(client, 5, lambda: post(client, form, {"npi": paused.npi, **RESET}))
    block(app, "prescribers", "npi", blocked.npi)
    for account in (paused, blocked, real):
        runner.invoke(args=["reset-passphrase", "--npi", account.npi])

    expected = answer(post(client, form, {"npi": unknown, **RESET}), unknown)
    assert expected[0] == 422
    for account in (paused, blocked, real):
        assert answer(post(client, form, {"npi": account.npi, **RESET}), account.npi) == expected
    assert "paused" not in expected[3]


def test_cant_tell_an_unknown_help_desk_name_from_a_paused_or_blocked_one(
    app, client, runner, clock
):
    paused = make_agent(runner, app.test_client(), clock(), username="pat.paused")
    blocked = make_agent(runner, app.test_client(), clock(), username="sam.blocked")
    failing(client, 5, lambda: agent_sign_in_attempt(client, paused.username, WRONG, "123456"))
    block(app, "helpdesk_agents", "username", blocked.username)
    clock.advance(60)

    unknown = answer(agent_sign_in_attempt(client, "kim.nobody", WRONG, "123456"), "kim.nobody")
    assert unknown[0] == 422
    for agent in (paused, blocked):
        right = agent_sign_in_attempt(
            client, agent.username, agent.passphrase, agent.fresh_code(clock())
        )
        assert answer(right, agent.username) == unknown
    assert "paused until" not in unknown[3]


# --- Timing ------------------------------------------------------------------------------------


@pytest.fixture
def strong_app(app_factory, database, clock):
    """The app with argon2's production parameters (not the tests' cheap profile)."""
    environ = {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": database.fresh(),
        "WIZARD_SECRET_KEY": secrets.token_hex(32),
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        "WIZARD_SIGN_IN_RATE_LIMIT": "100000 per minute",
    }
    made = app_factory({"TESTING": True, "CLOCK": clock, "WTF_CSRF_ENABLED": False}, environ)
    yield made
    with made.app_context():
        db.session.remove()
        db.engine.dispose()


def medians(kinds: dict, rounds: int) -> dict[str, float]:
    """Median seconds of each kind of post, the kinds interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for round_ in range(rounds + 1):
        for name, send in kinds.items():
            started = time.perf_counter()
            assert send().status_code == 422
            if round_:  # the first round warms up
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def test_a_paused_or_blocked_npi_takes_as_long_to_refuse_as_an_unknown_one(
    strong_app, request, clock
):
    """Before: 29 ms for a paused account against 71 ms for an unknown NPI (no argon2 was
    run for a paused account). Now each refusal runs one verification."""
    make = account_maker(strong_app, clock)
    paused, blocked = make(), make()
    client = strong_app.test_client()
    for _ in range(5):
        client.post("/sign-in", data={"npi": paused.npi, "passphrase": WRONG})
    block(strong_app, "prescribers", "npi", blocked.npi)

    def sign_in(npi_of, passphrase):
        return lambda: client.post("/sign-in", data={"npi": npi_of(), "passphrase": passphrase})

    found = medians(
        {
            "unknown": sign_in(unused_npi, WRONG),
            "paused": sign_in(lambda: paused.npi, paused.passphrase),
            "blocked": sign_in(lambda: blocked.npi, blocked.passphrase),
        },
        rounds=15,
    )
    for kind in ("paused", "blocked"):
        ratio = found[kind] / found["unknown"]
        assert 0.6 < ratio < 1.67, f"{kind}: {found[kind] * 1000:.0f} ms against " + (
            f"{found['unknown'] * 1000:.0f} ms for an unknown NPI"
        )


class Runner:
    """`flask --app wizard ...` against an app of the test's own."""

    def __init__(self, app) -> None:
        self.app = app

    def invoke(self, args: list[str]):
        with self.app.app_context():
            return self.app.test_cli_runner().invoke(args=args)


def test_a_paused_help_desk_name_takes_as_long_to_refuse_as_an_unknown_one(strong_app, clock):
    agent = make_agent(Runner(strong_app), strong_app.test_client(), clock())
    client = strong_app.test_client()
    for _ in range(5):
        client.post(
            "/helpdesk/sign-in",
            data={"username": agent.username, "passphrase": WRONG, "code": "123456"},
        )
    names = iter(range(10**6))

    def attempt(username, passphrase):
        data = lambda: {"username": username(), "passphrase": passphrase, "code": "123456"}  # noqa: E731
        return lambda: client.post("/helpdesk/sign-in", data=data())

    found = medians(
        {
            "unknown": attempt(lambda: f"nobody.{next(names)}", WRONG),
            "paused": attempt(lambda: agent.username, agent.passphrase),
        },
        rounds=11,
    )
    ratio = found["paused"] / found["unknown"]
    assert 0.6 < ratio < 1.67, (
        f"{found['paused'] * 1000:.0f} ms against {found['unknown'] * 1000:.0f} ms"
    )
