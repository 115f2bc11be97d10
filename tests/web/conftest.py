"""Helpers for the Flask test-client tests.

- `app` is tests/conftest.py's app with the cheap argon2 profile (see its docstring).
- `client` is the root fixture's test client, made watchful: no response outside the sandbox
  may carry a one-time code the test has typed or computed (see `vip.code`).
- `auth.login()` signs in the demo prescriber. It is the ONE place that knows how: switch it to
  the real sign-in when that lands.
- `client_request` gets and posts (with the session's CSRF token), asserts the status and
  redirect, parses the HTML and checks the house rules on every page (support.pages).
- `vip` stands in for the VIP Access app: sandbox credentials and their codes (pyotp, at the
  injected clock).
- `enrol` walks the wizard's steps with valid answers, so a test can start at any step.
- `store` reads and writes the database directly (tokens, audit events, another prescriber).
- `make_app` builds another app from WIZARD_* variables (production, sandbox off, ...), and
  `flask_cli(app, ...)` runs a `flask --app wizard` command against it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.csrf import session_csrf_token
from support.pages import Page, read_page
from werkzeug.test import TestResponse

from wizard.cli import create_schema
from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.crypto import SeedCipher
from wizard.store.models import AuditEvent, OathCredential, Prescriber, Token

DEMO_NPI = "1234567893"

# --- The app ----------------------------------------------------------------------------------


@pytest.fixture
def app(app_factory: Callable[..., Flask], database, clock) -> Iterator[Flask]:
    """tests/conftest.py's app (fresh database, sandbox on, CSRF on, the test clock), plus
    ARGON2_CHEAP: create_app and the demo seed each hash a passphrase, and at the default
    argon2 cost that was over half of this suite's time. Drop this override once the root
    fixture passes ARGON2_CHEAP itself."""
    database_url = database.main()
    environ = environ_for(database_url)
    app = app_factory(
        {
            "TESTING": True,
            "ARGON2_CHEAP": True,
            "SANDBOX": True,
            "SECRET_KEY": environ["WIZARD_SECRET_KEY"],
            "SEED_KEY": environ["WIZARD_SEED_KEY"],
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CLOCK": clock,
        },
        environ=environ,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- The client -------------------------------------------------------------------------------

_DIGIT_BOUNDED = "(?<![0-9]){}(?![0-9])"


class WatchfulClient(FlaskClient):
    """A test client that fails the test when a response outside /sandbox/ shows a one-time
    code the test has used. Codes are matched as whole numbers (a code inside a longer run of
    digits, such as a Credential ID, is something else)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes: set[str] = set()
        self.responses: list[TestResponse] = []

    def never_show(self, code: str) -> None:
        self.codes.add(code)

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        self.responses.append(response)
        if not response.request.path.startswith("/sandbox/"):
            body = response.get_data(as_text=True)
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            for code in self.codes:
                pattern = _DIGIT_BOUNDED.format(re.escape(code))
                assert not re.search(pattern, body), (
                    f"{response.request.method} {response.request.path} shows the code {code}"
                )
                assert not re.search(pattern, headers), (
                    f"{response.request.method} {response.request.path} puts the code {code} "
                    "in a header"
                )
        return response


@pytest.fixture
def client(app: Flask) -> WatchfulClient:
    app.test_client_class = WatchfulClient
    return app.test_client()


class ClientRequest:
    """Notify-style requests: assert the status (and redirect), return the parsed page."""

    def __init__(self, client: WatchfulClient) -> None:
        self.client = client

    def _headers(self, htmx: bool, extra: dict | None) -> dict[str, str]:
        headers = {"HX-Request": "true"} if htmx else {}
        return {**headers, **(extra or {})}

    def _finish(
        self, response: TestResponse, expected_status: int, expected_redirect: str | None
    ) -> Page:
        assert response.status_code == expected_status, (
            f"{response.request.method} {response.request.path} answered "
            f"{response.status_code}, expected {expected_status}: "
            f"{response.headers.get('Location', '')}\n{response.get_data(as_text=True)[:3000]}"
        )
        if expected_redirect is not None:
            assert response.headers.get("Location") == expected_redirect
        return read_page(response)

    def get(
        self,
        url: str,
        *,
        _expected_status: int | None = None,
        _expected_redirect: str | None = None,
        _htmx: bool = False,
        _headers: dict | None = None,
    ) -> Page:
        """GET url; expects 200, or 303 to _expected_redirect."""
        if _expected_status is None:
            _expected_status = 303 if _expected_redirect else 200
        response = self.client.get(url, headers=self._headers(_htmx, _headers))
        return self._finish(response, _expected_status, _expected_redirect)

    def post(
        self,
        url: str,
        data: dict | None = None,
        *,
        _expected_status: int | None = None,
        _expected_redirect: str | None = None,
        _htmx: bool = False,
        _headers: dict | None = None,
        _csrf: bool | str = True,
    ) -> Page:
        """POST url with a valid CSRF token (htmx sends it as a header, a form as a field), or
        with the token given (_csrf="..."), or none (_csrf=False); expects 303 to
        _expected_redirect, or the status given."""
        if _expected_status is None:
            assert _expected_redirect, "say which status or redirect the POST should give"
            _expected_status = 303
        token = session_csrf_token(self.client) if _csrf is True else _csrf
        data = dict(data or {})
        headers = self._headers(_htmx, _headers)
        if token and _htmx:
            headers["X-CSRFToken"] = token
        elif token:
            data["csrf_token"] = token
        response = self.client.post(url, data=data, headers=headers)
        return self._finish(response, _expected_status, _expected_redirect)

    def csrf_token(self) -> str:
        """The CSRF token of this client's session now."""
        return session_csrf_token(self.client)


@pytest.fixture
def client_request(client: WatchfulClient) -> ClientRequest:
    return ClientRequest(client)


# --- Signing in -------------------------------------------------------------------------------


class AuthActions:
    """Signs the demo prescriber in through the real sign-in: NPI and passphrase, then a code
    from the demo's Active token."""

    def __init__(self, client: WatchfulClient, app: Flask) -> None:
        self.client = client
        self.app = app
        # Each code is accepted once: successive sign-ins at one clock time use the time
        # steps the verifier still accepts, one after another (now - 30 s, now, now + 30 s).
        self._offsets = iter((-30, 0, 30))

    def login(self, client: FlaskClient | None = None) -> dict:
        """Sign in as the demo prescriber (seeded once); return the seed's description.
        Signs in this test's client, or the other client given (a second browser)."""
        client = client or self.client
        now = self.app.config["CLOCK"]()
        with self.app.app_context():
            demo = sandbox.seed_demo(now)
            active = next(t for t in demo["tokens"] if t["status"] == "Active")
            token_id = db.session.scalar(
                select(Token.id).where(Token.credential_id == active["credential_id"])
            )
        response = client.post(
            "/sign-in",
            data={
                "npi": demo["npi"],
                "passphrase": demo["passphrase"],
                "csrf_token": session_csrf_token(client),
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        at = now + timedelta(seconds=next(self._offsets))
        response = client.post(
            "/sign-in/code",
            data={
                "token": token_id,
                "code": pyotp.TOTP(active["secret"]).at(at),
                "csrf_token": session_csrf_token(client),
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return demo


@pytest.fixture
def auth(client: WatchfulClient, app: Flask) -> AuthActions:
    return AuthActions(client, app)


@pytest.fixture
def auth_for() -> Callable[[FlaskClient, Flask], AuthActions]:
    """auth_for(client, app).login(): sign in on another app than the test's."""
    return AuthActions


@pytest.fixture
def demo_seeded(app: Flask) -> dict:
    """The demo prescriber seeded but not signed in; the seed's description."""
    with app.app_context():
        return sandbox.seed_demo(app.config["CLOCK"]())


@pytest.fixture
def demo(auth: AuthActions) -> dict:
    """Signed in as the demo prescriber; the seed's description (NPI, tokens, secrets)."""
    return auth.login()


# --- The practice VIP Access app -------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    credential_id: str
    secret: str


class PracticeApp:
    """Sandbox credentials and the codes they show at the test clock."""

    def __init__(self, app: Flask, client: WatchfulClient, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    def issue(self, prefix: str = "SYMC", kind: str = "vip") -> Credential:
        """A new sandbox credential bound to no one (the service `sandbox issue` calls)."""
        with self.app.app_context():
            issued = sandbox.issue(self.clock(), prefix=prefix, kind=kind)
        return Credential(issued.credential_id, issued.secret)

    def add(self, credential_id: str) -> Credential:
        """A sandbox credential with the Credential ID given (to type look-alike letters)."""
        secret = pyotp.random_base32(length=32)
        with self.app.app_context():
            cipher = self.app.extensions["seed_cipher"]
            db.session.add(
                OathCredential(
                    credential_id=credential_id,
                    sealed_secret=cipher.seal(secret, credential_id),
                    source="sandbox",
                    created_at=self.clock(),
                )
            )
            db.session.commit()
        return Credential(credential_id, secret)

    def code(self, credential: Credential | dict, at: datetime | None = None) -> str:
        """The code the app shows (pyotp); the watchful client will refuse to see it."""
        secret = credential["secret"] if isinstance(credential, dict) else credential.secret
        code = pyotp.TOTP(secret).at(at or self.clock())
        self.client.never_show(code)
        return code

    def wrong_code(self, credential: Credential | dict) -> str:
        """Six digits that match none of the codes accepted now (the step either side)."""
        secret = credential["secret"] if isinstance(credential, dict) else credential.secret
        totp = pyotp.TOTP(secret)
        now = self.clock()
        near = {totp.at(now, counter_offset=offset) for offset in (-1, 0, 1)}
        candidate = int(totp.at(now))
        while f"{candidate:06d}" in near:
            candidate = (candidate + 500_001) % 1_000_000
        code = f"{candidate:06d}"
        self.client.never_show(code)
        return code


@pytest.fixture
def vip(app: Flask, client: WatchfulClient, clock) -> PracticeApp:
    return PracticeApp(app, client, clock)


# --- Walking the wizard -----------------------------------------------------------------------


class Enrolment:
    """Valid answers for each step, by plain form posts."""

    def __init__(self, client_request: ClientRequest, vip: PracticeApp) -> None:
        self.request = client_request
        self.vip = vip
        self.credential: Credential | None = None
        self.code: str | None = None
        self.saved = 0

    def choose_device(self, device: str = "iphone") -> Page:
        return self.request.post(
            "/enroll/get-app",
            {"platform": device, "different_device": "y"},
            _expected_redirect="/enroll/credential-id",
        )

    def enter_credential(self, credential: Credential | None = None, typed: str | None = None):
        self.credential = credential or self.vip.issue()
        return self.request.post(
            "/enroll/credential-id",
            {"credential_id": typed or self.credential.credential_id},
            _expected_redirect="/enroll/security-code",
        )

    def enter_code(self) -> Page:
        assert self.credential is not None
        self.code = self.vip.code(self.credential)
        return self.request.post(
            "/enroll/security-code", {"code": self.code}, _expected_redirect="/enroll/name"
        )

    def save(self, nickname: str | None = None) -> Page:
        """Save under nickname, or "My phone" ("My phone 2" in the next run, …)."""
        self.saved += 1
        nickname = nickname or ("My phone" if self.saved == 1 else f"My phone {self.saved}")
        return self.request.post(
            "/enroll/name", {"nickname": nickname}, _expected_redirect="/enroll/done"
        )

    def reach(self, step: str, device: str = "iphone", credential: Credential | None = None):
        """Complete every step before step ('credential-id' … 'done'); return the credential."""
        order = ["get-app", "credential-id", "security-code", "name", "done"]
        actions = [
            lambda: self.choose_device(device),
            lambda: self.enter_credential(credential),
            self.enter_code,
            self.save,
        ]
        for action in actions[: order.index(step)]:
            action()
        return self.credential


@pytest.fixture
def enrol(client_request: ClientRequest, vip: PracticeApp) -> Enrolment:
    return Enrolment(client_request, vip)


# --- Looking at the database ------------------------------------------------------------------


class Store:
    """Reads and writes the database directly, each call in a fresh app context."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def all(self, statement) -> list:
        """The scalars a select() gives, detached."""
        with self.app.app_context():
            rows = list(db.session.scalars(statement))
            db.session.expunge_all()
            return rows

    def one(self, statement):
        rows = self.all(statement)
        assert len(rows) == 1, rows
        return rows[0]

    def count(self, model, *where) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

    def tokens(self, credential_id: str) -> list[Token]:
        return self.all(select(Token).where(Token.credential_id == credential_id))

    def audit(self, action: str) -> list[AuditEvent]:
        return self.all(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )

    def prescriber(self, npi: str = DEMO_NPI) -> Prescriber:
        return self.one(select(Prescriber).where(Prescriber.npi == npi))

    def prescriber_tokens(self, npi: str = DEMO_NPI) -> list[Token]:
        return self.all(
            select(Token).join(Prescriber).where(Prescriber.npi == npi).order_by(Token.id)
        )

    def set_status(self, credential_id: str, status: str) -> None:
        with self.app.app_context():
            for token in db.session.scalars(
                select(Token).where(Token.credential_id == credential_id, Token.status != "Deleted")
            ):
                token.status = status
            db.session.commit()

    def add_other_prescriber(self, credential_id: str, status: str = "Active") -> None:
        """Another account, Dr. Jordan Other (NPI 1245319599), holding credential_id."""
        with self.app.app_context():
            other = Prescriber(npi="1245319599", name="Dr. Jordan Other", passphrase_hash=None)
            db.session.add(other)
            db.session.flush()
            db.session.add(
                Token(
                    prescriber_id=other.id,
                    nickname="Jordan's work phone",
                    nickname_key="jordan's work phone",
                    credential_id=credential_id,
                    manufacturer="SYMANTEC",
                    token_type="OTP SOFT TOKEN",
                    model="VIP",
                    status=status,
                )
            )
            db.session.commit()


@pytest.fixture
def store(app: Flask) -> Store:
    return Store(app)


# --- Other apps -------------------------------------------------------------------------------


def environ_for(database_url: str, **extra: str) -> dict[str, str]:
    """WIZARD_* variables with keys of their own (so instance/ is never touched)."""
    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": database_url,
        "WIZARD_SECRET_KEY": secrets.token_hex(32),
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        **extra,
    }


@pytest.fixture
def make_app(app_factory: Callable[..., Flask], database, clock) -> Iterator[Callable[..., Flask]]:
    """make_app(schema=True, **WIZARD_variables): an app from the environment given, over a
    fresh database of the test's backend (empty with schema=False) unless WIZARD_DATABASE_URL
    is given; test clock; TESTING."""
    built: list[Flask] = []

    def make(schema: bool = True, **variables: str) -> Flask:
        own_url = "WIZARD_DATABASE_URL" in variables
        if own_url:
            database_url = variables["WIZARD_DATABASE_URL"]
        else:
            database_url = database.fresh() if schema else database.empty()
        environ = environ_for(database_url)
        environ.update(variables)
        environ = {k: v for k, v in environ.items() if v is not None}
        made = app_factory({"TESTING": True, "ARGON2_CHEAP": True, "CLOCK": clock}, environ)
        built.append(made)
        if schema and own_url:
            with made.app_context():
                create_schema()
        return made

    yield make
    for made in built:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def flask_cli() -> Callable[..., Any]:
    """flask_cli(app, "sandbox", "seed") runs `flask --app wizard sandbox seed` against app."""

    def invoke(app: Flask, *args: str):
        with app.app_context():
            return app.test_cli_runner().invoke(args=list(args))

    return invoke
