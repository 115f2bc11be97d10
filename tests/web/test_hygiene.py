"""Production and input hygiene (issue 11): HSTS, a database file only its owner can read, the
client's address through trusted proxies, a cap on the request body and on every text
field, no control characters in any text field, no result rows in DEBUG logs, and no cache
of the funnel CSV. (Refused production settings: tests/web/test_configuration.py.)
"""

from __future__ import annotations

import html
import logging
import os
import re
import stat
from pathlib import Path

import pytest
from helpdesk_helpers import make_agent, sign_in_agent
from signing import audit_events, pause, post, sign_in
from support.accounts import account_maker
from support.csrf import csrf_token
from support.pages import page_text

from wizard.cli import create_schema
from wizard.extensions import db
from wizard.store.crypto import SeedCipher

WRONG = "not the right passphrase"


# --- HSTS --------------------------------------------------------------------------------------


def test_should_send_hsts_in_production(make_app):
    production = make_app(WIZARD_ENV="production", WIZARD_SANDBOX="0")
    for path in ("/", "/sign-in", "/no-such-page"):
        header = production.test_client().get(path).headers.get("Strict-Transport-Security")
        assert header == "max-age=31536000; includeSubDomains", path


def test_should_not_send_hsts_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


# --- The SQLite file ---------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def sqlite_app(app_factory, clock):
    """sqlite_app(path): an app over a SQLite file of the test's own (whatever the backend
    of the other tests), its schema made."""
    built = []

    def make(path: Path):
        environ = {
            "WIZARD_SANDBOX": "1",
            "WIZARD_DATABASE_URL": f"sqlite:///{path}",
            "WIZARD_SECRET_KEY": "k" * 40,
            "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        }
        made = app_factory({"TESTING": True, "ARGON2_CHEAP": True, "CLOCK": clock}, environ)
        built.append(made)
        with made.app_context():
            create_schema()
        return made

    yield make
    for made in built:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


def test_should_create_the_sqlite_file_and_its_journal_readable_by_the_owner_only(
    sqlite_app, tmp_path
):
    database = tmp_path / "private.sqlite3"
    old_umask = os.umask(0o022)  # the usual umask: files 0644 unless made otherwise
    try:
        app = sqlite_app(database)
        app.test_client().get("/sign-in")  # a request that writes (its session)
        with app.app_context():
            db.session.execute(db.text("SELECT 1"))  # a connection open: -wal and -shm exist
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            modes = {f.name: oct(mode(f)) for f in files}
    finally:
        os.umask(old_umask)
    assert modes == {f.name: "0o600" for f in files}


def test_should_make_an_existing_sqlite_file_readable_by_the_owner_only(sqlite_app, tmp_path):
    database = tmp_path / "existing.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    sqlite_app(database)
    assert mode(database) == 0o600


# --- Behind a proxy ----------------------------------------------------------------------------


def test_should_see_the_client_address_through_a_trusted_proxy(make_app, request, clock):
    app = make_app(WIZARD_TRUSTED_PROXIES="1")
    account = account_maker(app, clock)()
    via_proxy = app.test_client()
    via_proxy.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    # The proxy appends the address it saw; anything before it came from the client.
    forwarded = {
        "X-Forwarded-For": "192.0.2.66, 203.0.113.9",
        "X-Forwarded-Proto": "https",
        "Referer": "https://localhost/sign-in",  # over HTTPS, Flask-WTF checks it
    }
    token = csrf_token(via_proxy, "/sign-in")
    via_proxy.post(
        "/sign-in",
        data={"npi": account.npi, "passphrase": WRONG, "csrf_token": token},
        headers=forwarded,
    )
    [event] = audit_events(app, "sign-in.passphrase")
    assert event.client_address == "203.0.113.9"
    assert pause(app, f"prescriber:{account.npi}", "203.0.113.9").failures == 1


def test_should_ignore_forwarded_addresses_without_trusted_proxies(make_app, request, clock):
    app = make_app()
    account = account_maker(app, clock)()
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    client.post(
        "/sign-in",
        data={"npi": account.npi, "passphrase": WRONG, "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.9"},  # forged by the client itself
    )
    [event] = audit_events(app, "sign-in.passphrase")
    assert event.client_address == "127.0.0.1"


def test_per_address_limits_count_each_client_behind_the_proxy_apart(make_app):
    app = make_app(WIZARD_TRUSTED_PROXIES="1", WIZARD_SIGN_IN_RATE_LIMIT="2 per minute")

    def attempt(client_address: str) -> int:
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = "10.0.0.2"
        headers = {"X-Forwarded-For": client_address}
        token = csrf_token(browser, "/sign-in")
        data = {"npi": "1234567893", "passphrase": WRONG, "csrf_token": token}
        return browser.post("/sign-in", data=data, headers=headers).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [422, 422, 429]
    assert attempt("203.0.113.2") == 422


# --- Body and field caps -----------------------------------------------------------------------


def test_should_refuse_a_request_body_over_32_kb_with_a_clear_page(app, client, account):
    response = post(client, "/sign-in", {"npi": account.npi, "passphrase": "x" * 40_000})
    assert response.status_code == 413
    text = page_text(response)
    assert "That was too much to send" in text
    assert "Go back and enter less text." in text
    assert audit_events(app, "sign-in.passphrase") == []


def test_the_body_cap_follows_wizard_max_request_kb(make_app):
    app = make_app(WIZARD_MAX_REQUEST_KB="64")
    client = app.test_client()
    data = {"npi": "1234567893", "passphrase": "x" * 40_000}
    assert post(client, "/sign-in", data).status_code == 422  # the field cap, not the body


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        (
            "/sign-in",
            {"npi": "1234567893", "passphrase": "p" * 257},
            "passphrase",
            "Passphrase must be 256 characters or fewer",
        ),
        (
            "/forgot-passphrase",
            {"npi": "1234567893", "code": "123456", "reset_code": "R" * 300},
            "reset_code",
            "Reset code must be 256 characters or fewer",
        ),
        (
            "/helpdesk/sign-in",
            {"username": "a" * 65, "passphrase": "x" * 12, "code": "123456"},
            "username",
            "Your username must be 64 characters or fewer",
        ),
    ],
)
def test_should_refuse_an_overlong_field_next_to_it(app, client, url, data, field, message):
    response = post(client, url, data)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert [e for e in audit_events(app) if e.outcome != "success"] == []  # nothing checked


def field_error(response, field: str) -> str:
    """The message shown next to the field (its <p id="<field>-error">)."""
    body = response.get_data(as_text=True)
    marker = f'id="{field}-error">'
    assert marker in body, f"no error next to {field}: {page_text(response)[:600]}"
    return page_text_of(body.split(marker, 1)[1].split("</p>", 1)[0])


def page_text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- Control characters ------------------------------------------------------------------------

# NUL, a line break, DEL, a C1 control and a bidi override (shown right to left).
CONTROL = ["\x00", "line\nbreak", "\x7f", "\x85", "\u202eevil"]
ANONYMOUS_FORMS = [
    ("/sign-in", {"npi": "1234567893", "passphrase": "plum river lantern 42"}, "passphrase"),
    ("/sign-in", {"npi": "1234567893", "passphrase": "plum river lantern 42"}, "npi"),
    ("/lost-token", {"npi": "1234567893", "passphrase": "plum river lantern 42"}, "passphrase"),
    (
        "/forgot-passphrase",
        {"npi": "1234567893", "code": "123456", "reset_code": "ABCD-EFGH-JKMN-PQRS"},
        "reset_code",
    ),
    ("/start", {"invitation": "ABCD-EFGH-JKMN-PQRS", "npi": "1234567893"}, "invitation"),
    (
        "/helpdesk/sign-in",
        {"username": "pat.helpdesk", "passphrase": "x" * 12, "code": "123456"},
        "username",
    ),
    (
        "/helpdesk/sign-in",
        {"username": "pat.helpdesk", "passphrase": "x" * 12, "code": "123456"},
        "passphrase",
    ),
]


@pytest.mark.parametrize(("url", "data", "field"), ANONYMOUS_FORMS)
@pytest.mark.parametrize("value", ["a\x00b", "\x1b[31m"])
def test_should_refuse_control_characters_in_every_text_field(app, client, url, data, field, value):
    typed = {**data, field: data[field][:4] + value}
    response = post(client, url, typed)
    assert response.status_code == 422
    assert "must not contain invisible characters such as tabs or line breaks" in field_error(
        response, field
    )
    assert audit_events(app) == [], "refused before any check or count"


@pytest.mark.parametrize("value", CONTROL)
def test_should_refuse_control_characters_in_a_token_name_and_save_nothing(
    app, client, account, clock, value
):
    sign_in(client, account, clock())
    token = account.token()
    response = post(client, f"/tokens/{token.id}/rename", {"nickname": f"My {value} phone"})
    assert response.status_code == 422
    assert "Token name must not contain invisible characters" in field_error(response, "nickname")
    assert "Token 1" in page_text(client.get("/tokens"))


def test_should_refuse_control_characters_in_a_credential_id(app, client, account, clock):
    sign_in(client, account, clock())
    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    response = post(client, "/enroll/credential-id", {"credential_id": "SYMC\x001234 5678"})
    assert response.status_code == 422
    assert "must not contain invisible characters" in field_error(response, "credential_id")


# --- Logs --------------------------------------------------------------------------------------


def test_debug_logging_writes_no_result_rows(app, client, account, clock, caplog):
    """SQLAlchemy at DEBUG logs every row a query returns: passphrase hashes, session data
    with its CSRF token. Statements may be logged (without their parameters); rows never."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "werkzeug", "wizard", "flask_session", "flask_limiter"):
        caplog.set_level(logging.DEBUG, logger=name)
    sign_in(client, account, clock())
    token = csrf_token(client, "/tokens")
    with app.app_context():
        stored_hash = db.session.execute(
            db.text("SELECT passphrase_hash FROM prescribers WHERE id = :id"), {"id": account.id}
        ).scalar_one()

    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("SELECT") for line in lines), "statements are still logged"
    assert not [line for line in lines if line.startswith("Row ")]
    logged = "\n".join(lines)
    assert stored_hash not in logged
    assert "$argon2" not in logged
    assert token.split(".")[0] not in logged
    assert "rotated_at" not in logged  # a key of the session's data, set at sign-in


# --- The funnel CSV ----------------------------------------------------------------------------


def test_the_funnel_csv_is_never_cached(app, runner, clock):
    agent = make_agent(runner, app.test_client(), clock())
    browser = app.test_client()
    sign_in_agent(browser, agent, clock())
    response = browser.get("/helpdesk/funnel.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
