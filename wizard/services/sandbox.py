"""Sandbox mode: a demo prescriber and virtual tokens for practice and test suites."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from wizard.authority import AuthorityUnavailable, authority
from wizard.authority.router import SYMANTEC_PREFIXES
from wizard.domain.credentials import SOFT_PREFIXES
from wizard.domain.otp import (
    Algorithm,
    OathSecret,
    code_at,
    first_unused_step,
    new_secret,
    provisioning_uri,
    seconds_left,
    time_step,
)
from wizard.domain.tokens import Status, TokenType
from wizard.extensions import db
from wizard.services import accounts, audit
from wizard.store.holders import new_vip_user_id
from wizard.store.models import OathCredential, OrganisationGrant, Prescriber, Token

DEMO_NPI = "1234567893"
DEMO_PASSPHRASE = "correct horse battery staple"  # noqa: S105 - published practice account
DEMO_NAME = "Dr. Alex Demo"
DEMO_ORGANISATION = "CalMHSA"
DEMO_DEA = "AB1234563"
DEMO_EMAIL = "alex.demo@example.org"
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


def issue(now: datetime, prefix: str = "SYMC", kind: str = "vip", actor: str = "sandbox") -> Issued:
    """A new virtual credential bound to no one, with a TOTP seed."""
    require_sandbox()
    issued = _add_credential(now, prefix, kind, actor)
    db.session.commit()
    return issued


KINDS = ("vip", "onespan", "symantec-hard")


def _kind(prefix: str, kind: str):
    """(Credential ID maker, manufacturer, algorithm) for a kind of practice token."""
    if kind == "onespan":
        return lambda: str(secrets.randbelow(9 * 10**9) + 10**9), "ONESPAN", Algorithm.TOTP
    if kind == "symantec-hard":
        # An event-based card or key fob: a new code at each button press.
        return lambda: f"FT{secrets.randbelow(10**8):08d}", "SYMANTEC", Algorithm.HOTP
    if prefix not in SOFT_PREFIXES:
        raise ValueError(f"prefix must be one of {', '.join(SOFT_PREFIXES)}")
    return lambda: f"{prefix}{secrets.randbelow(10**8):08d}", "SYMANTEC", Algorithm.TOTP


def _practice():
    """The VIP stand-in's practice extension, when VIP is configured (else None)."""
    vip = authority().vip
    return vip.transport if vip is not None else None


def _stand_in():
    """The practice extension's client: lxml and requests load only where VIP is configured,
    not in every web worker."""
    from wizard.vipsandbox import practice

    return practice


def _add_credential(now: datetime, prefix: str, kind: str, actor: str = "sandbox") -> Issued:
    """A practice credential. A Symantec one goes to the VIP stand-in when VIP is configured:
    its seed is then kept there alone, as a real one is kept at Symantec."""
    make, manufacturer, algorithm = _kind(prefix, kind)
    secret = new_secret()
    transport = _practice() if manufacturer == "SYMANTEC" else None
    if transport is not None:
        credential_id = make()
        while not _stand_in().register(transport, credential_id, secret, algorithm):
            credential_id = make()
    else:
        credential_id = _unused_id(make)
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
    audit.record("sandbox.issue", "success", actor=actor, now=now, credential_id=credential_id)
    uri = provisioning_uri(OathSecret(secret, algorithm), credential_id, ISSUER_LABEL)
    return Issued(credential_id, secret, uri)


def add_credential(now: datetime, kind: str, actor: str) -> Issued:
    """A new virtual credential in the caller's transaction (not committed)."""
    return _add_credential(now, "SYMC", kind, actor)


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
    if authority().uses_vip(credential_id):
        return _current_at_vip(credential_id, presses)
    row = _row(credential_id)
    if row is None:
        return None
    oath = authority().local.secret_of(row)
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


def _current_at_vip(credential_id: str, presses: int) -> CurrentCode | None:
    found = _stand_in().current(_practice(), credential_id, max(presses, 1))
    if found is None:
        return None
    oath = OathSecret(found.secret, Algorithm(found.algorithm))
    uri = provisioning_uri(oath, credential_id, ISSUER_LABEL)
    return CurrentCode(credential_id, found.code, found.valid_for_seconds, uri)


def fresh_code(credential_id: str, clock: Callable[[], datetime], sleep) -> CurrentCode | None:
    """A code that has not been accepted yet; None for a credential not issued here.

    Time-based: when the current time step was used, waits (sleep) for the next one.
    Event-based: the code of the next unused counter, at once.
    """
    require_sandbox()
    if authority().uses_vip(credential_id):
        found = _stand_in().current(_practice(), credential_id)
        if found is None:
            return None
        algorithm, period, last_step = found.algorithm, 30, found.last_step
    else:
        row = _row(credential_id)
        if row is None:
            return None
        algorithm, period, last_step = row.algorithm, row.period, row.last_step
    if algorithm == Algorithm.TOTP:
        _, wait = first_unused_step(clock(), period, last_step)
        db.session.commit()  # hold no connection while waiting
        if wait:
            sleep(wait + STEP_MARGIN)
    return current_code(credential_id, clock())


def read_code(
    credential_id: str,
    clock: Callable[[], datetime],
    sleep,
    *,
    fresh: bool = False,
    presses: int = 1,
    actor: str = "sandbox-api",
) -> CurrentCode | None:
    """A code for the sandbox API (the current one, or with fresh one not used yet), audited.
    The audit event names the credential, never the code."""
    if fresh:
        current = fresh_code(credential_id, clock, sleep)
    else:
        require_sandbox()
        current = current_code(credential_id, clock(), presses)
    audit.record(
        "sandbox.code-read",
        "success" if current else "unknown-credential",
        actor=actor,
        now=clock(),
        credential_id=credential_id,
        fresh=int(fresh),
    )
    db.session.commit()
    return current


# Slept past a step's start, so a sleep that ends a little early still lands in the new step.
STEP_MARGIN = 0.05


def issued_here(credential_ids: list[str]) -> set[str]:
    """Which of these credentials the sandbox issued, so that its practice app shows their codes.
    None outside sandbox mode."""
    if not current_app.config.get("SANDBOX") or not credential_ids:
        return set()
    local = set(
        db.session.scalars(
            select(OathCredential.credential_id).where(
                OathCredential.credential_id.in_(credential_ids),
                OathCredential.source == "sandbox",
            )
        )
    )
    return local | {c for c in credential_ids if c not in local and _held_by_stand_in(c)}


def _held_by_stand_in(credential_id: str) -> bool:
    """A practice credential registered in the VIP stand-in (sandbox with VIP configured)."""
    if not authority().uses_vip(credential_id):
        return False
    practice = _stand_in()
    try:
        return practice.current(_practice(), credential_id) is not None
    except (AuthorityUnavailable, practice.PracticeError):
        return False


def secret_of(credential_id: str) -> str | None:
    """A practice credential's secret; None where this configuration cannot read it (one made
    in the VIP stand-in, asked without the WIZARD_VIP_* settings that reach it)."""
    if authority().uses_vip(credential_id):
        found = _stand_in().current(_practice(), credential_id)
        return found.secret if found else None
    row = _row(credential_id)
    return authority().local.secret_of(row).secret if row else None


def held_elsewhere(credential_id: str) -> bool:
    """A Symantec practice credential this configuration does not reach: its seed is in a VIP
    stand-in, and VIP is not configured here."""
    return (
        authority().vip is None
        and credential_id.startswith(SYMANTEC_PREFIXES)
        and _row(credential_id) is None
    )


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
        email=DEMO_EMAIL,
        passphrase_hash=accounts.hash_passphrase(DEMO_PASSPHRASE),
        identity_proofed=True,
        # Set here, not on first binding: nothing is committed until the demo is complete.
        vip_user_id=new_vip_user_id() if authority().vip is not None else None,
        created_at=now,
    )
    prescriber.grants.append(
        OrganisationGrant(organisation=DEMO_ORGANISATION, dea_number=DEMO_DEA, status="ACTIVE")
    )
    db.session.add(prescriber)
    db.session.flush()
    add_demo_tokens(prescriber, now, "sandbox")
    audit.record("sandbox.seed", "success", actor="sandbox", now=now, prescriber_id=prescriber.id)
    db.session.commit()
    db.session.refresh(prescriber)
    return prescriber


DEMO_TOKENS = (("iPhone token app", Status.ACTIVE), ("Old Android", Status.INACTIVE))


def add_demo_tokens(prescriber: Prescriber, now: datetime, actor: str) -> list[Token]:
    """The demo's two practice tokens on new credentials (no commit)."""
    added = []
    for nickname, status in DEMO_TOKENS:
        issued = _add_credential(now, "SYMC", "vip", actor)
        token = Token(
            vip_bound=authority().bind(prescriber, issued.credential_id, nickname),
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
        db.session.add(token)
        added.append(token)
    db.session.flush()
    for token in added:
        audit.record(
            "token.add",
            "success",
            actor=actor,
            now=now,
            prescriber_id=prescriber.id,
            token_id=token.id,
            credential_id=token.credential_id,
            nickname=token.nickname,
        )
    return added


def demo_summary() -> dict | None:
    """What the welcome page shows a trainee: the demo sign-in and its Active token."""
    prescriber = db.session.scalar(select(Prescriber).where(Prescriber.npi == DEMO_NPI))
    if prescriber is None:
        return None
    active = next(iter(accounts.active_tokens(prescriber)), None)
    return {
        "name": prescriber.name,
        "npi": prescriber.npi,
        "passphrase": DEMO_PASSPHRASE,
        "credential_id": active.credential_id if active else None,
        "nickname": active.nickname if active else None,
    }
