"""Managing tokens: disable, enable, delete, rename, report lost. Each change audited."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import select

from wizard.authority import AuthorityUnavailable, authority
from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import audit, enrollment, outages
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
    """True when no more tokens may be added (deleted ones do not count)."""
    return len(not_deleted(prescriber)) >= current_app.config["MAX_TOKENS"]


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


# What the token's authority hears of each change (docs/VIP.md says why): Deleted and Lost end
# the binding; Inactive keeps it, because our statuses decide which tokens may sign in and
# enabling needs a code that VIP can only check while it holds the binding.


def release_binding(
    prescriber: Prescriber, token: Token, now: datetime, *, during: str, required: bool
) -> bool:
    """End the token's binding at its authority (the caller commits). True when none is left.

    required: an outage raises AuthorityUnavailable and nothing changes (delete). Otherwise
    the outage is audited, the binding stays marked on the token, and release_pending()
    removes it later (a report of loss must never wait for VIP).
    """
    if not token.vip_bound:
        return True
    try:
        authority().unbind(prescriber, token.credential_id)
    except AuthorityUnavailable as error:
        outages.record(
            error,
            during=during,
            prescriber=prescriber,
            now=now,
            token=token,
        )
        if required:
            raise
        return False
    token.vip_bound = False
    return True


def release_pending(now: datetime) -> tuple[int, int]:
    """Remove the bindings that Deleted and Lost tokens still hold (VIP was unavailable when
    they changed): (released, still pending)."""
    pending = db.session.scalars(
        select(Token).where(
            Token.vip_bound.is_(True), Token.status.in_((Status.DELETED, Status.LOST))
        )
    ).all()
    released = 0
    for token in pending:
        if release_binding(token.prescriber, token, now, during="token.release", required=False):
            released += 1
            db.session.commit()
    return released, len(pending) - released


def _lose(prescriber: Prescriber, token: Token, now: datetime, **detail) -> Token:
    """Lost is final, and takes effect here at once; VIP is told after."""
    _change(prescriber, token, Status.LOST, "token.lost", now, **detail)
    if release_binding(prescriber, token, now, during="token.lost", required=False):
        db.session.commit()
    return token


def disable(prescriber: Prescriber, token: Token, reason: Reason, now: datetime) -> Token:
    """Temporarily unavailable → Inactive; lost, stolen or compromised → Lost for good."""
    _require(token, prescriber, Status.ACTIVE)
    if reason is Reason.LOST:
        return _lose(prescriber, token, now, reason=reason)
    return _change(prescriber, token, Status.INACTIVE, "token.disable", now, reason=reason)


def enable(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Inactive → Active, after the caller checked a fresh code from the token."""
    _require(token, prescriber, Status.INACTIVE)
    return _change(prescriber, token, Status.ACTIVE, "token.enable", now)


def delete(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Active or Inactive → Deleted; its credential ID may then be registered again.

    The binding goes first: with VIP unavailable, nothing changes (AuthorityUnavailable)."""
    _require(token, prescriber, *LIVE)
    release_binding(prescriber, token, now, during="token.delete", required=True)
    return _change(prescriber, token, Status.DELETED, "token.delete", now)


def report_lost(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Mark a token Lost at once. Lost is final: never enabled, never registered again."""
    _require(token, prescriber, *LIVE)
    return _lose(prescriber, token, now)


def rename(prescriber: Prescriber, token: Token, nickname: str, now: datetime) -> Token:
    """VIP's friendly name first: with VIP unavailable, nothing changes."""
    _require(token, prescriber, *LIVE)
    if enrollment.nickname_taken(prescriber, nickname, except_id=token.id):
        raise TokenError("You already have a token with this name. Choose another name.")
    if token.vip_bound:
        try:
            authority().rename(prescriber, token.credential_id, nickname)
        except AuthorityUnavailable as error:
            outages.record(
                error,
                during="token.rename",
                prescriber=prescriber,
                now=now,
                token_id=token.id,
                credential_id=token.credential_id,
            )
            raise
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
