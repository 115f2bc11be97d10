"""Server-side sessions (issues 11 and 13): when they are stored, written, kept alive and
purged; every test runs on both stores, the database and Redis.

Writes are seen from outside: a session is saved exactly when the response sets its cookie,
and the store holds the bytes it saved under a hash of the cookie's id.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from cluster.redis_server import RedisServer
from flask import Flask
from helpdesk_helpers import footer_code, make_agent, sign_in_agent
from signing import post, sign_in
from sqlalchemy import event, func, select
from support.accounts import unused_npi
from support.csrf import SESSION_COOKIE, session_cookie
from support.pages import page_text

from wizard.extensions import db
from wizard.store.crypto import SeedCipher
from wizard.store.models import StoredSession
from wizard.store.sessions import KEY_PREFIX, WAL, _without_waiting_for_the_disk, store_key

STORES = ["database", "redis"]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server of this module's own on 127.0.0.1 (installed by `make test`)."""
    with RedisServer() as server:
        yield server.url(0)


@pytest.fixture(params=STORES)
def app(request, app_factory, database, clock) -> Iterator[Flask]:
    """The test-client app (a fresh database, the test clock), its sessions in each store.
    The database store runs on each database backend; Redis on one of them suffices."""
    database_url = database.main()
    environ = {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": database_url,
        "WIZARD_SECRET_KEY": secrets.token_hex(32),
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
    }
    if request.param == "redis":
        if not database_url.startswith("sqlite"):
            pytest.skip("sessions in Redis: the database backend is the other tests' business")
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        environ["WIZARD_SESSION_REDIS_URL"] = url
    app = app_factory({"TESTING": True, "ARGON2_CHEAP": True, "CLOCK": clock}, environ)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def uses_redis(app: Flask) -> bool:
    return bool(app.config["SESSION_REDIS_URL"])


def stored_keys(app: Flask) -> list[str]:
    if uses_redis(app):
        found = redis.Redis.from_url(app.config["SESSION_REDIS_URL"]).keys(f"{KEY_PREFIX}*")
        return [k.decode() for k in found]
    with app.app_context():
        return list(db.session.scalars(select(StoredSession.session_id)))


def stored(app: Flask, client) -> bytes | None:
    """What the store holds for the client's session now."""
    with app.app_context():
        return app.session_interface.store.load(
            store_key(session_cookie(client)), app.config["CLOCK"]()
        ).data


def wrote(response) -> bool:
    """The response saved the session (a save always sends the cookie)."""
    return any(v.startswith(f"{SESSION_COOKIE}=") for v in response.headers.getlist("Set-Cookie"))


def signed_in(client) -> bool:
    return client.get("/tokens").status_code == 200


# --- No session without a reason ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/no-such-page", "/static/css/app.css", "/healthz"])
def test_should_store_no_session_for_a_visitor_without_a_cookie_who_only_reads(app, client, path):
    response = client.get(path)

    assert response.status_code in (200, 404)
    assert not wrote(response)
    assert client.get_cookie(SESSION_COOKIE) is None
    assert stored_keys(app) == []


def test_should_store_a_session_once_a_page_has_a_form(app, client):
    response = client.get("/sign-in")

    assert wrote(response)
    assert stored_keys(app) == [store_key(session_cookie(client))]


def test_should_keep_only_a_random_id_in_the_cookie_and_key_the_store_by_its_hash(
    app, client, account, clock
):
    first = client.get("/sign-in").headers["Set-Cookie"]
    sign_in(client, account, clock())
    value = session_cookie(client)

    assert "HttpOnly" in first and "SameSite=Lax" in first
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    assert stored_keys(app) == [store_key(value)]
    assert b"prescriber_id" in stored(app, client)


def test_cant_open_a_session_under_an_id_the_visitor_chose(app, client):
    planted = "A" * 43
    client.set_cookie(SESSION_COOKIE, planted)

    client.get("/sign-in")

    assert session_cookie(client) != planted
    assert store_key(planted) not in stored_keys(app)


def test_should_start_afresh_when_the_stored_session_cannot_be_read(app, client, account, clock):
    sign_in(client, account, clock())
    key = store_key(session_cookie(client))
    with app.app_context():
        app.session_interface.store.save(key, b"\x81\xa3not json", clock(), timedelta(hours=1))

    response = client.get("/tokens")

    assert response.status_code == 302  # signed out, not a 500
    assert response.headers["Location"] == "/sign-in?next=/tokens"


# --- Rotation and sign-out ----------------------------------------------------------------


def test_should_give_a_new_id_at_sign_in_and_forget_the_old_one(app, client, account, clock):
    client.get("/sign-in")
    before = session_cookie(client)

    sign_in(client, account, clock())

    assert session_cookie(client) != before
    assert store_key(before) not in stored_keys(app)
    planted = app.test_client()
    planted.set_cookie(SESSION_COOKIE, before)
    assert not signed_in(planted)


def test_should_forget_the_session_at_sign_out(app, client, account, clock):
    sign_in(client, account, clock())
    cookie = session_cookie(client)
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))

    client.post("/sign-out", data={"csrf_token": token.group(1)})

    assert store_key(cookie) not in stored_keys(app)
    stale = app.test_client()
    stale.set_cookie(SESSION_COOKIE, cookie)
    assert not signed_in(stale)


def planted_beside(app: Flask, client):
    """Another browser holding client's session id, as a cookie planted by a sibling site
    (session fixation) would make it."""
    attacker = app.test_client()
    attacker.set_cookie(SESSION_COOKIE, session_cookie(client))
    return attacker


def test_cant_continue_a_lost_token_report_with_a_session_id_planted_before_the_passphrase(
    app, client, account
):
    client.get("/lost-token")
    attacker = planted_beside(app, client)

    given = post(client, "/lost-token", {"npi": account.npi, "passphrase": account.passphrase})

    assert given.headers["Location"] == "/lost-token/choose"
    assert client.get("/lost-token/choose").status_code == 200
    assert attacker.get("/lost-token/choose").headers["Location"] == "/lost-token"


def test_cant_choose_the_new_passphrase_with_a_session_id_planted_before_the_reset_code(
    app, client, runner, account, clock
):
    printed = runner.invoke(args=["reset-passphrase", "--npi", account.npi]).output
    reset_code = re.search(r"Reset code: (\S+)", printed).group(1)
    client.get("/forgot-passphrase")
    attacker = planted_beside(app, client)

    checked = post(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": account.token().code(at=clock()), "reset_code": reset_code},
    )

    assert checked.headers["Location"] == "/forgot-passphrase/new"
    assert client.get("/forgot-passphrase/new").status_code == 200
    assert attacker.get("/forgot-passphrase/new").status_code == 303


def test_cant_redeem_an_invitation_with_a_session_id_planted_before_it_was_typed(
    app, client, runner
):
    npi = unused_npi()
    printed = runner.invoke(
        args=["invite", "--npi", npi, "--name", "Dr. Casey Newcomer", "--email", "c@example.org"]
    ).output
    invitation = re.search(r"(?:[A-Z0-9]{4}-){3}[A-Z0-9]{4}", printed).group(0)
    client.get("/start")
    attacker = planted_beside(app, client)

    found = post(client, "/start", {"invitation": invitation, "npi": npi})

    assert found.headers["Location"] == "/start/confirm"
    assert client.get("/start/confirm").status_code == 200
    assert attacker.get("/start/confirm").headers["Location"] == "/start"


# --- Written only when it changed ---------------------------------------------------------


def test_should_not_write_the_session_when_a_page_is_read_again(app, client, account, clock):
    sign_in(client, account, clock())
    client.get("/tokens")
    saved = stored(app, client)

    again = client.get("/tokens")

    assert again.status_code == 200
    assert not wrote(again)
    assert stored(app, client) == saved


def test_should_record_activity_at_most_once_a_minute(app, client, account, clock):
    sign_in(client, account, clock())  # 15:00:00
    client.get("/tokens")
    writes = []
    for _ in range(8):
        clock.advance(seconds=15)  # 15:00:15 ... 15:02:00
        writes.append(wrote(client.get("/tokens")))

    assert writes == [False, False, False, True, False, False, False, True]


def test_should_not_read_or_write_the_session_for_static_files(app, client, account, clock):
    sign_in(client, account, clock())
    saved = stored(app, client)
    clock.advance(minutes=3)

    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert not wrote(response)
    assert "Cookie" not in response.vary
    assert stored(app, client) == saved


# --- The idle timeout, to the minute (injected clock) -------------------------------------


def test_cant_be_signed_out_before_the_idle_time_has_passed(app, client, account, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    sign_in(client, account, clock())  # 15:00:00, recorded as the minute 15:00
    clock.advance(seconds=59)
    assert signed_in(client)  # the last action, at 15:00:59 (the same minute: not written)

    clock.advance(minutes=idle)  # exactly the idle time after it

    assert signed_in(client)


def test_should_sign_out_at_most_a_minute_after_the_idle_time(app, client, account, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    sign_in(client, account, clock())  # the last action, 15:00:00

    clock.advance(minutes=idle + 1)

    response = client.get("/tokens")
    assert response.status_code == 302
    assert f"no activity for {idle} minutes" in page_text(client.get(response.location))


def test_should_keep_a_session_alive_while_its_holder_acts(app, client, account, clock):
    sign_in(client, account, clock())
    for _ in range(4):
        clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] - 1, seconds=59)
        assert signed_in(client)


# --- Polls are not the user's actions -----------------------------------------------------


def test_cant_keep_an_agent_signed_in_by_the_live_views_polling(app, client, runner, clock):
    """The console polls /helpdesk/live/<code> every second; only the agent's own requests
    count as activity."""
    idle = app.config["SESSION_IDLE_MINUTES"]
    code = footer_code(app.test_client().get("/sign-in"))  # a prescriber on the phone
    sign_in_agent(client, make_agent(runner, app.test_client(), clock()), clock())
    assert client.get(f"/helpdesk?code={code}").status_code == 200  # the agent's last action

    for _ in range(idle):
        clock.advance(minutes=1)
        poll = client.get(f"/helpdesk/live/{code}", headers={"HX-Request": "true"})
        assert poll.status_code == 200 and "HX-Redirect" not in poll.headers
    clock.advance(minutes=1)
    poll = client.get(f"/helpdesk/live/{code}", headers={"HX-Request": "true"})

    assert poll.headers.get("HX-Redirect") == "/helpdesk/sign-in"
    assert f"no activity for {idle} minutes" in page_text(client.get("/helpdesk/sign-in"))


def test_should_keep_an_agent_signed_in_by_their_own_requests_while_the_view_polls(
    app, client, runner, clock
):
    idle = app.config["SESSION_IDLE_MINUTES"]
    code = footer_code(app.test_client().get("/sign-in"))
    sign_in_agent(client, make_agent(runner, app.test_client(), clock()), clock())
    # The live panel polls only a code this session looked up.
    assert client.get(f"/helpdesk?code={code}").status_code == 200
    for minute in range(1, 2 * idle):
        clock.advance(minutes=1)
        if minute % (idle - 1) == 0:
            assert client.get(f"/helpdesk?code={code}").status_code == 200
        poll = client.get(f"/helpdesk/live/{code}", headers={"HX-Request": "true"})
        assert poll.status_code == 200 and "HX-Redirect" not in poll.headers, minute


def test_cant_keep_a_prescriber_signed_in_by_the_practice_apps_polling(app, client, account, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    sign_in(client, account, clock())
    credential = account.token().credential_id
    for _ in range(idle):
        clock.advance(minutes=1)
        poll = client.get(f"/sandbox/vip-access/code?credential={credential}")
        assert poll.status_code == 200
        assert not wrote(poll)
    clock.advance(minutes=1)

    assert not signed_in(client)


# --- Expired sessions are purged ----------------------------------------------------------


def _abandoned_sessions(app: Flask, count: int) -> None:
    for _ in range(count):
        assert wrote(app.test_client().get("/sign-in"))


def test_should_purge_expired_sessions_with_a_command(app, runner, clock):
    _abandoned_sessions(app, 3)
    clock.advance((app.permanent_session_lifetime + timedelta(minutes=1)).total_seconds())

    result = runner.invoke(args=["sessions", "purge"])

    assert result.exit_code == 0, result.output
    if uses_redis(app):  # Redis drops each key when its time is up
        assert "Deleted 0 expired sessions." in result.output
        client = redis.Redis.from_url(app.config["SESSION_REDIS_URL"])
        lifetime = app.permanent_session_lifetime.total_seconds()
        assert all(0 < client.ttl(key) <= lifetime for key in client.keys())
    else:
        assert "Deleted 3 expired sessions." in result.output
        assert stored_keys(app) == []


def test_should_purge_expired_sessions_without_a_scheduled_job(app, client, account, clock):
    if uses_redis(app):
        pytest.skip("Redis expires its keys itself (see the command's test)")
    _abandoned_sessions(app, 3)
    clock.advance((app.permanent_session_lifetime + timedelta(minutes=1)).total_seconds())

    sign_in(client, account, clock())  # any request that saves a session

    assert stored_keys(app) == [store_key(session_cookie(client))]
    assert signed_in(client), "the live session is kept"


def test_should_not_purge_a_session_that_is_still_in_use(app, client, account, clock, runner):
    sign_in(client, account, clock())
    used_for = timedelta()
    while used_for <= app.permanent_session_lifetime:
        clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
        used_for += timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
        assert signed_in(client)

    runner.invoke(args=["sessions", "purge"])

    assert store_key(session_cookie(client)) in stored_keys(app)
    assert signed_in(client)


def test_should_count_purged_rows_only_once_expired(app, runner, clock):
    if uses_redis(app):
        pytest.skip("Redis expires its keys itself")
    _abandoned_sessions(app, 2)
    clock.advance((app.permanent_session_lifetime - timedelta(seconds=1)).total_seconds())
    assert "Deleted 0" in runner.invoke(args=["sessions", "purge"]).output
    clock.advance(seconds=1)
    assert "Deleted 2" in runner.invoke(args=["sessions", "purge"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredSession)) == 0


# --- Durability --------------------------------------------------------------------------


def test_should_save_sessions_without_waiting_for_the_disk_and_records_waiting(
    app, client, account, clock
):
    """On SQLite a session is saved with synchronous=NORMAL (a power cut may lose the last
    ones, as Redis may); records and a session's end keep FULL, and their commit carries every
    earlier frame of the log to the disk. The connection goes back to the pool at FULL."""
    if uses_redis(app) or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's synchronous setting")
    levels = {}

    def note(connection, _cursor, statement, *_rest):
        verb = statement.lstrip().split(" ", 1)[0].upper()
        kind = f"session {verb}" if "server_sessions" in statement else "record"
        if verb in ("INSERT", "UPDATE", "DELETE"):
            driver = connection.connection.driver_connection
            levels.setdefault(kind, set()).add(driver.execute("PRAGMA synchronous").fetchone()[0])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            sign_in(client, account, clock())
            assert client.get("/enroll/get-app").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        pooled = [db.engine.connect() for _ in range(3)]
        after = {c.exec_driver_sql("PRAGMA synchronous").scalar() for c in pooled}
        for c in pooled:
            c.close()

    # A save goes without waiting (NORMAL); ending a session (here the id replaced at sign-in)
    # and every record wait (FULL).
    assert levels == {"session INSERT": {1}, "session DELETE": {2}, "record": {2}}
    assert after == {2}


def test_should_put_the_connection_back_waiting_for_the_disk_when_a_save_fails(app, clock):
    if uses_redis(app) or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's synchronous setting")
    store = app.session_interface.store
    with app.app_context():
        with pytest.raises(Exception, match="bytes-like object is required"):
            store.save("key", object(), clock(), timedelta(minutes=5))  # refused mid-transaction
        pooled = [db.engine.connect() for _ in range(3)]
        after = {c.exec_driver_sql("PRAGMA synchronous").scalar() for c in pooled}
        for c in pooled:
            c.close()

    assert after == {2}


def test_should_wait_for_the_disk_on_a_connection_not_in_wal_mode(app):
    """Outside WAL mode NORMAL could corrupt the file on a power cut: a connection whose WAL
    did not take (a file system without shared memory) saves sessions waiting."""
    if uses_redis(app) or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's synchronous setting")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.info[WAL] is True  # what the app's connections report
        connection.info[WAL] = False  # as one whose PRAGMA journal_mode=WAL was refused
        with _without_waiting_for_the_disk(connection):
            inside = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        connection.info[WAL] = True

    assert inside == 2  # FULL


def test_should_replace_a_saved_session_s_data_and_expiry_when_saved_again(app, clock):
    store = app.session_interface.store
    now = clock()
    with app.app_context():
        store.save("key", b"first", now, timedelta(minutes=5))
        store.save("other", b"another", now, timedelta(minutes=5))
        store.save("key", b"second", now, timedelta(minutes=30))
        assert store.load("key", now + timedelta(minutes=10)).data == b"second"
        assert store.load("other", now).data == b"another"
        if not uses_redis(app):  # Redis keeps time itself (a TTL), not by the test clock
            assert store.load("key", now + timedelta(minutes=31)).data is None
            assert db.session.scalar(select(func.count()).select_from(StoredSession)) == 2
