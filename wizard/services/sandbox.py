"""Sandbox mode: a demo prescriber and virtual tokens for practice and test suites."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from wizard.domain.credentials import SOFT_PREFIXES
from wizard.domain.otp import (
    Algorithm,
    OathSecret,
    code_at,
    new_secret,
    provisioning_uri,
    seconds_left,
    time_step,
)
from wizard.domain.tokens import Status, TokenType
from wizard.extensions import db
from wizard.services import accounts, audit
from wizard.store.models import OathCredential, OrganisationGrant, Prescriber, Token

DEMO_NPI = "1234567893"
DEMO_PASSPHRASE = "correct horse battery staple"  # noqa: S105 - published practice account
DEMO_NAME = "Dr. Alex Demo"
DEMO_ORGANISATION = "CalMHSA"
DEMO_DEA = "AB1234563"
ISSUER_LABEL = "EPCS Sandbox"


class SandboxOff(Exception):
    """Sandbox features were asked for while sandbox mode is off."""


def require_sandbox() -> None:
    if not current_app.config.get("SANDBOX"):
        raise SandboxOff("Sandbox mode is off. Set WIZARD_SANDBOX=1 to use sandbox features.")


@dataclass(frozen=True)
class Issued:
    credential_id: str
    secret: str
    otpauth_uri: str


def _cipher():
    return current_app.extensions["seed_cipher"]


def _unused_id(make) -> str:
    while True:
        candidate = make()
        taken = db.session.scalar(
            select(OathCredential.id).where(OathCredential.credential_id == candidate)
        )
        if taken is None:
            return candidate


def issue(now: datetime, prefix: str = "SYMC", kind: str = "vip") -> Issued:
    """A new virtual credential bound to no one, with a TOTP seed."""
    require_sandbox()
    issued = _add_credential(now, prefix, kind)
    db.session.commit()
    return issued


KINDS = ("vip", "onespan", "symantec-hard")


def _add_credential(now: datetime, prefix: str, kind: str) -> Issued:
    algorithm = Algorithm.TOTP
    if kind == "onespan":
        credential_id = _unused_id(lambda: str(secrets.randbelow(9 * 10**9) + 10**9))
        manufacturer = "ONESPAN"
    elif kind == "symantec-hard":
        # An event-based card or key fob: a new code at each button press.
        credential_id = _unused_id(lambda: f"FT{secrets.randbelow(10**8):08d}")
        manufacturer = "SYMANTEC"
        algorithm = Algorithm.HOTP
    else:
        if prefix not in SOFT_PREFIXES:
            raise ValueError(f"prefix must be one of {', '.join(SOFT_PREFIXES)}")
        credential_id = _unused_id(lambda: f"{prefix}{secrets.randbelow(10**8):08d}")
        manufacturer = "SYMANTEC"
    secret = new_secret()
    db.session.add(
        OathCredential(
            credential_id=credential_id,
            algorithm=algorithm,
            sealed_secret=_cipher().seal(secret, credential_id),
            manufacturer=manufacturer,
            source="sandbox",
            created_at=now,
        )
    )
    audit.record("sandbox.issue", "success", actor="sandbox", now=now, credential_id=credential_id)
    uri = provisioning_uri(OathSecret(secret, algorithm), credential_id, ISSUER_LABEL)
    return Issued(credential_id, secret, uri)


def _row(credential_id: str) -> OathCredential | None:
    return db.session.scalar(
        select(OathCredential).where(
            OathCredential.credential_id == credential_id, OathCredential.source == "sandbox"
        )
    )


@dataclass(frozen=True)
class CurrentCode:
    credential_id: str
    code: str
    valid_for_seconds: int
    otpauth_uri: str


def current_code(credential_id: str, now: datetime, presses: int = 1) -> CurrentCode | None:
    """The code a sandbox credential shows at now; None for a credential not issued here.

    For an event-based (HOTP) token: the code after that many more button presses
    than the last accepted one; valid_for_seconds is then 0 (it does not expire).
    """
    require_sandbox()
    row = _row(credential_id)
    if row is None:
        return None
    oath = current_app.extensions["token_authority"].secret_of(row)
    uri = provisioning_uri(oath, credential_id, ISSUER_LABEL)
    if oath.algorithm is Algorithm.HOTP:
        counter = (-1 if row.last_step is None else row.last_step) + max(presses, 1)
        return CurrentCode(credential_id, code_at(oath, counter), 0, uri)
    return CurrentCode(
        credential_id,
        code_at(oath, time_step(now, oath.period)),
        seconds_left(now, oath.period),
        uri,
    )


def issued_here(credential_ids: list[str]) -> set[str]:
    """Which of these credentials the sandbox issued, so that its practice app shows their codes.
    None outside sandbox mode."""
    if not current_app.config.get("SANDBOX") or not credential_ids:
        return set()
    return set(
        db.session.scalars(
            select(OathCredential.credential_id).where(
                OathCredential.credential_id.in_(credential_ids),
                OathCredential.source == "sandbox",
            )
        )
    )


def secret_of(credential_id: str) -> str:
    row = _row(credential_id)
    return current_app.extensions["token_authority"].secret_of(row).secret


def seed_demo(now: datetime) -> dict:
    """Create the demo prescriber once; describe it (with its tokens' secrets) every time."""
    require_sandbox()
    prescriber = db.session.scalar(select(Prescriber).where(Prescriber.npi == DEMO_NPI))
    if prescriber is None:
        prescriber = _create_demo(now)
    tokens = [t for t in prescriber.tokens if t.status != Status.DELETED]
    return {
        "npi": prescriber.npi,
        "passphrase": DEMO_PASSPHRASE,
        "name": prescriber.name,
        "grants": [
            {"organization": g.organisation, "dea_number": g.dea_number, "status": g.status}
            for g in prescriber.grants
        ],
        "tokens": [
            {
                "nickname": t.nickname,
                "credential_id": t.credential_id,
                "status": t.status,
                "secret": secret_of(t.credential_id),
            }
            for t in tokens
        ],
    }


def _create_demo(now: datetime) -> Prescriber:
    prescriber = Prescriber(
        npi=DEMO_NPI,
        name=DEMO_NAME,
        email="alex.demo@example.org",
        passphrase_hash=accounts.hash_passphrase(DEMO_PASSPHRASE),
        identity_proofed=True,
        created_at=now,
    )
    prescriber.grants.append(
        OrganisationGrant(organisation=DEMO_ORGANISATION, dea_number=DEMO_DEA, status="ACTIVE")
    )
    db.session.add(prescriber)
    db.session.flush()
    for nickname, status in (("iPhone token app", Status.ACTIVE), ("Old Android", Status.INACTIVE)):
        issued = _add_credential(now, "SYMC", "vip")
        db.session.add(
            Token(
                prescriber_id=prescriber.id,
                nickname=nickname,
                nickname_key=nickname.casefold(),
                credential_id=issued.credential_id,
                manufacturer="SYMANTEC",
                token_type=TokenType.SOFT,
                model="VIP",
                status=status,
                created_at=now,
                updated_at=now,
            )
        )
    db.session.flush()
    for token in prescriber.tokens:
        audit.record(
            "token.add",
            "success",
            actor="sandbox",
            now=now,
            prescriber_id=prescriber.id,
            token_id=token.id,
            credential_id=token.credential_id,
            nickname=token.nickname,
        )
    audit.record("sandbox.seed", "success", actor="sandbox", now=now, prescriber_id=prescriber.id)
    db.session.commit()
    db.session.refresh(prescriber)
    return prescriber


def demo_summary() -> dict | None:
    """What the welcome page shows a trainee: the demo sign-in and its Active token."""
    prescriber = db.session.scalar(select(Prescriber).where(Prescriber.npi == DEMO_NPI))
    if prescriber is None:
        return None
    active = next((t for t in prescriber.tokens if t.status == Status.ACTIVE), None)
    return {
        "name": prescriber.name,
        "npi": prescriber.npi,
        "passphrase": DEMO_PASSPHRASE,
        "credential_id": active.credential_id if active else None,
        "nickname": active.nickname if active else None,
    }
