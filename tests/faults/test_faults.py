"""Faults: the server killed mid-wizard, two app servers on one database, the database gone.

The servers here are real processes (`flask --app wizard run`) on 127.0.0.1, driven over
HTTP with a cookie jar, as a browser would drive them. Each test runs on SQLite and on
PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cluster import RedisServer
from cluster.processes import ServiceError, free_port, wait_for_http
from support.accounts import create_account
from support.http import HttpClient

from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.crypto import SeedCipher
from wizard.store.models import Token


class Server:
    """`flask --app wizard run` in its own process, on a port of its own."""

    def __init__(self, environ: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wizard",
                "run",
                "--port",
                str(self.port),
                "--no-reload",
            ],
            env={**os.environ, **environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_http(self.url + "/healthz", self.process, f"the server on port {self.port}")
        except ServiceError:
            self.kill()
            raise

    def kill(self) -> None:
        """As a crash would: SIGKILL, no chance to tidy up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def environ(database) -> dict[str, str]:
    """The servers' settings, over a fresh database of the test's backend."""
    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": database.fresh(),
        "WIZARD_SECRET_KEY": "faults-secret-key-0123456789abcdef",
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
    }


@pytest.fixture
def setup(app_factory, environ) -> Iterator[tuple]:
    """The schema, a prescriber with one Active token, and a practice credential to add."""
    app = app_factory({"ARGON2_CHEAP": True}, environ)
    with app.app_context():
        account = create_account(datetime.now(UTC))
        issued = sandbox.issue(datetime.now(UTC))
    yield app, account, issued
    with app.app_context():
        db.engine.dispose()


def sign_in(browser: HttpClient, server: Server, account, at: datetime | None = None) -> None:
    token = account.token()
    reply = browser.post(
        server.url + "/sign-in", {"npi": account.npi, "passphrase": account.passphrase}
    )
    assert (reply.status_code, reply.location) == (303, "/sign-in/code")
    reply = browser.post(server.url + "/sign-in/code", {"token": token.id, "code": token.code(at)})
    assert (reply.status_code, reply.location) == (303, "/"), "sign-in refused"


def reach_security_code(browser: HttpClient, server: Server, credential_id: str) -> None:
    reply = browser.post(
        server.url + "/enroll/get-app", {"platform": "iphone", "different_device": "y"}
    )
    assert (reply.status_code, reply.location) == (303, "/enroll/credential-id")
    reply = browser.post(server.url + "/enroll/credential-id", {"credential_id": credential_id})
    assert (reply.status_code, reply.location) == (303, "/enroll/security-code")


def test_should_resume_at_the_same_step_after_the_server_is_killed(environ, setup):
    app, account, issued = setup
    server = Server(environ)
    browser = HttpClient()
    try:
        sign_in(browser, server, account)
        reach_security_code(browser, server, issued.credential_id)
    finally:
        server.kill()

    restarted = Server(environ, port=server.port)
    try:
        reply = browser.get(restarted.url + "/enroll")
        assert (reply.status_code, reply.location) == (302, "/enroll/security-code")
        reply = browser.get(restarted.url + "/enroll/security-code")
        assert reply.status_code == 200
        assert issued.credential_id in reply.text, (
            "what was entered before the crash is shown again"
        )
        reply = browser.get(restarted.url + "/enroll/name")
        assert reply.location == "/enroll/security-code", "and no step is skipped"
    finally:
        restarted.kill()


def test_should_refuse_on_one_server_a_code_accepted_by_the_other(environ, setup):
    app, account, _ = setup
    first, second = Server(environ), Server(environ)
    try:
        now = datetime.now(UTC)
        sign_in(HttpClient(), first, account, now)
        other = HttpClient()
        token = account.token()
        other.post(second.url + "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
        reply = other.post(
            second.url + "/sign-in/code", {"token": token.id, "code": token.code(now)}
        )
        assert reply.status_code == 422
        assert "already been used" in reply.text
    finally:
        first.kill()
        second.kill()


def test_should_continue_on_one_server_a_wizard_started_on_the_other(environ, setup):
    app, account, issued = setup
    first, second = Server(environ), Server(environ)
    browser = HttpClient()
    try:
        sign_in(browser, first, account)
        reach_security_code(browser, first, issued.credential_id)
        code = sandbox_code(app, issued.credential_id)
        reply = browser.post(second.url + "/enroll/security-code", {"code": code})
        assert (reply.status_code, reply.location) == (303, "/enroll/name")
        reply = browser.post(second.url + "/enroll/name", {"nickname": "Phone"})
        assert (reply.status_code, reply.location) == (303, "/enroll/done")
        reply = browser.get(first.url + "/enroll/done")
        assert reply.status_code == 200 and "Phone" in reply.text
    finally:
        first.kill()
        second.kill()
    with app.app_context():
        saved = db.session.query(Token).filter_by(credential_id=issued.credential_id).all()
        assert [t.status for t in saved] == ["Active"]


def sandbox_code(app, credential_id: str) -> str:
    with app.app_context():
        return sandbox.current_code(credential_id, datetime.now(UTC)).code


def sign_in_test_client(client, account, at: datetime, csrf_token):
    """Sign account in through Flask's test client; the response to the code step."""
    token = account.token()
    form = {"npi": account.npi, "passphrase": account.passphrase}
    client.post("/sign-in", data={**form, "csrf_token": csrf_token(client, "/sign-in")})
    form = {"token": token.id, "code": token.code(at)}
    return client.post(
        "/sign-in/code", data={**form, "csrf_token": csrf_token(client, "/sign-in/code")}
    )


def test_should_answer_503_while_the_database_is_gone_and_lose_nothing(
    app, client, csrf_token, account, clock, database
):
    """In process: the database made unreachable under a running app (SQLite: its folder
    moved away; PostgreSQL: every connection refused and ended), then given back."""
    sign_in_test_client(client, account, clock(), csrf_token)
    form_token = csrf_token(client, "/enroll/get-app")
    with app.app_context():
        before = db.session.query(Token).count()
        db.engine.dispose()
    # As in production: an error becomes a page, not an exception in the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with database.gone(app.config["SQLALCHEMY_DATABASE_URI"]):
        health = client.get("/healthz")
        assert health.status_code == 503
        page = client.post(
            "/enroll/get-app",
            data={"platform": "iphone", "different_device": "y", "csrf_token": form_token},
        )
        assert page.status_code == 503
        assert "cannot reach our database" in page.get_data(as_text=True)
        with app.app_context():
            db.engine.dispose()
    assert client.get("/healthz").status_code == 200
    assert client.get("/enroll/get-app").status_code == 200, "signed in still: nothing was lost"
    with app.app_context():
        assert db.session.query(Token).count() == before


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of the test's own on 127.0.0.1 (installed by `make test`)."""
    with RedisServer() as server:
        yield server.url()


def test_should_continue_across_servers_sharing_one_redis_session_store(environ, setup, redis_url):
    app, account, issued = setup
    shared = {**environ, "WIZARD_SESSION_REDIS_URL": redis_url}
    first, second = Server(shared), Server(shared)
    browser = HttpClient()
    try:
        sign_in(browser, first, account)
        reach_security_code(browser, first, issued.credential_id)
        reply = browser.get(second.url + "/enroll/security-code")
        assert reply.status_code == 200 and issued.credential_id in reply.text
        code = sandbox_code(app, issued.credential_id)
        reply = browser.post(second.url + "/enroll/security-code", {"code": code})
        assert (reply.status_code, reply.location) == (303, "/enroll/name")
        # A sign-in code accepted through one server is refused through the other (the
        # next time step: this step's code was used above).
        now = datetime.now(UTC) + timedelta(seconds=30)
        sign_in(HttpClient(), first, account, now)
        other = HttpClient()
        other.post(second.url + "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
        token = account.token()
        reply = other.post(
            second.url + "/sign-in/code", {"token": token.id, "code": token.code(now)}
        )
        assert reply.status_code == 422 and "already been used" in reply.text
    finally:
        first.kill()
        second.kill()
    import redis

    keys = redis.Redis.from_url(redis_url).keys("session:*")
    assert keys, "the sessions lived in Redis"
    with app.app_context():
        rows = db.session.execute(db.text("SELECT COUNT(*) FROM server_sessions")).scalar()
    assert rows == 0, "and not in the database"


def test_should_count_sign_in_attempts_on_both_servers_together(environ, setup, redis_url):
    """Rate-limit counts in one Redis (WIZARD_RATELIMIT_STORAGE_URL): four attempts a minute
    per address in all, whichever server takes them."""
    shared = {
        **environ,
        "WIZARD_RATELIMIT_STORAGE_URL": redis_url.removesuffix("/0") + "/1",
        "WIZARD_SIGN_IN_RATE_LIMIT": "4 per minute",
    }
    first, second = Server(shared), Server(shared)
    browser = HttpClient()
    form = {"npi": "1245319599", "passphrase": "no account has this passphrase"}
    try:
        statuses = [
            browser.post(server.url + "/sign-in", form).status_code
            for server in (first, second, first, second, first, second)
        ]
    finally:
        first.kill()
        second.kill()
    assert statuses == [422, 422, 422, 422, 429, 429]


def test_should_answer_503_while_redis_is_gone_and_lose_nothing(
    app_factory, environ, clock, csrf_token
):
    """Sessions and sign-in counts in Redis: Redis killed under a running app, then back."""
    with RedisServer() as redis_server:
        shared = {
            **environ,
            "WIZARD_SESSION_REDIS_URL": redis_server.url(0),
            "WIZARD_RATELIMIT_STORAGE_URL": redis_server.url(1),
        }
        app = app_factory({"TESTING": True, "ARGON2_CHEAP": True, "CLOCK": clock}, shared)
        app.config["PROPAGATE_EXCEPTIONS"] = False
        browser = app.test_client()
        with app.app_context():
            account = create_account(clock())
        sign_in_page = browser.get("/sign-in")
        assert sign_in_page.status_code == 200

        redis_server.kill()
        for path in ("/sign-in", "/enroll/get-app", "/"):
            page = browser.get(path)
            assert page.status_code == 503, path
            assert "Try again in a few minutes" in page.get_data(as_text=True)
        health = app.test_client().get("/healthz")  # as a load balancer asks: no cookie
        assert (health.status_code, health.get_json()["redis"]) == (503, "unreachable")

        redis_server.start()
        assert browser.get("/healthz").status_code == 200
        signed_in = sign_in_test_client(browser, account, clock(), csrf_token)
        assert signed_in.headers["Location"] == "/", "the account and its token were kept"
        with app.app_context():
            db.engine.dispose()
