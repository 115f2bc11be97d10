"""Signing in through the real routes, and reading what the pages and the audit log say.

Shared by the web tests of issues 4 and 5 (sign-in, onboarding, lost token, passphrase reset,
return_to, token management, hard tokens). Every helper goes through HTTP or the services,
never around them.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType

import jinja2
from flask import Flask
from flask.testing import FlaskClient
from pytest import Config
from sqlalchemy import select
from stdnum import luhn
from werkzeug.test import TestResponse

from wizard.extensions import db
from wizard.store.models import AuditEvent, Prescriber, SignInThrottle, Token


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept for the whole run. Every test builds its own app, and each new
    app would parse and compile every template again (a fifth of these tests' time). Jinja
    checks each entry against the template source's checksum, so an edited template is
    compiled afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _SharedBytecode()


def share_compiled_templates(app: Flask) -> None:
    """Let app reuse the templates other tests' apps compiled (call before any request)."""
    app.jinja_env.bytecode_cache = _COMPILED


NOT_SIGNED_IN = "We could not sign you in with those details"
WRONG_CODE = "That code did not match."
REUSED_CODE = "That code has already been used."
COOKIE = "wizard_session"


def page_text(response: TestResponse) -> str:
    """The body with tags dropped, entities decoded and spaces normalised."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def has_csrf(response: TestResponse) -> bool:
    return 'name="csrf_token"' in response.get_data(as_text=True) or (
        '<meta name="csrf-token"' in response.get_data(as_text=True)
    )


def csrf_of(response: TestResponse) -> str:
    body = response.get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', body) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', body
    )
    assert found, f"{response.request.path} answered {response.status} without a CSRF token"
    return found.group(1)


def csrf(client: FlaskClient, url: str = "/") -> str:
    """The CSRF token of the client's session now, read from url (not followed).

    It is bound to the session, so any page gives the same one until the session changes.
    The public home page gives none to a visitor without a session: the sign-in page does."""
    response = client.get(url)
    if url == "/" and not has_csrf(response):
        response = client.get("/sign-in")
    token = csrf_of(response)
    client._wizard_csrf = (session_cookie(client), token)  # type: ignore[attr-defined]
    return token


def _known_csrf(client: FlaskClient) -> str:
    known = getattr(client, "_wizard_csrf", None)
    if known and known[0] is not None and known[0] == session_cookie(client):
        return known[1]
    return csrf(client)


def _form_expired(response: TestResponse) -> bool:
    return response.status_code == 400 and "This form has expired" in response.get_data(
        as_text=True
    )


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs) -> TestResponse:
    """POST a form with the session's CSRF token.

    The token is remembered per session id, saving a page load per post. A session that has
    expired on the server (the idle timeout's storage lifetime) refuses it as an expired form
    (the CSRF check runs before any view: nothing happened): it is sent once more with a token
    read afresh.
    """
    response = client.post(url, data={**(data or {}), "csrf_token": _known_csrf(client)}, **kwargs)
    if _form_expired(response):
        response = client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kwargs)
    return response


def unused_npi() -> str:
    """A valid NPI (Luhn over 80840 + NPI) that no test account has: they start with 1."""
    base = f"2{secrets.randbelow(10**8):08d}"
    return base + luhn.calc_check_digit("80840" + base)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def passphrase_step(
    client: FlaskClient, npi: str, passphrase: str, query: str = ""
) -> TestResponse:
    return post(client, "/sign-in" + query, {"npi": npi, "passphrase": passphrase})


def code_step(client: FlaskClient, token_id: int | str, code: str) -> TestResponse:
    return post(client, "/sign-in/code", {"token": str(token_id), "code": code})


def sign_in(client: FlaskClient, account, at: datetime, token=None) -> None:
    """Sign in through /sign-in and /sign-in/code with a code for the time at (consumed)."""
    token = token or account.token("Active")
    first = passphrase_step(client, account.npi, account.passphrase)
    assert first.status_code == 303, page_text(first)[:800]
    assert first.headers["Location"] == "/sign-in/code"
    second = code_step(client, token.id, token.code(at=at))
    assert second.status_code == 303, page_text(second)[:800]
    assert second.headers["Location"] == "/"


def audit_events(app: Flask, action: str | None = None, prescriber_id: int | None = None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if prescriber_id is not None:
            query = query.where(AuditEvent.prescriber_id == prescriber_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def prescriber(app: Flask, prescriber_id: int) -> Prescriber:
    with app.app_context():
        found = db.session.get(Prescriber, prescriber_id)
        db.session.expunge_all()
        return found


def pause(app: Flask, account: str, client: str = "127.0.0.1") -> SignInThrottle | None:
    """The sign-in count for an account name ("prescriber:<NPI>", "agent:<username>") from
    one client address (the test client's is 127.0.0.1), or None when there is none."""
    with app.app_context():
        found = db.session.scalar(
            select(SignInThrottle).where(
                SignInThrottle.account == account, SignInThrottle.client == client
            )
        )
        db.session.expunge_all()
        return found


def token_row(app: Flask, token_id: int) -> Token:
    with app.app_context():
        found = db.session.get(Token, token_id)
        db.session.expunge_all()
        return found


def tokens_with(app: Flask, credential_id: str) -> list[Token]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Token).where(Token.credential_id == credential_id).order_by(Token.id)
            )
        )
        db.session.expunge_all()
        return rows


def _root_conftest(config: Config) -> ModuleType:
    """tests/conftest.py as pytest loaded it (the name "conftest" now means tests/web's)."""
    path = Path(__file__).resolve().parent.parent / "conftest.py"
    module = config.pluginmanager.get_plugin(str(path))
    assert module is not None, f"pytest has not loaded {path}"
    return module


def account_maker(config: Config, app: Flask, clock: Callable[[], datetime]):
    """make(statuses=("Active", ...), **kwargs): tests/conftest.py's create_account at the
    test clock, inside an app context."""
    create = _root_conftest(config).create_account

    def make(statuses: tuple[str, ...] = ("Active",), **kwargs):
        with app.app_context():
            return create(clock(), statuses=statuses, **kwargs)

    return make
