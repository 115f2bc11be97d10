"""Every change to a prescriber's tokens: one function per status transition.

Each is one transaction: the status moves only from the status it was read in (a conditional
UPDATE, so two requests cannot both make the same change), with its audit event and its mail to
the prescriber. Which action each status allows is wizard.domain.tokens.ALLOWED.

    Active --disable--> Inactive --enable--> Active
    Active, Inactive --delete--> Deleted            (its Credential ID may be registered again)
    Active, Inactive --suspend (reported lost)--> Suspended --reactivate--> Active
    Suspended --finalize_loss (confirmed, or 30 days passed)--> Lost   (never again)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import select, update

from wizard.authority import AuthorityUnavailable, authority
from wizard.domain import tokens as token_rules
from wizard.domain.otp import Outcome
from wizard.domain.tokens import Action, Status, allows, suspension_ends, suspension_over
from wizard.extensions import db
from wizard.services import accounts, audit, enrollment, lockout, notices, outages
from wizard.services.enrollment import CodeCheck
from wizard.store.models import AuditEvent, Prescriber, Token


class Reason(StrEnum):
    TEMPORARY = "temporary"  # reversible: Inactive
    LOST = "lost"  # lost, stolen or compromised: Suspended, then Lost


class TokenError(ValueError):
    """The change is not allowed in the token's state; the message is for the prescriber."""


def own_token(prescriber: Prescriber, token_id: int | None) -> Token | None:
    return next((t for t in prescriber.tokens if t.id == token_id), None)


def allowing(prescriber: Prescriber, action: Action) -> list[Token]:
    """The prescriber's tokens whose status allows action."""
    return [t for t in prescriber.tokens if allows(t.status, action)]


def reportable(prescriber: Prescriber) -> list[Token]:
    """Tokens that can still be reported lost: Active and Inactive ones."""
    return allowing(prescriber, Action.REPORT_LOST)


def not_deleted(prescriber: Prescriber) -> list[Token]:
    return [t for t in prescriber.tokens if t.status != Status.DELETED]


def at_limit(prescriber: Prescriber) -> bool:
    """True when no more tokens may be added (deleted ones do not count). A count: every
    step of the wizard asks, and needs none of the tokens themselves. The one read with the
    prescriber at the request's start, unless a commit since has expired it; else read on
    the session's connection without autoflush: asked before the request changes anything."""
    held = prescriber.held_tokens
    if held is None:
        held = enrollment.held_tokens(prescriber.id)
    return limit_reached(held)


def limit_reached(held: int) -> bool:
    """True when a prescriber holding `held` tokens (deleted ones not counted) may add none."""
    return held >= current_app.config["MAX_TOKENS"]


def is_last_active(prescriber: Prescriber, token: Token) -> bool:
    return token_rules.is_last_active(token, prescriber.tokens)


def reactivate_by(token: Token) -> datetime | None:
    """Until when a Suspended token may be reactivated."""
    return suspension_ends(token.suspended_at) if token.suspended_at else None


def _require(token: Token, prescriber: Prescriber, action: Action) -> None:
    if token.prescriber_id != prescriber.id:
        raise TokenError("This token is not on your account.")
    if not allows(token.status, action):
        raise TokenError(f"This token is {token.status}, so that cannot be done.")


def _move(
    prescriber: Prescriber,
    token: Token,
    action: Action,
    to: Status,
    now: datetime,
    *,
    event: str,
    actor: str | None = None,
    **detail,
) -> str:
    """Move token to status to, if it is still in the status it was read in; audited.
    Returns the previous status. The caller adds its mail and commits."""
    # The prescriber's row first, as a code check takes it, then the token and the audit
    # head: in one order, a token change and a code check of one prescriber never deadlock.
    lockout.hold_account(prescriber.id)
    _require(token, prescriber, action)
    previous = token.status
    values = {"status": to, "updated_at": now}
    if to is Status.SUSPENDED:
        values["suspended_at"] = now
    elif to is not Status.LOST:
        values["suspended_at"] = None
    moved = db.session.execute(
        update(Token)
        .where(Token.id == token.id, Token.status == previous)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        raise TokenError("This token was changed a moment ago. Reload the page to see it now.")
    db.session.expire(token)
    audit.record(
        event,
        "success",
        actor=actor or audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        credential_id=token.credential_id,
        previous=previous,
        **detail,
    )
    return previous


def confirm_with_code(
    prescriber: Prescriber, token: Token, code: str, now: datetime, action: str
) -> CodeCheck:
    """A current code from this token, proving it is in hand (replay and lock rules apply)."""
    return enrollment.check_code(
        prescriber, token.credential_id, code, now, action, token_id=token.id
    )


def confirm_signed_out(
    prescriber: Prescriber, token: Token, code: str, now: datetime, action: str
) -> CodeCheck:
    """confirm_with_code for someone signed out who gave the passphrase on this flow (a
    reactivation from the lost-token pages): counted as a sign-in, per NPI and client address,
    so that someone holding the passphrase alone pauses only their own address, never the
    prescriber's code checks."""
    attempt = accounts.check_token_code(prescriber, token.id, code, now, action, among=[token])
    if attempt.ok:
        return CodeCheck(Outcome.ACCEPTED)
    outcome = "locked" if attempt.lock.locked else attempt.outcome
    return CodeCheck(outcome, attempt.lock, attempt.reason)


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


def disable(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Active → Inactive (temporarily unavailable). Ends the prescriber's other sessions."""
    _move(
        prescriber,
        token,
        Action.DISABLE,
        Status.INACTIVE,
        now,
        event="token.disable",
        reason=Reason.TEMPORARY,
    )
    accounts.end_sessions(prescriber)
    notices.send(prescriber, "token.disable", now, token)
    db.session.commit()
    return token


def enable(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Inactive → Active, after the caller checked a fresh code from the token."""
    _move(prescriber, token, Action.ENABLE, Status.ACTIVE, now, event="token.enable")
    notices.send(prescriber, "token.enable", now, token)
    db.session.commit()
    return token


def delete(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Active or Inactive → Deleted; its Credential ID may then be registered again.
    Ends the prescriber's other sessions. The binding at the token's authority goes first:
    with VIP unavailable, nothing changes (AuthorityUnavailable)."""
    _require(token, prescriber, Action.DELETE)
    release_binding(prescriber, token, now, during="token.delete", required=True)
    _move(prescriber, token, Action.DELETE, Status.DELETED, now, event="token.delete")
    accounts.end_sessions(prescriber)
    notices.send(prescriber, "token.delete", now, token)
    db.session.commit()
    return token


def suspend(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Reported lost: Active or Inactive → Suspended at once. It no longer signs in; it can be
    reactivated for 30 days by proving possession, then it is Lost. Ends every session of the
    prescriber (the web keeps the reporting session when it is signed in)."""
    _move(prescriber, token, Action.REPORT_LOST, Status.SUSPENDED, now, event="token.suspend")
    accounts.end_sessions(prescriber)
    notices.send(prescriber, "token.suspend", now, token, until=suspension_ends(now))
    db.session.commit()
    return token


def reactivate(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Suspended → Active within 30 days of the report, after the caller checked a fresh code
    from this very token (the passphrase was checked at sign-in or on the lost-token page)."""
    if token.status == Status.SUSPENDED and suspension_over(token.suspended_at, now):
        settle(prescriber, now)
        raise TokenError(
            "This token was reported lost more than 30 days ago, so it cannot be reactivated."
        )
    _move(prescriber, token, Action.REACTIVATE, Status.ACTIVE, now, event="token.reactivate")
    notices.send(prescriber, "token.reactivate", now, token)
    db.session.commit()
    return token


class Finality(StrEnum):
    CONFIRMED = "confirmed"  # by the prescriber, signed in with another token
    EXPIRED = "expired"  # 30 days without a reactivation


def finalize_loss(prescriber: Prescriber, token: Token, now: datetime, why: Finality) -> Token:
    """Suspended → Lost for good: never enabled, never registered again."""
    if why is Finality.EXPIRED and not suspension_over(token.suspended_at, now):
        raise TokenError("This token can still be reactivated.")
    _move(
        prescriber,
        token,
        Action.CONFIRM_LOST,
        Status.LOST,
        now,
        event="token.lost",
        actor="system" if why is Finality.EXPIRED else None,
        reason=why,
    )
    notices.send(prescriber, "token.lost", now, token, for_good=why is Finality.EXPIRED)
    db.session.commit()
    # Lost takes effect here at once; the authority is told after (an outage leaves the
    # binding marked on the token, for release_pending()).
    if release_binding(prescriber, token, now, during="token.lost", required=False):
        db.session.commit()
    return token


def confirm_lost(
    prescriber: Prescriber, token: Token, now: datetime, signed_in_with: int | None
) -> Token:
    """The prescriber confirms a suspended token's loss, from a session signed in with another
    token (a session signed in with this one, before its report, does not prove the loss)."""
    if signed_in_with is None or signed_in_with == token.id:
        raise TokenError("To confirm that this token is lost, sign in with another of your tokens.")
    return finalize_loss(prescriber, token, now, Finality.CONFIRMED)


def settle(prescriber: Prescriber, now: datetime) -> None:
    """Make Lost the prescriber's suspensions older than 30 days (before showing or using them:
    the expiry is exact however often the finalize command runs)."""
    for token in list(prescriber.tokens):
        if token.status == Status.SUSPENDED and suspension_over(token.suspended_at, now):
            try:
                finalize_loss(prescriber, token, now, Finality.EXPIRED)
            except TokenError:
                db.session.refresh(token)  # another request finalized it first


def finalize_expired(now: datetime) -> int:
    """Every suspension older than 30 days made Lost; how many (the daily command)."""
    finalized = 0
    stale = db.session.scalars(
        select(Token.id).where(Token.status == Status.SUSPENDED).order_by(Token.id)
    ).all()
    for token_id in stale:
        token = db.session.get(Token, token_id)
        if token.status != Status.SUSPENDED or not suspension_over(token.suspended_at, now):
            continue
        try:
            finalize_loss(token.prescriber, token, now, Finality.EXPIRED)
        except TokenError:
            continue
        finalized += 1
    return finalized


def rename(prescriber: Prescriber, token: Token, nickname: str, now: datetime) -> Token:
    """VIP's friendly name first: with VIP unavailable, nothing changes."""
    _require(token, prescriber, Action.RENAME)
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
    notices.send(prescriber, "token.rename", now, token, previous=previous)
    db.session.commit()
    return token


CHANGES = (
    "token.add",
    "token.disable",
    "token.enable",
    "token.delete",
    "token.suspend",
    "token.reactivate",
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
