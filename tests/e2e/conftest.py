"""Browser tests: the wizard on a live server in a thread, driven in Debian's Chromium.

Every test in tests/e2e is marked `e2e` (run the rest alone with `pytest -m "not e2e"`).
pytest-playwright provides `browser`, `context` and `page`; pages get the live server as
their base URL, so `page.goto("/healthz")` works as well as `page.goto(base_url + "/healthz")`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import chromium
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page
from support.accounts import new_npi, real_time
from support.http import serve

from wizard.cli import create_schema
from wizard.extensions import db
from wizard.services import invitations
from wizard.services.sandbox import seed_demo
from wizard.store.crypto import SeedCipher

E2E_DIR = Path(__file__).resolve().parent
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask
    demo: dict


@contextmanager
def serving(
    tmp_path_factory: pytest.TempPathFactory,
    app_factory: Callable[..., Flask],
    name: str = "live-server",
    **environ: str,
) -> Iterator[LiveServer]:
    """The wizard in sandbox mode on 127.0.0.1 and a free port, real clock, demo data seeded;
    environ adds WIZARD_* variables (VIP's, for one)."""
    database = tmp_path_factory.mktemp(name) / "wizard.sqlite3"
    app = app_factory(
        # Every browser test comes from 127.0.0.1 as the demo prescriber: the per-address and
        # per-prescriber limits are tested elsewhere.
        {
            "ARGON2_CHEAP": True,
            "SIGN_IN_RATE_LIMIT": "10000 per minute",
            "CODE_RATE_LIMIT": "10000 per minute",
            "CREDENTIAL_ID_RATE_LIMIT": "10000 per minute",
            "CREDENTIAL_ID_ACCOUNT_RATE_LIMIT": "10000 per minute",
            "HELPDESK_LOOKUP_RATE_LIMIT": "10000 per minute",
        },
        environ={
            "WIZARD_SANDBOX": "1",
            "WIZARD_DATABASE_URL": f"sqlite:///{database}",
            "WIZARD_SECRET_KEY": secrets.token_hex(32),
            "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
            **environ,
        },
    )
    with app.app_context():
        create_schema()
        demo = seed_demo(app.config["CLOCK"]())
        db.session.remove()
    try:
        with serve(app) as url:
            yield LiveServer(url=url, app=app, demo=demo)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, app_factory: Callable[..., Flask]
) -> Iterator[LiveServer]:
    """The wizard in sandbox mode on 127.0.0.1 and a free port, real clock, demo data seeded."""
    with serving(tmp_path_factory, app_factory) as live:
        yield live


@pytest.fixture(scope="session")
def serve_wizard(tmp_path_factory: pytest.TempPathFactory, app_factory: Callable[..., Flask]):
    """serve_wizard(name, **WIZARD_variables): a context manager serving another live server."""
    return partial(serving, tmp_path_factory, app_factory)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """The live server's address, e.g. http://127.0.0.1:41234 (no trailing slash)."""
    return live_server.url


@pytest.fixture
def app(live_server: LiveServer) -> Flask:
    """The live server's app: `make_account` and `account` (tests/conftest.py) make each test
    a prescriber of its own there (sign in with helpers.sign_in(page, account)), so the token
    limit, the lockout counters and the one-code-per-time-step rule never meet another test's.
    """
    return live_server.app


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The live server runs on the real time."""
    return real_time


@dataclass(frozen=True)
class Invitation:
    code: str  # the Invitation ID, as the administrator would send it
    npi: str
    name: str
    organisation: str
    dea: str


@pytest.fixture
def invite(live_server: LiveServer) -> Callable[..., Invitation]:
    """invite(name=…, proofed=True): an invitation for a new NPI, as `flask invite` makes it."""

    def make(name: str = "Dr. Sam Newcomer", *, proofed: bool = True) -> Invitation:
        npi = new_npi()
        organisation, dea = "CalMHSA", "AB1234563"
        with live_server.app.app_context():
            try:
                code, _row = invitations.create(
                    npi=npi,
                    name=name,
                    email="sam.newcomer@example.org",
                    organisation=organisation,
                    dea=dea,
                    proofed=proofed,
                    now=datetime.now(UTC),
                )
            finally:
                db.session.remove()
        return Invitation(code, npi, name, organisation, dea)

    return make


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium ($CHROMIUM or /usr/bin/chromium): Playwright cannot download one here."""
    return chromium.launch_args(browser_type_launch_args)


@pytest.fixture
def nojs_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A browser context with JavaScript off: the wizard must work as plain HTML forms."""
    return new_context(java_script_enabled=False)


@pytest.fixture
def nojs_page(nojs_context: BrowserContext) -> Page:
    return nojs_context.new_page()


@pytest.fixture
def phone_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A phone-sized touch context (390 x 844)."""
    return new_context(**PHONE)


@pytest.fixture
def phone_page(phone_context: BrowserContext) -> Page:
    return phone_context.new_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """screenshot(name, page=None): save test-results/screenshots/<name>.png (the test's `page`
    unless another is given) and return its path."""
    folder = request.config.rootpath / "test-results" / "screenshots"

    def take(name: str, page: Page | None = None, *, full_page: bool = True) -> Path:
        target = page if page is not None else request.getfixturevalue("page")
        path = folder / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(path), full_page=full_page)
        return path

    return take
