"""Issue 13: argon2id at 7 MiB x 7 passes. A hash of the earlier 19 MiB x 2 parameters still
signs in and is replaced at that sign-in (a prescriber's or a help-desk agent's), never over a
passphrase changed meanwhile; the unknown-NPI hash follows the app's hasher; a worker starts
without hashing anything."""

from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher, extract_parameters
from helpdesk_helpers import make_agent
from sqlalchemy import select, update
from support.accounts import account_maker
from test_enumeration import strong_app  # noqa: F401 - the app with production argon2

from wizard.extensions import db
from wizard.services import accounts, helpdesk
from wizard.store.models import HelpdeskAgent, Prescriber

OLDER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
TINY = PasswordHasher(time_cost=2, memory_cost=64, parallelism=1)  # other than the app's


def stored_hash(app, prescriber_id: int) -> str:
    with app.app_context():
        return db.session.get(Prescriber, prescriber_id).passphrase_hash


def store_hash(app, prescriber_id: int, value: str) -> None:
    with app.app_context():
        db.session.get(Prescriber, prescriber_id).passphrase_hash = value
        db.session.commit()


def sign_in(app, account, passphrase: str):
    return app.test_client().post("/sign-in", data={"npi": account.npi, "passphrase": passphrase})


def test_should_sign_in_with_a_19_mib_hash_and_store_a_7_mib_one(strong_app, clock):  # noqa: F811
    account = account_maker(strong_app, clock)()
    store_hash(strong_app, account.id, OLDER.hash(account.passphrase))

    reply = sign_in(strong_app, account, account.passphrase)

    assert reply.status_code == 303 and reply.headers["Location"] == "/sign-in/code"
    upgraded = stored_hash(strong_app, account.id)
    made = extract_parameters(upgraded)
    assert (made.memory_cost, made.time_cost, made.parallelism) == (7168, 7, 1)
    assert strong_app.extensions["password_hasher"].verify(upgraded, account.passphrase)
    # And the new hash signs in, without being replaced again.
    assert sign_in(strong_app, account, account.passphrase).status_code == 303
    assert stored_hash(strong_app, account.id) == upgraded


def test_cant_replace_a_19_mib_hash_with_a_wrong_passphrase(strong_app, clock):  # noqa: F811
    account = account_maker(strong_app, clock)()
    older = OLDER.hash(account.passphrase)
    store_hash(strong_app, account.id, older)

    reply = sign_in(strong_app, account, "not the passphrase at all")

    assert reply.status_code == 422
    assert stored_hash(strong_app, account.id) == older


def assert_dummy_follows_the_hasher(app) -> None:
    hasher = app.extensions["password_hasher"]
    dummy = extract_parameters(app.extensions["dummy_passphrase_hash"])
    assert (dummy.type, dummy.memory_cost, dummy.time_cost, dummy.parallelism) == (
        hasher.type,
        hasher.memory_cost,
        hasher.time_cost,
        hasher.parallelism,
    )
    assert (dummy.salt_len, dummy.hash_len) == (hasher.salt_len, hasher.hash_len)


def test_should_refuse_an_unknown_npi_after_a_verify_as_costly_as_a_real_one(
    app,
    strong_app,  # noqa: F811
):
    assert_dummy_follows_the_hasher(app)  # the tests' cheap profile
    assert_dummy_follows_the_hasher(strong_app)
    assert strong_app.extensions["password_hasher"].memory_cost == 7168


@pytest.mark.parametrize("cheap", [False, True], ids=["production argon2", "cheap argon2"])
def test_should_start_without_hashing_anything(app_factory, database, monkeypatch, cheap):
    hashed = []
    real_hash = argon2.PasswordHasher.hash

    def counting_hash(self, password, *, salt=None):
        hashed.append(self.memory_cost)
        return real_hash(self, password, salt=salt)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting_hash)
    environ = {"WIZARD_SANDBOX": "1", "WIZARD_DATABASE_URL": database.fresh()}

    app = app_factory({"ARGON2_CHEAP": cheap}, environ)

    assert hashed == [], "create_app hashed a passphrase"
    assert_dummy_follows_the_hasher(app)


def test_cant_undo_a_passphrase_reset_with_the_rehash_of_the_old_one(app, clock, monkeypatch):
    """A sign-in with the old passphrase, verified just before a reset committed, stores its
    rehash only over the hash it verified: the reset stays, and the old (perhaps stolen)
    passphrase does not come back."""
    account = account_maker(app, clock)()
    with app.app_context():
        db.session.get(Prescriber, account.id).passphrase_hash = TINY.hash(account.passphrase)
        db.session.commit()
        engine = db.engine
        new_hash = app.extensions["password_hasher"].hash("the prescriber's NEW passphrase 42")

    real = accounts.hash_passphrase

    def rehash_while_a_reset_commits(value):
        made = real(value)
        with engine.begin() as other:  # meanwhile, the prescriber's reset commits
            other.execute(
                update(Prescriber)
                .where(Prescriber.id == account.id)
                .values(passphrase_hash=new_hash)
            )
        return made

    monkeypatch.setattr(accounts, "hash_passphrase", rehash_while_a_reset_commits)
    with app.test_request_context():
        attempt = accounts.check_passphrase(account.npi, account.passphrase, clock(), "sign-in")
    assert attempt.prescriber is not None  # the old passphrase was right when checked

    with app.app_context():
        stored = db.session.get(Prescriber, account.id).passphrase_hash
    assert stored == new_hash, "the reset was undone"


def test_should_replace_an_agents_older_hash_at_sign_in(app, client, runner, clock):
    agent = make_agent(runner, client, clock())
    clock.advance(60)
    with app.app_context():
        row = db.session.scalar(
            select(HelpdeskAgent).where(HelpdeskAgent.username == agent.username)
        )
        row.passphrase_hash = TINY.hash(agent.passphrase)
        db.session.commit()
    with app.test_request_context():
        attempt = helpdesk.sign_in(
            agent.username, agent.passphrase, agent.fresh_code(clock()), clock()
        )
        assert attempt.agent is not None
    with app.app_context():
        stored = db.session.scalar(
            select(HelpdeskAgent.passphrase_hash).where(HelpdeskAgent.username == agent.username)
        )
    hasher = app.extensions["password_hasher"]
    assert extract_parameters(stored).memory_cost == hasher.memory_cost, "still the older hash"
