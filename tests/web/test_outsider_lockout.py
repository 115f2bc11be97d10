"""Guessing and locking out (issue 11): an outsider who knows only a public NPI (or a help-desk
user name) pauses their own address, never the account holder elsewhere; NIST's cap of 100
consecutive failures still holds for the account across every address, and then only a
passphrase reset unlocks. An IPv6 network's /64 counts as one address.

Each client here has its own address (REMOTE_ADDR), as the real prescriber and an attacker
would.
"""

from __future__ import annotations

import re

import pytest
from helpdesk_helpers import agent_sign_in_attempt, make_agent, sign_in_agent
from signing import (
    audit_events,
    code_step,
    passphrase_step,
    pause,
    post,
    prescriber,
    sign_in,
)
from sqlalchemy import select
from support.accounts import account_maker, unused_npi
from support.pages import page_text

from wizard.extensions import db
from wizard.store.models import SignInThrottle

WRONG = "not the right passphrase"
ATTACKER = "203.0.113.7"
PRESCRIBER = "198.51.100.20"


def browser_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in_as(client) -> str | None:
    found = re.search(r"Signed in as ([^<]+)<", client.get("/").get_data(as_text=True))
    return found.group(1).strip() if found else None


def test_an_outsider_with_only_the_npi_cannot_pause_the_prescriber_elsewhere(app, account, clock):
    attacker = browser_at(app, ATTACKER)
    for _ in range(8):
        assert passphrase_step(attacker, account.npi, WRONG).status_code == 422
    # The attacker's address is paused: even the right passphrase gets nowhere from there.
    assert passphrase_step(attacker, account.npi, account.passphrase).status_code == 422

    at_home = browser_at(app, PRESCRIBER)
    sign_in(at_home, account, clock())
    assert signed_in_as(at_home) == account.name


def test_the_prescribers_sign_in_does_not_lift_the_attackers_pause(app, account, clock):
    attacker = browser_at(app, ATTACKER)
    for _ in range(5):
        passphrase_step(attacker, account.npi, WRONG)
    sign_in(browser_at(app, PRESCRIBER), account, clock())

    assert prescriber(app, account.id).sign_in_failures == 0  # consecutive: a success ends them
    assert pause(app, f"prescriber:{account.npi}", ATTACKER).failures == 5
    assert passphrase_step(attacker, account.npi, account.passphrase).status_code == 422


def test_an_outsider_cannot_pause_the_code_step_of_the_prescriber_elsewhere(app, account, clock):
    """A thief with the passphrase guessing codes pauses their own address only."""
    token = account.token()
    thief = browser_at(app, ATTACKER)
    assert passphrase_step(thief, account.npi, account.passphrase).status_code == 303
    for _ in range(5):
        fifth = code_step(thief, token.id, "000000")
        assert fifth.status_code == 422
    assert "Signing in is paused until 15:15 UTC" in page_text(fifth)
    assert passphrase_step(thief, account.npi, account.passphrase).status_code == 422

    at_home = browser_at(app, PRESCRIBER)
    sign_in(at_home, account, clock())
    assert signed_in_as(at_home) == account.name


def test_100_failures_from_many_addresses_block_the_account_until_a_passphrase_reset(
    app, runner, account, clock
):
    for n in range(20):  # 20 addresses, 5 failures each: none of them paused for longer
        attacker = browser_at(app, f"203.0.113.{n + 10}")
        for _ in range(5):
            assert passphrase_step(attacker, account.npi, WRONG).status_code == 422
    assert prescriber(app, account.id).sign_in_failures == 100
    [blocked] = [e for e in audit_events(app, "sign_in.lock") if e.outcome == "blocked"]
    assert blocked.prescriber_id == account.id

    # From an address that never failed, a day later, the right passphrase is refused.
    clock.advance(hours=24)
    at_home = browser_at(app, PRESCRIBER)
    assert passphrase_step(at_home, account.npi, account.passphrase).status_code == 422
    assert prescriber(app, account.id).sign_in_failures == 100  # refused, not counted

    # Only a reset opens it again.
    result = runner.invoke(args=["reset-passphrase", "--npi", account.npi])
    reset_code = re.search(r"Reset code: (\S+)", result.output).group(1)
    token = account.token()
    asked = post(
        at_home,
        "/forgot-passphrase",
        {"npi": account.npi, "code": token.code(at=clock()), "reset_code": reset_code},
    )
    assert asked.status_code == 303
    new = "a fresh passphrase after the block"
    chosen = post(at_home, "/forgot-passphrase/new", {"passphrase": new, "confirm": new})
    assert chosen.status_code == 303
    assert prescriber(app, account.id).sign_in_failures == 0
    clock.advance(30)
    assert passphrase_step(at_home, account.npi, new).status_code == 303


def test_addresses_of_one_ipv6_network_are_paused_together(app, account, clock):
    for n in range(5):  # a /64 holds billions of addresses: changing them gains nothing
        passphrase_step(browser_at(app, f"2001:db8:5:7::{n + 1:x}"), account.npi, WRONG)
    same_network = browser_at(app, "2001:db8:5:7:ffff::1")
    assert passphrase_step(same_network, account.npi, account.passphrase).status_code == 422
    assert pause(app, f"prescriber:{account.npi}", "2001:db8:5:7::/64").failures == 5

    other_network = browser_at(app, "2001:db8:5:8::1")
    assert passphrase_step(other_network, account.npi, account.passphrase).status_code == 303


def test_an_unknown_npi_is_paused_like_a_real_one(app, clock):
    """The pause does not depend on the account existing, so it tells nothing."""
    attacker = browser_at(app, ATTACKER)
    unknown = unused_npi()
    for _ in range(5):
        passphrase_step(attacker, unknown, WRONG)
    assert pause(app, f"prescriber:{unknown}", ATTACKER).locked_until is not None


def test_the_pause_follows_its_settings(make_app, clock, request):
    app = make_app(WIZARD_SIGN_IN_MAX_FAILURES="3", WIZARD_SIGN_IN_LOCK_MINUTES="10")
    account = account_maker(app, clock)()
    attacker = browser_at(app, ATTACKER)
    for _ in range(3):
        passphrase_step(attacker, account.npi, WRONG)
    paused = pause(app, f"prescriber:{account.npi}", ATTACKER)
    assert paused.failures == 3
    assert (paused.locked_until - clock()).total_seconds() == 10 * 60


def test_the_hard_limit_can_be_lowered_but_never_raised_past_100(make_app, clock, request):
    app = make_app(WIZARD_SIGN_IN_HARD_LIMIT="10")
    account = account_maker(app, clock)()
    for n in range(2):
        for _ in range(5):
            passphrase_step(browser_at(app, f"203.0.113.{n + 1}"), account.npi, WRONG)
    at_home = browser_at(app, PRESCRIBER)
    assert passphrase_step(at_home, account.npi, account.passphrase).status_code == 422
    with pytest.raises(SystemExit, match="WIZARD_SIGN_IN_HARD_LIMIT must be 100 or less"):
        make_app(WIZARD_SIGN_IN_HARD_LIMIT="101")


# --- Help-desk agents, the same ----------------------------------------------------------------


def test_an_outsider_cannot_pause_a_help_desk_agent_elsewhere(app, runner, clock):
    agent = make_agent(runner, app.test_client(), clock())
    attacker = browser_at(app, ATTACKER)
    for _ in range(8):
        assert agent_sign_in_attempt(attacker, agent.username, WRONG, "123456").status_code == 422
    refused = agent_sign_in_attempt(
        attacker, agent.username, agent.passphrase, agent.fresh_code(clock())
    )
    assert refused.status_code == 422

    at_desk = browser_at(app, PRESCRIBER)
    clock.advance(30)
    sign_in_agent(at_desk, agent, clock())
    assert at_desk.get("/helpdesk").status_code == 200


def test_100_failures_from_many_addresses_block_a_help_desk_agent(app, runner, clock):
    agent = make_agent(runner, app.test_client(), clock())
    for n in range(20):
        attacker = browser_at(app, f"203.0.113.{n + 10}")
        for _ in range(5):
            agent_sign_in_attempt(attacker, agent.username, WRONG, "123456")
    clock.advance(hours=24)
    at_desk = browser_at(app, PRESCRIBER)
    refused = agent_sign_in_attempt(
        at_desk, agent.username, agent.passphrase, agent.fresh_code(clock())
    )
    assert refused.status_code == 422
    assert at_desk.get("/helpdesk").status_code in (302, 303)


def test_failures_quiet_for_30_days_are_forgotten_at_the_next_sign_in(app, account, clock):
    """The table does not grow for ever with names guessed once (paused ones are kept)."""
    once = browser_at(app, ATTACKER)
    passphrase_step(once, unused_npi(), WRONG)
    for _ in range(5):
        passphrase_step(browser_at(app, "203.0.113.8"), account.npi, WRONG)
    clock.advance(days=31)
    sign_in(browser_at(app, PRESCRIBER), account, clock())

    with app.app_context():
        left = db.session.execute(select(SignInThrottle.client, SignInThrottle.failures)).all()
    assert [tuple(row) for row in left] == [(PRESCRIBER, 0)], left  # the one signing in now
