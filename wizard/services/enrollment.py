"""Adding a token: credential availability, code check with lockout, and save."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from wizard.authority import authority
from wizard.domain.otp import Outcome
from wizard.domain.tokens import Status, TokenType
from wizard.extensions import db
from wizard.services import audit, lockout
from wizard.services.lockout import Counter, Lock
from wizard.store.models import Prescriber, Token


class Availability(StrEnum):
    FREE = "free"
    TAKEN = "taken"  # a live token somewhere has it; we never say whose
    LOST = "lost"  # reported lost: never again
    UNKNOWN = "unknown"  # no authority can check its codes


def availability(credential_id: str) -> Availability:
    status = db.session.scalar(
        select(Token.status).where(
            Token.credential_id == credential_id, Token.status != Status.DELETED
        )
    )
    if status == Status.LOST:
        return Availability.LOST
    if status is not None:
        return Availability.TAKEN
    if not authority().knows(credential_id):
        return Availability.UNKNOWN
    return Availability.FREE


@dataclass(frozen=True)
class CodeCheck:
    outcome: str  # an Outcome value, or "locked"
    lock: Lock = Lock()

    @property
    def accepted(self) -> bool:
        return self.outcome == Outcome.ACCEPTED


def code_lock(prescriber: Prescriber, now: datetime) -> Lock:
    return lockout.state(prescriber, Counter.CODE, now)


def check_code(
    prescriber: Prescriber,
    credential_id: str,
    code: str,
    now: datetime,
    action: str = "enrollment.code",
    second: str | None = None,
    token_id: int | None = None,
) -> CodeCheck:
    """Verify a code for one credential (adding, enabling, or confirming a token),
    counting failures toward the account's code lock. With second, two consecutive
    codes resynchronize an event-based token."""
    lock = code_lock(prescriber, now)
    if lock.locked:
        return CodeCheck("locked", lock)
    if second is None:
        verdict = authority().verify(credential_id, code, now)
    else:
        verdict = authority().resync(credential_id, code, second)
    if verdict.outcome is Outcome.OUT_OF_SYNC:
        return CodeCheck(Outcome.OUT_OF_SYNC, lock)
    actor = audit.actor_of(prescriber)
    if verdict.accepted:
        lockout.succeed(prescriber, Counter.CODE)
        audit.record(
            action,
            "accepted",
            actor=actor,
            now=now,
            prescriber_id=prescriber.id,
            token_id=token_id,
            credential_id=credential_id,
        )
        db.session.commit()
        return CodeCheck(Outcome.ACCEPTED)
    lock = lockout.fail(
        prescriber,
        Counter.CODE,
        now,
        action=action,
        outcome=str(verdict.outcome),
        actor=actor,
        token_id=token_id,
        credential_id=credential_id,
    )
    return CodeCheck("locked" if lock.locked else str(verdict.outcome), lock)


def nickname_taken(prescriber: Prescriber, nickname: str, except_id: int | None = None) -> bool:
    query = select(func.count(Token.id)).where(
        Token.prescriber_id == prescriber.id,
        Token.nickname_key == nickname.casefold(),
        Token.status != Status.DELETED,
    )
    if except_id is not None:
        query = query.where(Token.id != except_id)
    return bool(db.session.scalar(query))


def live_nicknames(prescriber: Prescriber) -> set[str]:
    return set(
        db.session.scalars(
            select(Token.nickname).where(
                Token.prescriber_id == prescriber.id, Token.status != Status.DELETED
            )
        )
    )


def active_count(prescriber: Prescriber) -> int:
    return db.session.scalar(
        select(func.count(Token.id)).where(
            Token.prescriber_id == prescriber.id, Token.status == Status.ACTIVE
        )
    )


class SaveError(Exception):
    """The token could not be saved; the message is for the prescriber."""


@dataclass(frozen=True)
class NewToken:
    credential_id: str
    nickname: str
    manufacturer: str = "SYMANTEC"
    token_type: str = TokenType.SOFT
    model: str = "VIP"


def register_token(prescriber: Prescriber, new: NewToken, now: datetime) -> Token:
    """Save a verified token as Active. Saving the same credential twice returns the first save.

    Raises SaveError when the credential or the nickname belongs to another live token.
    """
    existing = _live_token(new.credential_id)
    if existing is not None:
        if existing.prescriber_id == prescriber.id and existing.status == Status.ACTIVE:
            return existing
        raise SaveError("This Credential ID is already registered. Check the ID in the app.")
    if nickname_taken(prescriber, new.nickname):
        # The name may be taken by this very token, saved from another tab a moment ago.
        again = _live_token(new.credential_id)
        if again is not None and again.prescriber_id == prescriber.id:
            return again
        raise SaveError("You already have a token with this name. Choose another name.")
    token = Token(
        prescriber_id=prescriber.id,
        nickname=new.nickname,
        nickname_key=new.nickname.casefold(),
        credential_id=new.credential_id,
        manufacturer=new.manufacturer,
        token_type=new.token_type,
        model=new.model,
        status=Status.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    db.session.add(token)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request saved it between our check and our insert.
        db.session.rollback()
        return register_token(prescriber, new, now)
    audit.record(
        "token.add",
        "success",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        credential_id=new.credential_id,
        nickname=new.nickname,
    )
    db.session.commit()
    return token


def _live_token(credential_id: str) -> Token | None:
    return db.session.scalar(
        select(Token).where(Token.credential_id == credential_id, Token.status != Status.DELETED)
    )


def decide_backup(prescriber: Prescriber, decision: str, now: datetime) -> None:
    """Store the prescriber's answer to the backup-token recommendation."""
    prescriber.backup_decision = decision
    prescriber.backup_decided_at = now
    audit.record(
        "backup.decision",
        decision,
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
    )
    db.session.commit()


def refuse_return(prescriber: Prescriber, url: str, now: datetime) -> None:
    """Audit a return_to address that is not on the allow-list (kept short: no query)."""
    audit.record(
        "enrollment.return-to",
        "refused",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        target=url.split("?", 1)[0][:200],
    )
    db.session.commit()
