"""Signing in, passphrases and their reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from wizard.authority import authority
from wizard.domain import codes, passphrase
from wizard.domain.identifiers import clean_npi
from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import audit, lockout
from wizard.services.lockout import Counter, Lock
from wizard.store.models import AuditEvent, Prescriber, Token

RESET_CODE_VALID = timedelta(hours=24)


def hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters (cheaper ones only when testing)."""
    return current_app.extensions["password_hasher"]


def hash_passphrase(value: str) -> str:
    return hasher().hash(passphrase.normalise(value))


def hasher_verify(stored: str, value: str) -> bool:
    """True when value matches an argon2 hash."""
    try:
        return hasher().verify(stored, passphrase.normalise(value))
    except (VerificationError, InvalidHashError):
        return False


def passphrase_matches(prescriber: Prescriber | None, value: str) -> bool:
    """Constant work whether or not the account exists, so timing reveals no NPI."""
    stored = prescriber.passphrase_hash if prescriber else None
    ok = hasher_verify(stored or current_app.extensions["dummy_passphrase_hash"], value)
    if ok and stored and hasher().check_needs_rehash(stored):
        prescriber.passphrase_hash = hash_passphrase(value)
    return ok and stored is not None


def by_npi(npi: str) -> Prescriber | None:
    return db.session.scalar(select(Prescriber).where(Prescriber.npi == clean_npi(npi)))


@dataclass(frozen=True)
class Attempt:
    prescriber: Prescriber | None = None
    lock: Lock = Lock()
    outcome: str = ""  # for a refused code: an Outcome value

    @property
    def ok(self) -> bool:
        return self.prescriber is not None and not self.lock.locked


def check_passphrase(npi: str, value: str, now: datetime, action: str) -> Attempt:
    """First factor. A failure counts toward the account's sign-in lock."""
    prescriber = by_npi(npi)
    if prescriber is None:
        passphrase_matches(None, value)
        audit.record(action, "unknown-npi", actor="anonymous", now=now)
        db.session.commit()
        return Attempt()
    lock = lockout.state(prescriber, Counter.SIGN_IN, now)
    if lock.locked:
        audit.record(
            action, "locked", actor=audit.actor_of(prescriber), now=now, prescriber_id=prescriber.id
        )
        db.session.commit()
        return Attempt(lock=lock)
    if not passphrase_matches(prescriber, value):
        lock = lockout.fail(
            prescriber,
            Counter.SIGN_IN,
            now,
            action=action,
            outcome="wrong-passphrase",
            actor=audit.actor_of(prescriber),
        )
        return Attempt(lock=lock)
    db.session.commit()
    return Attempt(prescriber)


def active_tokens(prescriber: Prescriber) -> list[Token]:
    return [t for t in prescriber.tokens if t.status == Status.ACTIVE]


def last_sign_in_token(prescriber: Prescriber) -> Token | None:
    """The token of the prescriber's last completed sign-in, while it is still Active."""
    last_id = db.session.scalar(
        select(AuditEvent.token_id)
        .where(
            AuditEvent.prescriber_id == prescriber.id,
            AuditEvent.action == "sign-in.code",
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return next((t for t in active_tokens(prescriber) if t.id == last_id), None)


def check_token_code(
    prescriber: Prescriber, token_id: int | None, code: str, now: datetime, action: str
) -> Attempt:
    """Second factor: a current code from one of the prescriber's Active tokens."""
    lock = lockout.state(prescriber, Counter.SIGN_IN, now)
    if lock.locked:
        audit.record(
            action, "locked", actor=audit.actor_of(prescriber), now=now, prescriber_id=prescriber.id
        )
        db.session.commit()
        return Attempt(lock=lock)
    token = next((t for t in active_tokens(prescriber) if t.id == token_id), None)
    verdict = authority().verify(token.credential_id, code, now) if token else None
    if verdict is None or not verdict.accepted:
        outcome = str(verdict.outcome) if verdict else "no-token"
        lock = lockout.fail(
            prescriber,
            Counter.SIGN_IN,
            now,
            action=action,
            outcome=outcome,
            actor=audit.actor_of(prescriber),
            token_id=token.id if token else None,
        )
        return Attempt(lock=lock, outcome=outcome)
    return _code_accepted(prescriber, token, now, action, signed_in=True)


def _code_accepted(
    prescriber: Prescriber, token: Token, now: datetime, action: str, *, signed_in: bool
) -> Attempt:
    """A code matched: audited; a completed sign-in also starts the failure count again."""
    if signed_in:
        lockout.succeed(prescriber, Counter.SIGN_IN)
    audit.record(
        action,
        "success" if signed_in else "code-accepted",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
    )
    db.session.commit()
    return Attempt(prescriber)


def any_token_code(
    prescriber: Prescriber, code: str, now: datetime, action: str, *, resetting: bool = False
) -> Attempt:
    """A current code from any Active token (used where the token is not chosen).

    resetting: a passphrase reset is the way out of the block after 100 failures, so that
    block (but not a timed lock) lets the code be checked.
    """
    lock = lockout.state(prescriber, Counter.SIGN_IN, now)
    if lock.locked and not (resetting and lock.for_good):
        return Attempt(lock=lock)
    for token in active_tokens(prescriber):
        if authority().verify(token.credential_id, code, now).accepted:
            return _code_accepted(prescriber, token, now, action, signed_in=False)
    lock = lockout.fail(
        prescriber,
        Counter.SIGN_IN,
        now,
        action=action,
        outcome="wrong-code",
        actor=audit.actor_of(prescriber),
    )
    return Attempt(lock=lock)


def issue_reset_code(npi: str, now: datetime) -> str:
    """A one-time passphrase reset code, valid 24 hours; only its hash is stored."""
    prescriber = by_npi(npi)
    if prescriber is None:
        raise LookupError(f"No prescriber with NPI {clean_npi(npi)}.")
    code = codes.new_code()
    prescriber.reset_code_hash = codes.digest(code)
    prescriber.reset_expires_at = now + RESET_CODE_VALID
    audit.record(
        "passphrase.reset-code",
        "issued",
        actor="administrator",
        now=now,
        prescriber_id=prescriber.id,
    )
    db.session.commit()
    return code


def reset_code_valid(prescriber: Prescriber, typed: str, now: datetime) -> bool:
    return bool(
        prescriber.reset_code_hash
        and prescriber.reset_expires_at
        and prescriber.reset_expires_at > now
        and codes.well_formed(typed)
        and codes.digest(typed) == prescriber.reset_code_hash
    )


def set_passphrase(prescriber: Prescriber, value: str, now: datetime, action: str) -> None:
    """Store a new passphrase (already checked against the rules), unlocking the account."""
    prescriber.passphrase_hash = hash_passphrase(value)
    prescriber.reset_code_hash = None
    prescriber.reset_expires_at = None
    lockout.succeed(prescriber, Counter.SIGN_IN)
    audit.record(
        action, "success", actor=audit.actor_of(prescriber), now=now, prescriber_id=prescriber.id
    )
    db.session.commit()
