"""Faults: the server killed mid-wizard, two app servers on one database, the database gone.

The servers here are real processes (`flask --app wizard run`) on 127.0.0.1, driven over
HTTP with a cookie jar, as a browser would drive them. Each test runs on SQLite and on
PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cluster import RedisServer
from cluster.processes import free_port

from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.crypto import SeedCipher
from wizard.store.models import Token

STARTUP_SECONDS = 30


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
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        self.kill()
        raise AssertionError(f"the server on port {self.port} did not start")

    def kill(self) -> None:
        """As a crash would: SIGKILL, no chance to tidy up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and forms posted with the page's CSRF token; redirects are not followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=15) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def post(self, server: Server, path: str, data: dict) -> tuple[int, str, str]:
        status, _, page = self.request(server.url + path)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return self.request(server.url + path, {**data, "csrf_token": token})


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
def setup(app_factory, environ, request) -> Iterator[tuple]:
    """The schema, a prescriber with one Active token, and a practice credential to add."""
    app = app_factory({"ARGON2_CHEAP": True}, environ)
    create_account = request.config.pluginmanager.get_plugin(
        str(Path(__file__).resolve().parents[1] / "conftest.py")
    ).create_account
    with app.app_context():
        account = create_account(datetime.now(UTC))
        issued = sandbox.issue(datetime.now(UTC))
    yield app, account, issued
    with app.app_context():
        db.engine.dispose()


def sign_in(browser: Browser, server: Server, account, at: datetime | None = None) -> None:
    token = account.token()
    status, location, _ = browser.post(
        server, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase}
    )
    assert (status, location) == (303, "/sign-in/code")
    status, location, _ = browser.post(
        server, "/sign-in/code", {"token": token.id, "code": token.code(at)}
    )
    assert (status, location) == (303, "/"), "sign-in refused"


def reach_security_code(browser: Browser, server: Server, credential_id: str) -> None:
    status, location, _ = browser.post(
        server, "/enroll/get-app", {"platform": "iphone", "different_device": "y"}
    )
    assert (status, location) == (303, "/enroll/credential-id")
    status, location, _ = browser.post(
        server, "/enroll/credential-id", {"credential_id": credential_id}
    )
    assert (status, location) == (303, "/enroll/security-code")


def test_should_resume_at_the_same_step_after_the_server_is_killed(environ, setup):
    app, account, issued = setup
    server = Server(environ)
    browser = Browser()
    try:
        sign_in(browser, server, account)
        reach_security_code(browser, server, issued.credential_id)
    finally:
        server.kill()

    restarted = Server(environ, port=server.port)
    try:
        status, location, _ = browser.request(restarted.url + "/enroll")
        assert (status, location) == (302, "/enroll/security-code")
        status, _, page = browser.request(restarted.url + "/enroll/security-code")
        assert status == 200
        assert issued.credential_id in page, "what was entered before the crash is shown again"
        status, location, _ = browser.request(restarted.url + "/enroll/name")
        assert location == "/enroll/security-code", "and no step is skipped"
    finally:
        restarted.kill()


def test_should_refuse_on_one_server_a_code_accepted_by_the_other(environ, setup):
    app, account, _ = setup
    first, second = Server(environ), Server(environ)
    try:
        now = datetime.now(UTC)
        sign_in(Browser(), first, account, now)
        other = Browser()
        token = account.token()
        other.post(second, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
        status, location, page = other.post(
            second, "/sign-in/code", {"token": token.id, "code": token.code(now)}
        )
        assert status == 422
        assert "already been used" in page
    finally:
        first.kill()
        second.kill()


def test_should_continue_on_one_server_a_wizard_started_on_the_other(environ, setup):
    app, account, issued = setup
    first, second = Server(environ), Server(environ)
    browser = Browser()
    try:
        sign_in(browser, first, account)
        reach_security_code(browser, first, issued.credential_id)
        code = sandbox_code(app, issued.credential_id)
        status, location, _ = browser.post(second, "/enroll/security-code", {"code": code})
        assert (status, location) == (303, "/enroll/name")
        status, location, _ = browser.post(second, "/enroll/name", {"nickname": "Phone"})
        assert (status, location) == (303, "/enroll/done")
        status, _, page = browser.request(first.url + "/enroll/done")
        assert status == 200 and "Phone" in page
    finally:
        first.kill()
        second.kill()
    with app.app_context():
        saved = db.session.query(Token).filter_by(credential_id=issued.credential_id).all()
        assert [t.status for t in saved] == ["Active"]


def sandbox_code(app, credential_id: str) -> str:
    with app.app_context():
        return sandbox.current_code(credential_id, datetime.now(UTC)).code


def test_should_answer_503_while_the_database_is_gone_and_lose_nothing(
    app, client, csrf_token, account, clock, database
):
    """In process: the database made unreachable under a running app (SQLite: its folder
    moved away; PostgreSQL: every connection refused and ended), then given back."""
    token = account.token()
    client.post(
        "/sign-in",
        data={
            "npi": account.npi,
            "passphrase": account.passphrase,
            "csrf_token": csrf_token(client, "/sign-in"),
        },
    )
    client.post(
        "/sign-in/code",
        data={
            "token": token.id,
            "code": token.code(clock()),
            "csrf_token": csrf_token(client, "/sign-in/code"),
        },
    )
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
    browser = Browser()
    try:
        sign_in(browser, first, account)
        reach_security_code(browser, first, issued.credential_id)
        status, _, page = browser.request(second.url + "/enroll/security-code")
        assert status == 200 and issued.credential_id in page
        code = sandbox_code(app, issued.credential_id)
        status, location, _ = browser.post(second, "/enroll/security-code", {"code": code})
        assert (status, location) == (303, "/enroll/name")
        # A sign-in code accepted through one server is refused through the other (the
        # next time step: this step's code was used above).
        now = datetime.now(UTC) + timedelta(seconds=30)
        sign_in(Browser(), first, account, now)
        other = Browser()
        other.post(second, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
        token = account.token()
        status, _, page = other.post(
            second, "/sign-in/code", {"token": token.id, "code": token.code(now)}
        )
        assert status == 422 and "already been used" in page
    finally:
        first.kill()
        second.kill()
    import redis

    keys = redis.Redis.from_url(redis_url).keys("session:*")
    assert keys, "the sessions lived in Redis"
    with app.app_context():
        rows = db.session.execute(db.text("SELECT COUNT(*) FROM server_sessions")).scalar()
    assert rows == 0, "and not in the database"


def test_should_answer_503_while_redis_is_gone_and_lose_nothing(
    app_factory, environ, clock, csrf_token, request
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
        create_account = request.config.pluginmanager.get_plugin(
            str(Path(__file__).resolve().parents[1] / "conftest.py")
        ).create_account
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
        token = account.token()
        browser.post(
            "/sign-in",
            data={
                "npi": account.npi,
                "passphrase": account.passphrase,
                "csrf_token": csrf_token(browser, "/sign-in"),
            },
        )
        signed_in = browser.post(
            "/sign-in/code",
            data={
                "token": token.id,
                "code": token.code(clock()),
                "csrf_token": csrf_token(browser, "/sign-in/code"),
            },
        )
        assert signed_in.headers["Location"] == "/", "the account and its token were kept"
        with app.app_context():
            db.engine.dispose()
