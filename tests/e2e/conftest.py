"""Browser tests: the wizard on a live server in a thread, driven in Debian's Chromium.

Every test in tests/e2e is marked `e2e` (run the rest alone with `pytest -m "not e2e"`).
pytest-playwright provides `browser`, `context` and `page`; pages get the live server as
their base URL, so `page.goto("/healthz")` works as well as `page.goto(base_url + "/healthz")`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import chromium
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page
from werkzeug.serving import make_server

from wizard.cli import create_schema
from wizard.extensions import db
from wizard.services import invitations
from wizard.services.sandbox import seed_demo
from wizard.store.crypto import SeedCipher

E2E_DIR = Path(__file__).resolve().parent
ROOT_CONFTEST = E2E_DIR.parent / "conftest.py"  # create_account, new_npi, Account
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


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, app_factory: Callable[..., Flask]
) -> Iterator[LiveServer]:
    """The wizard in sandbox mode on 127.0.0.1 and a free port, real clock, demo data seeded."""
    database = tmp_path_factory.mktemp("live-server") / "wizard.sqlite3"
    app = app_factory(
        # Every browser test signs in from 127.0.0.1: the per-address limit is tested elsewhere.
        {"ARGON2_CHEAP": True, "SIGN_IN_RATE_LIMIT": "10000 per minute"},
        environ={
            "WIZARD_SANDBOX": "1",
            "WIZARD_DATABASE_URL": f"sqlite:///{database}",
            "WIZARD_SECRET_KEY": secrets.token_hex(32),
            "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        },
    )
    with app.app_context():
        create_schema()
        demo = seed_demo(app.config["CLOCK"]())
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.port}", app=app, demo=demo)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """The live server's address, e.g. http://127.0.0.1:41234 (no trailing slash)."""
    return live_server.url


@pytest.fixture(scope="session")
def shared(pytestconfig: pytest.Config) -> ModuleType:
    """tests/conftest.py as pytest loaded it (create_account, new_npi, Account).

    Every conftest.py here is a top-level module named "conftest", so `import conftest` would
    find whichever pytest loaded last; the plugin manager knows each one by its path.
    """
    module = pytestconfig.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    assert module is not None, f"pytest has not loaded {ROOT_CONFTEST}"
    return module


@pytest.fixture
def make_account(live_server: LiveServer, shared: ModuleType) -> Callable[..., Any]:
    """make_account(statuses=("Active",), **kw): a fresh prescriber on the live server.

    Made through the services by tests/conftest.py's create_account, with sandbox tokens named
    "Token 1", "Token 2"… in the given statuses. Each test has its own prescriber, so the token
    limit, the lockout counters and the one-code-per-time-step rule never meet another test's.
    """

    def make(statuses: tuple[str, ...] = ("Active",), **kwargs):
        with live_server.app.app_context():
            try:
                return shared.create_account(datetime.now(UTC), statuses=statuses, **kwargs)
            finally:
                db.session.remove()

    return make


@pytest.fixture
def account(make_account: Callable[..., Any]) -> Any:
    """A fresh prescriber with one Active token (sign in with helpers.sign_in(page, account))."""
    return make_account()


@dataclass(frozen=True)
class Invitation:
    code: str  # the Invitation ID, as the administrator would send it
    npi: str
    name: str
    organisation: str
    dea: str


@pytest.fixture
def invite(live_server: LiveServer, shared: ModuleType) -> Callable[..., Invitation]:
    """invite(name=…, proofed=True): an invitation for a new NPI, as `flask invite` makes it."""

    def make(name: str = "Dr. Sam Newcomer", *, proofed: bool = True) -> Invitation:
        npi = shared.new_npi()
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
