"""Fixtures shared by the web and end-to-end tests.

`app` is built with create_app over a fresh database and an injected clock; `client` and
`runner` are Flask's test client and CLI runner for it. Settings come from the test values
here only: the developer's own WIZARD_* variables never reach the app under test.

The web, race and fault tests (tests/web, tests/faults) run once on SQLite and once on
PostgreSQL: a test that uses `database` (as `app` and `make_app` do) is parametrized by
backend. The PostgreSQL server is started for the run (Debian's package, a temporary folder);
the run fails if it cannot start. `--databases=sqlite` runs them on SQLite alone.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyotp
import pytest
from click.testing import Result
from cluster.postgres import PostgresServer
from databases import BACKENDS, DatabaseSet, PostgresDatabases, SqliteDatabases
from flask import Flask, Response, request
from flask.testing import FlaskClient, FlaskCliRunner
from stdnum import luhn
from us_english import check_page

from wizard import create_app
from wizard.extensions import db
from wizard.store import schema
from wizard.store.crypto import SeedCipher

# The VIP stand-in fixtures (tests/web/vipsupport.py, on the pythonpath).
pytest_plugins = ["vipsupport"]

TEST_SECRET_KEY = "test-secret-key-for-the-wizard-tests-only"
TEST_SEED_KEY = SeedCipher.new_key_text()  # 32 random bytes, URL-safe base64; fixed for a run

# 2025-03-03 15:00:00 UTC: a weekday afternoon, on a 30-second TOTP step boundary.
CLOCK_START = datetime(2025, 3, 3, 15, 0, 0, tzinfo=UTC)


class Clock:
    """The time the app sees (config "CLOCK"). Call it to read; set .now or advance() to move it."""

    def __init__(self, now: datetime = CLOCK_START) -> None:
        self.now = now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the test clock needs an aware datetime (tzinfo=UTC)")
        self._now = value.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move forward by seconds (and/or timedelta keywords: minutes=, hours=); return now."""
        self.now = self._now + timedelta(seconds=seconds, **delta)
        return self._now


def wizard_environ(database_url: str, **extra: str) -> dict[str, str]:
    """WIZARD_* variables for create_app(environ=...); with the keys set, instance/ is untouched."""
    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": database_url,
        "WIZARD_SECRET_KEY": TEST_SECRET_KEY,
        "WIZARD_SEED_KEY": TEST_SEED_KEY,
        **extra,
    }


def build_app(test_config: dict | None = None, environ: dict | None = None) -> Flask:
    """create_app, with no WIZARD_* variable but those given; every HTML page it renders is
    checked for British spellings."""
    app = create_app(test_config, environ=environ if environ is not None else {})
    app.after_request(_in_us_english)
    return app


def _in_us_english(response: Response) -> Response:
    """House rule on every HTML page a test renders: no British spelling (us_english.py)."""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        check_page(response.get_data(as_text=True), f"{request.method} {request.path}")
    return response


@pytest.fixture(scope="session")
def app_factory() -> Callable[..., Flask]:
    """build_app(test_config, environ): for tests that need an app with other settings."""
    return build_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


# --- Databases -----------------------------------------------------------------------------

BOTH_BACKENDS = ("web", "faults")  # folders under tests/ whose tests run on every backend


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--databases",
        default=",".join(BACKENDS),
        help="backends for the web, race and fault tests: sqlite,postgresql (the default)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" not in metafunc.fixturenames:
        return
    folder = Path(metafunc.definition.path).resolve().relative_to(Path(__file__).parent).parts[0]
    if folder in BOTH_BACKENDS:
        wanted = metafunc.config.getoption("databases").split(",")
        unknown = set(wanted) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"--databases: unknown backend {', '.join(sorted(unknown))}")
        metafunc.parametrize("database", wanted, indirect=True)


def migrate_to_newest(database_url: str) -> None:
    """Build the schema at database_url with the migrations, as `flask db upgrade` does."""
    app = build_app(environ=wizard_environ(database_url))
    with app.app_context():
        schema.upgrade()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-template"), migrate_to_newest)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the run; the run fails (not skips) when it cannot start."""
    from cluster.processes import ServiceError

    server = PostgresServer()
    try:
        server.start()
    except ServiceError as error:
        server.stop()
        pytest.fail(f"PostgreSQL could not start for the tests: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql_databases(postgres_server: PostgresServer) -> PostgresDatabases:
    return PostgresDatabases(postgres_server, migrate_to_newest)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseSet]:
    """This test's databases on its backend (SQLite unless parametrized): main() for the
    app, fresh() and empty() for more; the ones made are dropped when the test ends."""
    backend = getattr(request, "param", "sqlite")
    provider = request.getfixturevalue(f"{backend}_databases")
    made = DatabaseSet(provider, tmp_path)
    yield made
    made.close()


@pytest.fixture
def app(database: DatabaseSet, clock: Clock) -> Iterator[Flask]:
    """The app over a fresh database with its schema, sandbox on, CSRF on, the test clock."""
    database_url = database.main()
    app = build_app(
        {
            "TESTING": True,
            "SANDBOX": True,
            "SECRET_KEY": TEST_SECRET_KEY,
            "SEED_KEY": TEST_SEED_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CLOCK": clock,
            "ARGON2_CHEAP": True,
        },
        environ=wizard_environ(database_url),
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class WizardCliRunner(FlaskCliRunner):
    """Runs commands inside an app context, as the `flask` command itself does (FlaskGroup
    pushes one before any app command); Flask's runner invokes app.cli without it."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:
        with self.app.app_context():
            return super().invoke(cli, args, **kwargs)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """runner.invoke(args=["sandbox", "seed"]) runs `flask --app wizard sandbox seed`."""
    return WizardCliRunner(app)


class _CsrfTokenFinder(HTMLParser):
    """Finds <input name="csrf_token" value=...> and <meta name="csrf-token" content=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.input_token: str | None = None
        self.meta_token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and self.input_token is None:
            self.input_token = found.get("value")
        elif tag == "meta" and found.get("name") == "csrf-token" and self.meta_token is None:
            self.meta_token = found.get("content")


def find_csrf_token(html: str) -> str | None:
    """The CSRF token in a page: the hidden input's value, else the meta tag's content."""
    finder = _CsrfTokenFinder()
    finder.feed(html)
    finder.close()
    return finder.input_token or finder.meta_token


def get_csrf_token(client: FlaskClient, url: str) -> str:
    """GET url (redirects are not followed) and return its CSRF token; fails when it has none.
    The public home page has none for a visitor without a session: "/" then reads sign-in's."""
    response = client.get(url)
    token = find_csrf_token(response.get_data(as_text=True))
    if not token and url == "/":
        response = client.get("/sign-in")
        token = find_csrf_token(response.get_data(as_text=True))
    if not token:
        raise AssertionError(
            f"GET {url} answered {response.status} without a CSRF token "
            '(no <input name="csrf_token"> and no <meta name="csrf-token">)'
        )
    return token


@pytest.fixture
def csrf_token() -> Callable[[FlaskClient, str], str]:
    """csrf_token(client, url): GET a page and return the CSRF token it carries."""
    return get_csrf_token


# --- Accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountToken:
    id: int
    nickname: str
    credential_id: str
    secret: str  # base32
    status: str
    algorithm: str = "totp"

    def code(self, at: datetime | None = None, counter: int | None = None) -> str:
        """The code this token shows at a time (TOTP) or counter (HOTP)."""
        if self.algorithm == "hotp":
            return pyotp.HOTP(self.secret).at(counter or 0)
        return pyotp.TOTP(self.secret).at(at or datetime.now(UTC))


@dataclass(frozen=True)
class Account:
    id: int
    npi: str
    name: str
    passphrase: str
    tokens: tuple[AccountToken, ...]

    def token(self, status: str = "Active") -> AccountToken:
        return next(t for t in self.tokens if t.status == status)


ACCOUNT_PASSPHRASE = "plum river lantern 42"
_npi_bases = itertools.count(int(secrets.token_hex(3), 16) % 10**7)


def new_npi() -> str:
    """A fresh valid NPI (Luhn over 80840 + NPI), different on every call."""
    base = f"1{next(_npi_bases) % 10**8:08d}"
    return base + luhn.calc_check_digit("80840" + base)


def create_account(
    now: datetime,
    *,
    statuses: tuple[str, ...] = ("Active",),
    name: str = "Dr. Robin Test",
    passphrase: str = ACCOUNT_PASSPHRASE,
    npi: str | None = None,
) -> Account:
    """A prescriber with sandbox tokens in the given statuses, made through the services.

    Call inside an app context. Tokens are VIP Access credentials named "Token 1", "Token 2"…
    With VIP configured, they are bound to the prescriber's VIP user at the stand-in.
    """
    from wizard.authority import authority
    from wizard.extensions import db
    from wizard.services import accounts, sandbox
    from wizard.store.models import Prescriber, Token

    prescriber = Prescriber(
        npi=npi or new_npi(),
        name=name,
        email="robin.test@example.org",
        passphrase_hash=accounts.hash_passphrase(passphrase),
        identity_proofed=True,
        created_at=now,
    )
    db.session.add(prescriber)
    db.session.flush()
    made = []
    for n, status in enumerate(statuses, start=1):
        issued = sandbox.issue(now)
        token = Token(
            prescriber_id=prescriber.id,
            nickname=f"Token {n}",
            nickname_key=f"token {n}",
            credential_id=issued.credential_id,
            manufacturer="SYMANTEC",
            token_type="OTP SOFT TOKEN",
            model="VIP",
            status=status,
            suspended_at=now if status == "Suspended" else None,
            vip_bound=authority().bind(prescriber, issued.credential_id, f"Token {n}"),
            created_at=now,
            updated_at=now,
        )
        db.session.add(token)
        db.session.flush()
        made.append(
            AccountToken(token.id, token.nickname, issued.credential_id, issued.secret, status)
        )
    db.session.commit()
    return Account(prescriber.id, prescriber.npi, name, passphrase, tuple(made))


@pytest.fixture
def account(app: Flask, clock: Clock) -> Account:
    """A fresh prescriber with one Active token, on the test-client app."""
    with app.app_context():
        return create_account(clock())
