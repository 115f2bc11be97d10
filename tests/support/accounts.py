"""Prescribers for the tests, made through the services: `create_account` and its fixtures.

`make_account(statuses=("Active", ...), **kwargs)` and `account` (tests/conftest.py) make
them on the test's app at the test's clock; the browser and cluster folders give the same
fixtures their own app and the real time.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from flask import Flask

from wizard.domain.identifiers import npi_check_digit

ACCOUNT_PASSPHRASE = "plum river lantern 42"


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


_npi_bases = itertools.count(int(secrets.token_hex(3), 16) % 10**7)


def new_npi() -> str:
    """A fresh valid NPI (Luhn over 80840 + NPI) starting with 1, different on every call."""
    base = f"1{next(_npi_bases) % 10**8:08d}"
    return base + npi_check_digit(base)


def unused_npi() -> str:
    """A valid NPI that no test account has: they start with 1, this one with 2."""
    base = f"2{secrets.randbelow(10**8):08d}"
    return base + npi_check_digit(base)


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


def account_maker(app: Flask, clock: Callable[[], datetime]) -> Callable[..., Account]:
    """make(statuses=("Active", ...), **kwargs): create_account on app at clock(), in an app
    context of its own (its session removed after, as a request's would be)."""
    from wizard.extensions import db

    def make(statuses: tuple[str, ...] = ("Active",), **kwargs) -> Account:
        with app.app_context():
            try:
                return create_account(clock(), statuses=statuses, **kwargs)
            finally:
                db.session.remove()

    return make


def real_time() -> datetime:
    """The clock of the live-server tests: the real time, UTC."""
    return datetime.now(UTC)
