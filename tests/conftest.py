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

import gc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import support.csrf
from click.testing import Result
from cluster.postgres import PostgresServer
from databases import BACKENDS, DatabaseSet, PostgresDatabases, SqliteDatabases
from flask import Flask, Response, request
from flask.testing import FlaskClient, FlaskCliRunner
from support import templates
from support.accounts import Account, account_maker
from support.us_english import check_page

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
    """create_app, with no WIZARD_* variable but those given; its templates compiled once for
    the whole run; every HTML page it renders is checked for British spellings."""
    app = create_app(test_config, environ=environ if environ is not None else {})
    app.jinja_env.bytecode_cache = templates.COMPILED  # compiled once for the whole run
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


# --- Garbage collection ----------------------------------------------------------------------


def pytest_collection_finish(session: pytest.Session) -> None:
    """Every test builds an app and a database and drops them, thousands of short-lived objects:
    with the default thresholds the collector ran often, and each full pass walked every module
    and class loaded by then (about 15% of a run's time). What is loaded by the end of the
    collection is frozen (never collected), and young collections are rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


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


@pytest.fixture
def csrf_token() -> Callable[[FlaskClient, str], str]:
    """csrf_token(client, url): GET a page and return the CSRF token it carries."""
    return support.csrf.csrf_token


# --- Accounts ------------------------------------------------------------------------------


@pytest.fixture
def make_account(app: Flask, clock: Clock) -> Callable[..., Account]:
    """make_account(statuses=("Active", ...), **kwargs): a fresh prescriber on the test's app
    at the test's clock (support.accounts.create_account). tests/e2e and tests/cluster give it
    their own `app` and `clock`."""
    return account_maker(app, clock)


@pytest.fixture
def account(make_account: Callable[..., Account]) -> Account:
    """A fresh prescriber with one Active token."""
    return make_account()
