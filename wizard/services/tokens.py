"""Managing tokens: disable, enable, delete, rename, report lost. Each change audited."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select

from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import audit, enrollment
from wizard.services.enrollment import CodeCheck
from wizard.store.models import AuditEvent, Prescriber, Token

LIVE = (Status.ACTIVE, Status.INACTIVE)


class Reason(StrEnum):
    TEMPORARY = "temporary"  # reversible: Inactive
    LOST = "lost"  # lost, stolen or compromised: Lost for good


class TokenError(ValueError):
    """The change is not allowed in the token's state; the message is for the prescriber."""


def own_token(prescriber: Prescriber, token_id: int | None) -> Token | None:
    return next((t for t in prescriber.tokens if t.id == token_id), None)


def reportable(prescriber: Prescriber) -> list[Token]:
    """Tokens that can still be reported lost: Active and Inactive ones."""
    return [t for t in prescriber.tokens if t.status in LIVE]


def not_deleted(prescriber: Prescriber) -> list[Token]:
    return [t for t in prescriber.tokens if t.status != Status.DELETED]


def at_limit(prescriber: Prescriber) -> bool:
    """True when no more tokens may be added (deleted ones do not count). A count: every
    step of the wizard asks, and needs none of the tokens themselves."""
    held = db.session.scalar(
        select(func.count(Token.id)).where(
            Token.prescriber_id == prescriber.id, Token.status != Status.DELETED
        )
    )
    return held >= current_app.config["MAX_TOKENS"]


def is_last_active(prescriber: Prescriber, token: Token) -> bool:
    active = [t for t in prescriber.tokens if t.status == Status.ACTIVE]
    return token.status == Status.ACTIVE and len(active) == 1


def _change(
    prescriber: Prescriber, token: Token, status: Status, action: str, now: datetime, **detail
) -> Token:
    previous = token.status
    token.status = status
    token.updated_at = now
    audit.record(
        action,
        "success",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        credential_id=token.credential_id,
        previous=previous,
        **detail,
    )
    db.session.commit()
    return token


def _require(token: Token, prescriber: Prescriber, *allowed: Status) -> None:
    if token.prescriber_id != prescriber.id:
        raise TokenError("This token is not on your account.")
    if token.status not in allowed:
        raise TokenError(f"This token is {token.status}, so that cannot be done.")


def confirm_with_code(
    prescriber: Prescriber, token: Token, code: str, now: datetime, action: str
) -> CodeCheck:
    """A current code from this token, proving it is in hand (replay and lock rules apply)."""
    return enrollment.check_code(
        prescriber, token.credential_id, code, now, action, token_id=token.id
    )


def disable(prescriber: Prescriber, token: Token, reason: Reason, now: datetime) -> Token:
    """Temporarily unavailable → Inactive; lost, stolen or compromised → Lost for good."""
    _require(token, prescriber, Status.ACTIVE)
    if reason is Reason.LOST:
        return _change(prescriber, token, Status.LOST, "token.lost", now, reason=reason)
    return _change(prescriber, token, Status.INACTIVE, "token.disable", now, reason=reason)


def enable(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Inactive → Active, after the caller checked a fresh code from the token."""
    _require(token, prescriber, Status.INACTIVE)
    return _change(prescriber, token, Status.ACTIVE, "token.enable", now)


def delete(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Active or Inactive → Deleted; its credential ID may then be registered again."""
    _require(token, prescriber, *LIVE)
    return _change(prescriber, token, Status.DELETED, "token.delete", now)


def report_lost(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Mark a token Lost at once. Lost is final: never enabled, never registered again."""
    _require(token, prescriber, *LIVE)
    return _change(prescriber, token, Status.LOST, "token.lost", now)


def rename(prescriber: Prescriber, token: Token, nickname: str, now: datetime) -> Token:
    _require(token, prescriber, *LIVE)
    if enrollment.nickname_taken(prescriber, nickname, except_id=token.id):
        raise TokenError("You already have a token with this name. Choose another name.")
    previous = token.nickname
    token.nickname = nickname
    token.nickname_key = nickname.casefold()
    token.updated_at = now
    audit.record(
        "token.rename",
        "success",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        previous=previous,
        nickname=nickname,
    )
    db.session.commit()
    return token


CHANGES = (
    "token.add",
    "token.disable",
    "token.enable",
    "token.delete",
    "token.lost",
    "token.rename",
)


def history(token: Token) -> list[AuditEvent]:
    """Every change to the token (not the codes checked along the way), oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.token_id == token.id, AuditEvent.action.in_(CHANGES))
            .order_by(AuditEvent.id)
        )
    )
