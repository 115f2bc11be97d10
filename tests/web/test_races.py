"""Races (issue 7): many requests at the same moment, on a real threaded server.

The app runs under werkzeug's threaded server on a temporary SQLite file; each request gets
its own server thread and database connection. Every session is a separate plain HTTP client
(its own cookie jar and its own CSRF token), released together by a barrier:
- 20 sessions of one prescriber save the same Credential ID: exactly one token, and every
  session ends on the done step (a second save of one token is the first, as designed);
- 10 sessions each of two prescribers save the same Credential ID: exactly one token, the
  owner's sessions done, the other's told the ID is registered;
- 6 sessions of a prescriber with room for two more tokens each save one: two saved;
- 20 wrong codes at once: every one counted (code_failures, audit), the lock audited; with
  the lock at 5, exactly 5 checked, whatever the concurrency;
- 20 wrong passphrases, and 20 wrong sign-in codes, at once: exactly 5 checked (argon2
  verifications against the account's hash, audit events), the other 15 refused unchecked;
- 20 sessions post the same valid code (sign-in, and the wizard's code step): one accepted;
- 20 sessions post one help-desk agent's code at once: one signed in.

Sessions are prepared through the Flask test client on the same app and database (quicker),
each signing in with the code of its own 30-second step (the test clock moves on between
them: a code is accepted once).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from helpdesk_helpers import make_agent
from scenarios import World
from signing import audit_events, prescriber, tokens_with
from support.csrf import session_cookie
from support.http import HttpClient, at_once, serve

from wizard.extensions import db
from wizard.store.models import HelpdeskAgent, Prescriber

THREADS = 20
REUSED = "That code has already been used."
WRONG = "That code did not match."


# Every request comes from 127.0.0.1: the per-address limits are tested elsewhere.
UNLIMITED = {
    name: "100000 per minute"
    for name in (
        "WIZARD_SIGN_IN_RATE_LIMIT",
        "WIZARD_CODE_RATE_LIMIT",
        "WIZARD_CREDENTIAL_ID_RATE_LIMIT",
        "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT",
    )
}


@pytest.fixture
def race_app(make_app) -> Flask:
    return make_app(**UNLIMITED)


@pytest.fixture
def world(race_app: Flask, clock) -> World:
    return World(race_app, clock)


def signed_in(world: World, account) -> FlaskClient:
    """A new session of account, signed in with the code of a fresh 30-second step."""
    world.clock.advance(30)
    client = world.client()
    world.sign_in(client, account, offset_steps=0)
    return client


def at_code_step(world: World, client: FlaskClient, credential_id: str) -> None:
    world.post(
        client,
        "/enroll/get-app",
        {"platform": "iphone", "different_device": "y"},
        "/enroll/credential-id",
    )
    world.post(
        client, "/enroll/credential-id", {"credential_id": credential_id}, "/enroll/security-code"
    )


def at_name_step(world: World, client: FlaskClient, issued) -> None:
    at_code_step(world, client, issued.credential_id)
    world.post(client, "/enroll/security-code", {"code": world.totp(issued.secret)}, "/enroll/name")


def browsers(base_url: str, clients: list[FlaskClient], page: str) -> list[HttpClient]:
    """One HTTP client per session, each holding its own session cookie and CSRF token."""
    made = [HttpClient(base_url, session_id=session_cookie(client)) for client in clients]
    tokens = {browser.csrf_token(page) for browser in made}
    assert len(tokens) == len(made), "each session has its own token"
    return made


def _error_text(body: str) -> str:
    """The error summary's messages, as the prescriber reads them."""
    found = re.findall(r'<a href="#[\w-]+">([^<]+)</a>', body.split('class="error-summary"', 1)[-1])
    return "; ".join(found[:2]) or body[:200]


def statuses(replies) -> Counter:
    return Counter(r.status_code for r in replies)


def no_server_errors(replies) -> None:
    failed = [(r.status_code, r.text[:300]) for r in replies if r.status_code >= 500]
    assert not failed, f"{len(failed)} requests failed on the server: {failed[:2]}"


# --- One Credential ID saved 20 times at once ------------------------------------------------


def test_one_prescriber_saving_a_credential_in_20_sessions_at_once_gets_one_token(
    world: World, race_app: Flask
):
    account = world.account()
    issued = world.issue()
    clients = []
    for _ in range(THREADS):  # each session signs in and checks a code in a step of its own
        clients.append(signed_in(world, account))
        at_name_step(world, clients[-1], issued)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/name")
        replies = at_once(
            THREADS, lambda i: sessions[i].post("/enroll/name", {"nickname": "Work phone"})
        )

    no_server_errors(replies)
    saved = [t for t in tokens_with(race_app, issued.credential_id) if t.status != "Deleted"]
    assert len(saved) == 1, f"{len(saved)} tokens for one credential: {statuses(replies)}"
    assert saved[0].prescriber_id == account.id
    # A second save of the same token by its owner is the first one: every session is done.
    refused = [_error_text(r.text) for r in replies if r.status_code != 303]
    assert statuses(replies) == {303: THREADS}, f"{statuses(replies)}: {refused[:3]}"
    assert {r.location for r in replies} == {"/enroll/done"}
    added = [e for e in audit_events(race_app, "token.add") if issued.credential_id in e.detail]
    assert len(added) == 1, f"{len(added)} token.add events for one token"


def test_sessions_saving_tokens_at_once_stop_at_the_token_limit(world: World, race_app: Flask):
    """The limit is checked when a request begins, and the save counts again: however the
    six interleave, two are saved."""
    race_app.config["MAX_TOKENS"] = 3
    account = world.account()  # one Active token: room for two more
    sessions_count = 6
    clients, issued = [], []
    for _ in range(sessions_count):
        clients.append(signed_in(world, account))
        issued.append(world.issue())
        at_name_step(world, clients[-1], issued[-1])

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/name")
        replies = at_once(
            sessions_count,
            lambda i: sessions[i].post("/enroll/name", {"nickname": f"Phone {i + 2}"}),
        )

    no_server_errors(replies)
    saved = [t for i in issued for t in tokens_with(race_app, i.credential_id)]
    assert len(saved) == 2, f"{len(saved)} saved past a limit of 3: {statuses(replies)}"
    # Refused at the save (422, it counted again), or, for a request begun after two saves
    # were committed, already by the limit's check (409, the limit page).
    assert statuses(replies)[303] == 2
    assert set(statuses(replies)) <= {303, 409, 422}, statuses(replies)
    refused = {_error_text(r.text) for r in replies if r.status_code == 422}
    assert refused <= {
        "Your account already holds 3 tokens, the most it can, so this one was not saved. "
        "Delete a token you no longer use on the Tokens page, then add this one again."
    }
    added = [e for e in audit_events(race_app, "token.add")]
    assert len(added) == 2


def test_two_prescribers_saving_one_credential_in_20_sessions_at_once_get_one_token(
    world: World, race_app: Flask
):
    first, second = world.account(), world.account()
    issued = world.issue()
    owners = [first if i % 2 == 0 else second for i in range(THREADS)]
    clients = []
    for owner in owners:
        clients.append(signed_in(world, owner))
        at_name_step(world, clients[-1], issued)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/name")
        replies = at_once(
            THREADS, lambda i: sessions[i].post("/enroll/name", {"nickname": "Work phone"})
        )

    no_server_errors(replies)
    saved = [t for t in tokens_with(race_app, issued.credential_id) if t.status != "Deleted"]
    assert len(saved) == 1, f"{len(saved)} tokens for one credential: {statuses(replies)}"
    winner = saved[0].prescriber_id
    for owner, reply in zip(owners, replies, strict=True):
        if owner.id == winner:
            # The winner's other sessions saved the same token: theirs is the first save.
            assert (reply.status_code, reply.location) == (303, "/enroll/done"), (
                f"a session of the owner was told: {_error_text(reply.text)}"
            )
        else:
            assert reply.status_code == 422, reply.status_code
            assert "already registered" in reply.text
    added = [e for e in audit_events(race_app, "token.add") if issued.credential_id in e.detail]
    assert len(added) == 1


# --- Wrong codes at once -----------------------------------------------------------------------


def wrong_codes(secret: str, world: World, count: int) -> list[str]:
    """count distinct six-digit codes, none accepted now (the step either side included)."""
    totp = pyotp.TOTP(secret)
    near = {totp.at(world.now(), counter_offset=k) for k in (-1, 0, 1)}
    codes, candidate = [], 123_456
    while len(codes) < count:
        code = f"{candidate:06d}"
        if code not in near:
            codes.append(code)
        candidate = (candidate + 7_919) % 1_000_000
    return codes


def wizard_sessions_at_code_step(world: World, account, credential_id: str) -> list:
    clients = [signed_in(world, account) for _ in range(THREADS)]
    for client in clients:
        at_code_step(world, client, credential_id)
    return clients


def test_20_wrong_codes_at_once_are_each_counted(make_app, clock):
    """With the lock further away than 20 failures, nothing may be lost: 20 failures counted
    and 20 audit events numbered 1 to 20."""
    app = make_app(**UNLIMITED, WIZARD_CODE_MAX_FAILURES="50")
    world = World(app, clock)
    account = world.account()
    issued = world.issue()
    clients = wizard_sessions_at_code_step(world, account, issued.credential_id)
    codes = wrong_codes(issued.secret, world, THREADS)

    with serve(app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/security-code")
        replies = at_once(
            THREADS, lambda i: sessions[i].post("/enroll/security-code", {"code": codes[i]})
        )

    no_server_errors(replies)
    assert statuses(replies) == {422: THREADS}
    assert all(WRONG in r.text for r in replies)
    assert prescriber(app, account.id).code_failures == THREADS
    failures = [e for e in audit_events(app, "enrollment.code", account.id) if e.outcome == "wrong"]
    counted = sorted(int(json.loads(e.detail)["failures"]) for e in failures)
    assert counted == list(range(1, THREADS + 1)), counted


def test_20_wrong_codes_at_once_lock_the_account_and_the_lock_is_audited(world, race_app):
    """With the default lock at 5 failures: exactly 5 codes are checked and counted, the rest
    refused as locked unchecked, the account is locked, and the lock is in the audit log."""
    account = world.account()
    issued = world.issue()
    clients = wizard_sessions_at_code_step(world, account, issued.credential_id)
    codes = wrong_codes(issued.secret, world, THREADS)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/security-code")
        replies = at_once(
            THREADS, lambda i: sessions[i].post("/enroll/security-code", {"code": codes[i]})
        )

    no_server_errors(replies)
    assert statuses(replies) == {422: THREADS}
    row = prescriber(race_app, account.id)
    checked = [e for e in audit_events(race_app, "enrollment.code", account.id)]
    assert all(e.outcome == "wrong" for e in checked)
    assert row.code_failures == len(checked) == 5, (row.code_failures, len(checked))
    assert row.code_locked_until is not None and row.code_locked_until > world.now()
    locks = audit_events(race_app, "code.lock", account.id)
    assert len(locks) == 1, "the lock is audited once"
    # Every attempt was either counted or refused because of the lock, none lost (a checked
    # one that ended after the lock began shows the pause too).
    paused = sum("paused until" in r.text for r in replies)
    assert paused >= THREADS - len(checked), (len(checked), paused)
    assert all("paused until" in r.text or WRONG in r.text for r in replies)


# --- One valid code, 20 times at once ----------------------------------------------------------


def test_the_same_sign_in_code_20_times_at_once_is_accepted_once(world: World, race_app):
    account = world.account()
    token = account.token()
    clients = []
    for _ in range(THREADS):
        client = world.client()
        world.passphrase_step(client, account)
        clients.append(client)
    code = world.totp(token.secret)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/sign-in/code")
        replies = at_once(
            THREADS,
            lambda i: sessions[i].post("/sign-in/code", {"token": str(token.id), "code": code}),
        )

    no_server_errors(replies)
    accepted = [r for r in replies if r.status_code == 303 and r.location == "/"]
    assert len(accepted) == 1, statuses(replies)
    refused = [r for r in replies if r.status_code == 422]
    assert len(refused) == THREADS - 1, statuses(replies)
    assert all(REUSED in r.text or "paused until" in r.text for r in refused)
    successes = [e for e in audit_events(race_app, "sign-in.code", account.id)]
    assert sum(e.outcome == "success" for e in successes) == 1


def test_the_same_enrolment_code_20_times_at_once_is_accepted_once(world: World, race_app):
    account = world.account()
    issued = world.issue()
    clients = wizard_sessions_at_code_step(world, account, issued.credential_id)
    code = world.totp(issued.secret)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/enroll/security-code")
        replies = at_once(
            THREADS, lambda i: sessions[i].post("/enroll/security-code", {"code": code})
        )

    no_server_errors(replies)
    accepted = [r for r in replies if r.status_code == 303 and r.location == "/enroll/name"]
    assert len(accepted) == 1, statuses(replies)
    assert sum(r.status_code == 422 for r in replies) == THREADS - 1
    checks = audit_events(race_app, "enrollment.code", account.id)
    assert sum(e.outcome == "accepted" for e in checks) == 1


def test_the_same_agent_code_20_times_at_once_signs_in_once(race_app: Flask, clock):
    """The help desk's authenticator codes are consumed as tokens' are: by one conditional
    UPDATE, so that of 20 sign-ins racing with one code exactly one gets in."""
    agent = make_agent(race_app.test_cli_runner(), race_app.test_client(), clock())
    clock.advance(30)
    code = agent.fresh_code(clock())
    form = {"username": agent.username, "passphrase": agent.passphrase, "code": code}

    with serve(race_app) as base_url:
        sessions = [HttpClient(base_url) for _ in range(THREADS)]
        for browser in sessions:
            browser.csrf_token("/helpdesk/sign-in")
        replies = at_once(THREADS, lambda i: sessions[i].post("/helpdesk/sign-in", form))

    no_server_errors(replies)
    accepted = [r for r in replies if r.status_code == 303 and r.location == "/helpdesk"]
    assert len(accepted) == 1, statuses(replies)
    assert sum(r.status_code == 422 for r in replies) == THREADS - 1, statuses(replies)
    signed_in = audit_events(race_app, "helpdesk.sign-in")
    assert sum(e.outcome == "success" for e in signed_in) == 1
    with race_app.app_context():
        stored = db.session.scalar(
            db.select(HelpdeskAgent).where(HelpdeskAgent.username == agent.username)
        )
        assert stored.totp_last_step == max(agent.used), "the code's step is consumed"


# --- Wrong sign-ins at once --------------------------------------------------------------------


class CountingHasher(PasswordHasher):
    """argon2 as configured, counting the verifications made against one stored hash (the
    account's own; refused attempts are verified against a dummy hash, for equal timing)."""

    def __init__(self, real: PasswordHasher, watched: str) -> None:
        super().__init__(
            time_cost=real.time_cost,
            memory_cost=real.memory_cost,
            parallelism=real.parallelism,
            hash_len=real.hash_len,
            salt_len=real.salt_len,
            type=real.type,
        )
        self.watched = watched
        self.count = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):  # noqa: A002 - argon2-cffi's own parameter name
        if hash == self.watched:
            with self._lock:
                self.count += 1
        return super().verify(hash, password)


def checked_against(app: Flask, account) -> CountingHasher:
    with app.app_context():
        stored = db.session.get(Prescriber, account.id).passphrase_hash
    counting = CountingHasher(app.extensions["password_hasher"], stored)
    app.extensions["password_hasher"] = counting
    return counting


def test_20_wrong_passphrases_at_once_are_checked_no_more_than_5_times(world: World, race_app):
    account = world.account()
    hasher = checked_against(race_app, account)

    with serve(race_app) as base_url:
        sessions = [HttpClient(base_url) for _ in range(THREADS)]
        for browser in sessions:
            browser.csrf_token("/sign-in")
        replies = at_once(
            THREADS,
            lambda i: sessions[i].post(
                "/sign-in", {"npi": account.npi, "passphrase": f"not my passphrase {i}"}
            ),
        )

    no_server_errors(replies)
    assert statuses(replies) == {422: THREADS}
    assert hasher.count == 5, f"{hasher.count} wrong passphrases checked against the account"
    outcomes = Counter(e.outcome for e in audit_events(race_app, "sign-in.passphrase", account.id))
    assert outcomes == {"wrong-passphrase": 5, "locked": THREADS - 5}, outcomes
    assert prescriber(race_app, account.id).sign_in_failures == 5
    assert len(audit_events(race_app, "sign_in.lock", account.id)) == 1


def test_20_wrong_sign_in_codes_at_once_are_checked_no_more_than_5_times(world: World, race_app):
    account = world.account()
    token = account.token()
    clients = []
    for _ in range(THREADS):
        client = world.client()
        world.passphrase_step(client, account)
        clients.append(client)
    codes = wrong_codes(token.secret, world, THREADS)

    with serve(race_app) as base_url:
        sessions = browsers(base_url, clients, "/sign-in/code")
        replies = at_once(
            THREADS,
            lambda i: sessions[i].post("/sign-in/code", {"token": str(token.id), "code": codes[i]}),
        )

    no_server_errors(replies)
    assert statuses(replies) == {422: THREADS}
    outcomes = Counter(e.outcome for e in audit_events(race_app, "sign-in.code", account.id))
    assert outcomes == {"wrong": 5, "locked": THREADS - 5}, outcomes
    assert prescriber(race_app, account.id).sign_in_failures == 5
