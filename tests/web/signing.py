"""Signing in through the real routes, and reading what the pages and the audit log say.

Shared by the web tests of issues 4 and 5 (sign-in, onboarding, lost token, passphrase reset,
return_to, token management, hard tokens). Every helper goes through HTTP or the services,
never around them.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.csrf import session_csrf_token
from support.pages import page_text
from werkzeug.test import TestResponse

from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.models import AuditEvent, Prescriber, SignInThrottle, Token

NOT_SIGNED_IN = "We could not sign you in with those details"
WRONG_CODE = "That code did not match."
REUSED_CODE = "That code has already been used."


def post(
    client: FlaskClient, url: str, data: dict | None = None, *, expect_400: bool = False, **kwargs
) -> TestResponse:
    """POST a form with the session's CSRF token (support.csrf.session_csrf_token).

    A 400 (a form refused before any view ran: an expired or missing token, a request the
    app cannot read) fails the test with what the page says, unless expect_400 is given."""
    token = session_csrf_token(client)
    response = client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)
    if response.status_code == 400 and not expect_400:
        pytest.fail(f"POST {url} answered 400: {page_text(response)[:600]}")
    return response


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


def at_code_step(app: Flask, client: FlaskClient, clock) -> sandbox.Issued:
    """A practice credential issued, and the wizard taken to its security code step with it."""
    with app.app_context():
        issued = sandbox.issue(clock())
    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    moved = post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
    assert moved.headers["Location"] == "/enroll/security-code"
    return issued


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
