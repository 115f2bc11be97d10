"""The signed-in snapshot served from memory when sessions are in Redis (issue 13;
wizard.store.snapshots), on two app servers sharing one database and one Redis, as the
cluster runs them: a page read again costs no database read, and a change committed on one
server is seen by the next request on the other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
import redis
from cluster.redis_server import RedisServer
from flask import Flask
from signing import at_code_step, post, sign_in
from sqlalchemy import event, select
from support.accounts import account_maker
from support.csrf import SESSION_COOKIE, session_cookie
from support.pages import page_text

from wizard.extensions import db
from wizard.services import accounts, lockout, sandbox
from wizard.store import direct, schema
from wizard.store.crypto import SeedCipher
from wizard.store.models import OathCredential, Prescriber, Token
from wizard.store.snapshots import MARK_KEY

ENDED = "You were signed out because of a change to your account"
AT_THE_LIMIT = "You have the most tokens"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url(0)


@pytest.fixture
def nodes(make_app, database, redis_url) -> tuple[Flask, Flask]:
    """Two apps on one fresh database and one emptied Redis, with the same keys."""
    redis.Redis.from_url(redis_url).flushdb()
    shared = {
        "WIZARD_DATABASE_URL": database.fresh(),
        "WIZARD_SESSION_REDIS_URL": redis_url,
        "WIZARD_SECRET_KEY": "k" * 64,
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        "WIZARD_MAX_TOKENS": "3",
    }
    first = make_app(schema=False, **shared)
    return first, make_app(schema=False, **shared)


@pytest.fixture
def account(nodes, clock):
    return account_maker(nodes[0], clock)(("Active", "Active"))


def statements_during(app: Flask, request) -> list[str]:
    """The SQL app runs while request() runs: through its engine, and the direct reads made
    on a driver's connection (wizard.store.direct), which the engine's events do not see."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    def fetch_one(engine, sql, bound):
        seen.append(sql)
        return real_fetch_one(engine, sql, bound)

    with app.app_context():
        engine = db.engine
    real_fetch_one = direct._fetch_one
    event.listen(engine, "before_cursor_execute", note)
    direct._fetch_one = fetch_one
    try:
        request()
    finally:
        direct._fetch_one = real_fetch_one
        event.remove(engine, "before_cursor_execute", note)
    return seen


def reads_prescribers(app: Flask, request) -> bool:
    return any("FROM prescribers" in sql for sql in statements_during(app, request))


def mark(redis_url: str) -> bytes | None:
    return redis.Redis.from_url(redis_url).get(MARK_KEY)


def test_should_read_nothing_from_the_database_for_a_page_read_again(nodes, account, clock):
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    assert browser.get("/enroll/get-app").status_code == 200
    assert reads_prescribers(here, lambda: browser.get("/enroll/get-app")) is False


def test_should_read_the_prescriber_again_on_a_post(nodes, account, clock):
    """A request that may change something reads the prescriber again from the database (and
    checks the session's generation against it): here the row."""
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    browser.get("/enroll/get-app")
    assert reads_prescribers(
        here,
        lambda: post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
    )


def code_of(issued: sandbox.Issued, clock) -> str:
    return pyotp.TOTP(issued.secret).at(clock())


def test_should_check_a_code_on_the_snapshot_kept_in_memory(nodes, account, clock):
    """The code step's POST needs only the snapshot: served from memory as a page is, and the
    session's generation checked by the UPDATE that takes the account's turn."""
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    issued = at_code_step(here, browser, clock)
    assert browser.get("/enroll/security-code").status_code == 200  # kept

    seen = statements_during(
        here, lambda: post(browser, "/enroll/security-code", {"code": code_of(issued, clock)})
    )

    assert not any(sql.lstrip().startswith("SELECT") and "FROM prescribers" in sql for sql in seen)
    [turn] = [sql for sql in seen if "UPDATE prescribers" in sql]  # PostgreSQL: in a WITH
    assert "session_generation" in turn.split("UPDATE prescribers", 1)[1].split("WHERE", 1)[1]
    assert browser.get("/enroll/name").status_code == 200


def test_cant_post_a_code_from_a_session_ended_by_a_change_the_mark_missed(nodes, account, clock):
    """A session kept on the second server, at the code step, is ended on the first, and Redis
    does not take the new mark: the second server's kept snapshot still names the old
    generation. The code POST serves that snapshot from memory, but the UPDATE that would take
    the account's turn finds another generation: the session is signed out, and no code is
    checked or counted."""
    here, there = nodes
    acting, other = here.test_client(), there.test_client()
    sign_in(acting, account, clock(), token=account.tokens[0])
    sign_in(other, account, clock(), token=account.tokens[1])
    issued = at_code_step(there, other, clock)
    assert other.get("/enroll/security-code").status_code == 200  # kept there
    here.extensions["snapshots"].client = redis.Redis(port=1, socket_connect_timeout=0.5)
    changed = post(acting, f"/tokens/{account.tokens[1].id}/disable", {"reason": "temporary"})
    assert changed.status_code == 303

    refused = post(other, "/enroll/security-code", {"code": code_of(issued, clock)})

    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/sign-in")
    assert ENDED in page_text(other.get(refused.headers["Location"]))
    with there.app_context():
        assert db.session.get(Prescriber, account.id).code_failures == 0
        floor = select(OathCredential.last_step).filter_by(credential_id=issued.credential_id)
        assert db.session.scalar(floor) is None  # the code is still unused
    assert other.get("/enroll/security-code").headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("action", ["disable", "delete"])
def test_should_end_a_session_on_one_server_after_a_change_on_the_other(
    nodes, account, clock, action
):
    """Signed in on both servers; the session on the first disables or deletes a token, which
    ends the prescriber's other sessions. The second server had just served its session's
    page (its snapshot kept): its next page signs it out."""
    here, there = nodes
    acting, other = here.test_client(), there.test_client()
    sign_in(acting, account, clock(), token=account.tokens[0])
    sign_in(other, account, clock(), token=account.tokens[1])
    clock.advance(30)
    assert other.get("/enroll/get-app").status_code == 200
    assert not reads_prescribers(there, lambda: other.get("/enroll/get-app"))  # from memory
    changed = post(acting, f"/tokens/{account.tokens[1].id}/{action}", {"reason": "temporary"})
    assert changed.status_code in (200, 303)
    ended = other.get("/enroll/get-app")
    assert ended.status_code == 302
    assert ENDED in page_text(other.get(ended.headers["Location"]))
    assert acting.get("/tokens").status_code == 200


def test_should_count_a_token_added_on_the_other_server_at_the_next_page(nodes, clock):
    """One token short of the limit (3 here): the step shows the wizard; a token saved through
    the other server makes the next page of this one say the limit is reached."""
    here, there = nodes
    account = account_maker(here, clock)(("Active", "Active"))
    browser = there.test_client()
    sign_in(browser, account, clock())
    assert AT_THE_LIMIT not in page_text(browser.get("/enroll/get-app"))
    assert AT_THE_LIMIT not in page_text(browser.get("/enroll/get-app"))  # from memory
    with here.app_context():
        first = db.session.scalar(select(Token).where(Token.prescriber_id == account.id))
        db.session.add(
            Token(
                prescriber_id=account.id,
                nickname="Fob",
                nickname_key="fob",
                credential_id="VSMT00000001",
                manufacturer=first.manufacturer,
                token_type=first.token_type,
                model=first.model,
            )
        )
        db.session.commit()
    assert AT_THE_LIMIT in page_text(browser.get("/enroll/get-app"))


def test_should_show_a_new_name_from_the_other_server_at_the_next_page(nodes, account, clock):
    here, there = nodes
    browser = there.test_client()
    sign_in(browser, account, clock())
    assert account.name in page_text(browser.get("/enroll/get-app"))
    with here.app_context():
        db.session.get(Prescriber, account.id).name = "Dr. Renamed Here"
        db.session.commit()
    assert "Dr. Renamed Here" in page_text(browser.get("/enroll/get-app"))


def test_should_keep_the_mark_over_writes_that_change_no_snapshot(nodes, account, clock, redis_url):
    """A failed code check counts a failure on the prescriber's row; a rolled-back change
    never happened. Neither makes every server read its snapshots again."""
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    browser.get("/")
    before = mark(redis_url)
    assert before is not None
    with here.app_context():
        lockout.hold_account(account.id)
        accounts.end_sessions(db.session.get(Prescriber, account.id))
        db.session.rollback()
        db.session.get(Prescriber, account.id).passphrase_hash = "unchanged-by-this-test"
        db.session.rollback()
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    assert mark(redis_url) == before
    assert reads_prescribers(here, lambda: browser.get("/enroll/get-app")) is False


def test_should_replace_the_mark_after_a_change_is_committed(nodes, account, clock, redis_url):
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    browser.get("/")
    before = mark(redis_url)
    with here.app_context():
        accounts.end_sessions(db.session.get(Prescriber, account.id))
        assert mark(redis_url) == before  # not before the commit
        db.session.commit()
    assert mark(redis_url) not in (None, before)


def test_should_keep_nothing_until_redis_holds_a_mark_again(nodes, account, clock, redis_url):
    """Redis restarted empty: the next page reads the database and sets a new mark; the one
    after is served from memory again, never under a mark from before."""
    here, _ = nodes
    browser = here.test_client()
    sign_in(browser, account, clock())
    browser.get("/")
    before = mark(redis_url)
    redis.Redis.from_url(redis_url).delete(MARK_KEY)
    assert reads_prescribers(here, lambda: browser.get("/enroll/get-app"))
    assert mark(redis_url) not in (None, before)
    assert reads_prescribers(here, lambda: browser.get("/enroll/get-app")) is False


def test_should_not_sign_out_the_session_that_made_a_change_the_mark_missed(
    nodes, account, clock, redis_url, caplog
):
    """One browser, served by both servers in turn. It disables its other token on the first
    server, which ends the prescriber's other sessions and keeps this one; Redis does not take
    the new mark. The second server's kept snapshot names the old generation: the database,
    read again before signing anyone out, keeps this session signed in."""
    here, there = nodes
    on_here = here.test_client()
    sign_in(on_here, account, clock(), token=account.tokens[0])
    on_there = there.test_client()
    on_there.set_cookie(SESSION_COOKIE, session_cookie(on_here), domain="localhost")
    assert on_there.get("/enroll/get-app").status_code == 200  # kept there
    here.extensions["snapshots"].client = redis.Redis(port=1, socket_connect_timeout=0.5)
    changed = post(on_here, f"/tokens/{account.tokens[1].id}/disable", {"reason": "temporary"})
    assert changed.status_code == 303
    assert "the change mark could not be replaced: ConnectionError" in caplog.text
    assert on_there.get("/enroll/get-app").status_code == 200


def test_should_replace_the_mark_once_a_savepoints_changes_are_committed(nodes, account, redis_url):
    here, _ = nodes
    with here.app_context():
        db.session.get(Prescriber, account.id).name = "Dr. First Name"
        db.session.commit()
        before = mark(redis_url)
        with db.session.begin_nested():
            accounts.end_sessions(db.session.get(Prescriber, account.id))
        assert mark(redis_url) == before  # released, not committed
        try:
            with db.session.begin_nested():
                db.session.get(Prescriber, account.id).passphrase_hash = "rolled back"
                raise LookupError
        except LookupError:
            pass
        db.session.commit()
    assert mark(redis_url) != before


def test_should_replace_the_mark_when_a_token_moves_to_another_prescriber(
    nodes, account, clock, redis_url
):
    here, _ = nodes
    other = account_maker(here, clock)(("Active",))
    with here.app_context():
        db.session.get(Prescriber, other.id).name = "Dr. Other"
        db.session.commit()
        before = mark(redis_url)
        db.session.get(Token, account.tokens[1].id).prescriber = db.session.get(
            Prescriber, other.id
        )
        db.session.commit()
    assert mark(redis_url) != before


def test_should_replace_the_mark_after_a_migration(nodes, redis_url):
    here, _ = nodes
    with here.app_context():
        before = mark(redis_url)
        schema.upgrade()
    assert mark(redis_url) not in (None, before)
