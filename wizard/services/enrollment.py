"""Adding a token: credential availability, code check with lockout, and save."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from wizard.authority import AuthorityUnavailable, BindingRefused, authority
from wizard.authority.local import Judged
from wizard.domain import backup
from wizard.domain.backup import Answer, Backup
from wizard.domain.otp import Outcome
from wizard.domain.tokens import Status, TokenType
from wizard.extensions import db
from wizard.services import accounts, audit, lockout, notices, outages
from wizard.services.lockout import Lock, Ticket
from wizard.store.models import Prescriber, Token, count_held_tokens, not_deleted


class Availability(StrEnum):
    FREE = "free"
    MINE = "mine"  # a live token of this very prescriber has it
    TAKEN = "taken"  # a live token of someone else has it; we never say whose
    LOST = "lost"  # reported lost (Suspended or Lost): not registered again
    UNKNOWN = "unknown"  # no authority can check its codes


def availability(
    credential_id: str, prescriber: Prescriber | None = None, now: datetime | None = None
) -> Availability:
    """Whether prescriber may add credential_id. Raises AuthorityUnavailable (audited) when
    the credential's authority cannot be asked."""
    live = _live_token(credential_id)
    if live is not None and live.status in (Status.SUSPENDED, Status.LOST):
        return Availability.LOST
    if live is not None:
        mine = prescriber is not None and live.prescriber_id == prescriber.id
        return Availability.MINE if mine else Availability.TAKEN
    try:
        known = authority().knows(credential_id)
    except AuthorityUnavailable as error:
        outages.record(
            error,
            during="enrollment.credential-id",
            prescriber=prescriber,
            now=now,
            credential_id=credential_id,
        )
        raise
    return Availability.FREE if known else Availability.UNKNOWN


@dataclass(frozen=True)
class CodeCheck:
    outcome: str  # an Outcome value, "locked", or "ended" (the session, by a change elsewhere)
    lock: Lock = Lock()
    reason: str = ""  # why the authority was unavailable

    @property
    def accepted(self) -> bool:
        return self.outcome == Outcome.ACCEPTED


def code_lock(prescriber_id: int, now: datetime) -> Lock:
    return lockout.code_state(prescriber_id, now)


def check_code(
    prescriber: Prescriber | accounts.SignedIn,
    credential_id: str,
    code: str,
    now: datetime,
    action: str = "enrollment.code",
    second: str | None = None,
    token_id: int | None = None,
    generation: int | None = None,
) -> CodeCheck:
    """Verify a code for one credential (adding, enabling, or confirming a token),
    counting failures toward the account's code lock. With second, two consecutive
    codes resynchronize an event-based token. With token_id, the token is the prescriber's
    and its authority checks the code against their binding (prescriber is then the row;
    otherwise the signed-in snapshot will do: a check reads only its id and NPI).

    With generation (the session's), nothing is checked once the account's sessions have
    been ended since: outcome "ended", for a snapshot that may be older than the account.

    An authority that cannot answer decides nothing: outcome unavailable, and the reserved
    attempt given back.

    The attempt is reserved before the check. When the credential's authority answers in
    this process, the reservation (the account's row held), the check, its outcome (a failure
    counted, its lock set) and the audit event are one transaction with one commit: the
    reserving UPDATE makes parallel attempts wait until then, and a failure anywhere rolls
    back all of it, the replay floor included. A plain check of a seed we hold is judged
    before the reservation, writing nothing, and its acceptance used only once the reservation
    is granted, its step taken only if the replay floor has not moved since it was read (else
    the code is verified again in the turn). When the authority is remote, the attempt is
    counted and its lock set first, and committed, so that parallel attempts count while the
    question is in flight (no lock is held across the network)."""
    # Chosen once: with VIP configured, choosing asks the database whether we hold the seed.
    authorities = authority()
    checker = authorities.for_credential(credential_id)
    # Judged before the turn is taken, so that the turn (on SQLite, the whole database's write
    # lock) is held for the writes alone; its acceptance is used only once the turn is granted.
    judged = None
    if checker is authorities.local and second is None and token_id is None:
        judged = checker.prejudge(credential_id, code, now)
    ticket = lockout.reserve_code(
        prescriber.id,
        now,
        commit=not checker.in_process,
        generation=generation,
        claim=judged.claim if judged else None,
    )
    if not ticket.granted:
        return CodeCheck("ended" if ticket.ended else "locked", ticket.lock)
    try:
        return _checked(
            checker, ticket, prescriber, credential_id, code, now, action, second, token_id, judged
        )
    except BaseException:
        db.session.rollback()
        raise


def _checked(
    checker,
    ticket: Ticket,
    prescriber: Prescriber | accounts.SignedIn,
    credential_id: str,
    code: str,
    now: datetime,
    action: str,
    second: str | None,
    token_id: int | None,
    judged: Judged | None = None,
) -> CodeCheck:
    """The reserved attempt checked, and its outcome recorded and committed."""
    try:
        if second is not None:
            verdict = checker.resync(credential_id, code, second)
        elif token_id is not None:
            verdict = checker.authenticate(prescriber, [credential_id], code, now)
        else:
            taken = judged and checker.take(judged, ticket.step_taken)
            verdict = taken or checker.verify(credential_id, code, now)
    except AuthorityUnavailable as error:
        lockout.give_back(ticket)
        outages.record(
            error,
            during=action,
            prescriber=prescriber,
            now=now,
            token_id=token_id,
            credential_id=credential_id,
        )
        return CodeCheck(Outcome.UNAVAILABLE, code_lock(prescriber.id, now), error.reason)
    if verdict.outcome is Outcome.OUT_OF_SYNC:
        lockout.give_back(ticket)  # not a wrong code: the fob ran ahead
        return CodeCheck(Outcome.OUT_OF_SYNC, code_lock(prescriber.id, now))
    actor = audit.actor_of(prescriber)
    if verdict.accepted:
        lockout.succeed(ticket, now)
        audit.record(
            action,
            "accepted",
            actor=actor,
            now=now,
            prescriber_id=ticket.account_id,
            token_id=token_id,
            credential_id=credential_id,
        )
        db.session.commit()
        return CodeCheck(Outcome.ACCEPTED)
    lock = lockout.fail(
        ticket,
        now,
        action=action,
        outcome=str(verdict.outcome),
        actor=actor,
        prescriber_id=ticket.account_id,
        token_id=token_id,
        credential_id=credential_id,
    )
    return CodeCheck("locked" if lock.locked else str(verdict.outcome), lock)


def nickname_taken(prescriber: Prescriber, nickname: str, except_id: int | None = None) -> bool:
    query = select(func.count(Token.id)).where(
        Token.prescriber_id == prescriber.id,
        Token.nickname_key == nickname.casefold(),
        not_deleted(),
    )
    if except_id is not None:
        query = query.where(Token.id != except_id)
    return bool(db.session.scalar(query))


def live_nicknames(prescriber: Prescriber) -> set[str]:
    return set(
        db.session.scalars(
            select(Token.nickname).where(Token.prescriber_id == prescriber.id, not_deleted())
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

    The token's authority binds the credential first (VIP: to the prescriber's VIP user); a
    save that then fails takes the binding back. Raises SaveError when the credential or the
    nickname belongs to another live token, or the authority refuses it; AuthorityUnavailable
    when the authority could not be asked (nothing is saved).
    """
    existing = _live_token(new.credential_id)
    if existing is not None:
        if existing.prescriber_id == prescriber.id and existing.status == Status.ACTIVE:
            return existing
        raise SaveError(TAKEN)
    if nickname_taken(prescriber, new.nickname):
        # The name may be taken by this very token, saved from another tab a moment ago.
        again = _live_token(new.credential_id)
        if again is not None and again.prescriber_id == prescriber.id:
            return again
        raise SaveError(NAME_TAKEN)
    bound = _bind(prescriber, new, now)
    # The limit, counted again with this token in: the wizard's guard counted at the request's
    # start, and another session may have saved since. The prescriber's row first, so that on
    # PostgreSQL a second save waits for this one's commit (on SQLite the insert's write lock
    # does); then the insert, then the count, which sees both.
    lockout.hold_account(prescriber.id)
    token = Token(
        prescriber_id=prescriber.id,
        nickname=new.nickname,
        nickname_key=new.nickname.casefold(),
        credential_id=new.credential_id,
        manufacturer=new.manufacturer,
        token_type=new.token_type,
        model=new.model,
        status=Status.ACTIVE,
        vip_bound=bound,
        created_at=now,
        updated_at=now,
    )
    db.session.add(token)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _after_conflict(prescriber, new, bound, now)
    except Exception:
        db.session.rollback()
        _unbind(prescriber, new, bound, now)
        raise
    if held_tokens(prescriber.id) > current_app.config["MAX_TOKENS"]:
        db.session.rollback()
        _unbind(prescriber, new, bound, now)
        raise SaveError(AT_LIMIT.format(limit=current_app.config["MAX_TOKENS"]))
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
    notices.send(prescriber, "token.add", now, token)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        _unbind(prescriber, new, bound, now)
        raise
    return token


TAKEN = "This Credential ID is already registered. Check the ID in the app."
AT_LIMIT = (
    "Your account already holds {limit} tokens, the most it can, so this one was not saved. "
    "Delete a token you no longer use on the Tokens page, then add this one again."
)
NAME_TAKEN = "You already have a token with this name. Choose another name."
REFUSED = (
    "Symantec VIP would not register this Credential ID. Check the ID in the VIP Access app, "
    "or call the help desk."
)


def _bind(prescriber: Prescriber, new: NewToken, now: datetime) -> bool:
    try:
        return authority().bind(prescriber, new.credential_id, new.nickname)
    except BindingRefused:
        raise SaveError(REFUSED) from None
    except AuthorityUnavailable as error:
        outages.record(
            error,
            during="token.add",
            prescriber=prescriber,
            now=now,
            credential_id=new.credential_id,
        )
        raise


def _unbind(prescriber: Prescriber, new: NewToken, bound: bool, now: datetime) -> None:
    """Take back a binding whose token was not saved (best effort: an outage is audited)."""
    if not bound:
        return
    try:
        authority().unbind(prescriber, new.credential_id)
    except AuthorityUnavailable as error:
        outages.record(
            error,
            during="token.add-undo",
            prescriber=prescriber,
            now=now,
            credential_id=new.credential_id,
        )


def _after_conflict(prescriber: Prescriber, new: NewToken, bound: bool, now: datetime) -> Token:
    """Our insert lost a race: to a second save of this same token (its binding is the one we
    made, so it stays), or to another token or name (ours is taken back)."""
    again = _live_token(new.credential_id)
    if again is not None and again.prescriber_id == prescriber.id and again.status == Status.ACTIVE:
        return again
    _unbind(prescriber, new, bound, now)
    if again is not None:
        raise SaveError(TAKEN)
    if nickname_taken(prescriber, new.nickname):
        raise SaveError(NAME_TAKEN)
    raise SaveError("Your token could not be saved. Nothing was saved: try again.")


def held_tokens(prescriber_id: int) -> int:
    """The prescriber's tokens that count toward the limit (all but deleted ones), read on
    the session's connection: this transaction's own unflushed changes are not in it."""
    return db.session.connection().scalar(_HELD, {"prescriber": prescriber_id})


# Built once: building this statement costs more than SQLite takes to run it.
_HELD = count_held_tokens(bindparam("prescriber"))


def own_live_token(prescriber: Prescriber, credential_id: str) -> Token | None:
    """The prescriber's own token holding credential_id (not Deleted), if any."""
    token = _live_token(credential_id)
    return token if token is not None and token.prescriber_id == prescriber.id else None


def _live_token(credential_id: str) -> Token | None:
    return db.session.scalar(
        select(Token).where(Token.credential_id == credential_id, not_deleted())
    )


def answer_backup(prescriber: Prescriber, state: str, choice: str, now: datetime) -> Answer:
    """The prescriber's answer to the backup-token recommendation (wizard.domain.backup);
    a decision not to add one is stored."""
    answer = backup.answer(state, choice)
    if answer.declined:
        decide_backup(prescriber, str(Backup.DECLINED), now)
    return answer


def recommend_backup(prescriber: Prescriber) -> Backup:
    """Where the recommendation starts once a token is saved."""
    return backup.recommend(accounts.active_count(prescriber))


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
