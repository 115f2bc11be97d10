"""Signing in, passphrases and their reset."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import with_expression

from wizard.authority import AuthorityUnavailable, authority
from wizard.domain import codes, passphrase
from wizard.domain.identifiers import clean_npi
from wizard.domain.otp import Outcome
from wizard.domain.tokens import Status, active, suspension_over
from wizard.extensions import db
from wizard.services import audit, lockout, notices, outages
from wizard.services.lockout import PRESCRIBER, Lock
from wizard.store import snapshots
from wizard.store.direct import DirectRead
from wizard.store.models import AuditEvent, Prescriber, Token, held_tokens_expression

RESET_CODE_VALID = timedelta(hours=24)


def hasher() -> PasswordHasher:
    """argon2id at 7 MiB x 7 passes (wizard/domain/hashing.py; cheaper when testing)."""
    return current_app.extensions["password_hasher"]


def hash_passphrase(value: str) -> str:
    return hasher().hash(passphrase.normalise(value))


def hasher_verify(stored: str, value: str) -> bool:
    """True when value matches an argon2 hash."""
    try:
        return hasher().verify(stored, passphrase.normalise(value))
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """Verified against when there is no account to check, so every path costs the same."""
    return current_app.extensions["dummy_passphrase_hash"]


def verify_or_dummy(stored: str | None, value: str) -> bool:
    """One argon2 verification either way: against stored, or the dummy hash when there is
    nothing to check (no account, or an attempt refused before its check)."""
    ok = hasher_verify(stored or _dummy_hash(), value)
    return ok and stored is not None


def passphrase_matches(prescriber: Prescriber | None, value: str) -> bool:
    """Constant work whether or not the account exists, so timing reveals no NPI."""
    stored = prescriber.passphrase_hash if prescriber else None
    ok = verify_or_dummy(stored, value)
    if ok:
        rehash(Prescriber, prescriber.id, stored, value)
    return ok


def rehash(model, row_id: int, verified: str, value: str) -> None:
    """Store value's hash with today's parameters in place of verified, an older hash that
    value just matched. Only over that hash: a passphrase reset or change committed while
    this sign-in was hashing stays (the old passphrase, perhaps a stolen one, must not come
    back)."""
    if not hasher().check_needs_rehash(verified):
        return
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.passphrase_hash == verified)
        .values(passphrase_hash=hash_passphrase(value))
        .execution_options(synchronize_session=False)
    )


def by_npi(npi: str) -> Prescriber | None:
    return db.session.scalar(select(Prescriber).where(Prescriber.npi == clean_npi(npi)))


def by_id(prescriber_id: int | None) -> Prescriber | None:
    if prescriber_id is None:
        return None
    return db.session.scalar(_BY_ID, {"id": prescriber_id})


# Built once: a view that needs the prescriber's row loads it (cheaper than Session.get),
# with the count every step of the wizard asks for (one round trip, not two).
_BY_ID = (
    select(Prescriber)
    .options(with_expression(Prescriber.held_tokens, held_tokens_expression()))
    .where(Prescriber.id == bindparam("id"))
)


@dataclass(frozen=True)
class SignedIn:
    """What every page asks of the signed-in prescriber: read at each request's start
    without the ORM. A view that reads more, or changes anything, loads the row."""

    id: int
    name: str
    npi: str
    session_generation: int  # a session signed in under an older one has ended
    held_tokens: int  # the tokens the limit counts


def signed_in(prescriber_id: int, mark: str | None = None, fresh: bool = False) -> SignedIn | None:
    """The snapshot; with the change mark read with the session, the one this process kept
    under it, if any (wizard.store.snapshots), unless fresh."""
    kept = snapshots.cache()
    found = None if kept is None or fresh else kept.get(prescriber_id, mark)
    if found is None:
        row = _SIGNED_IN.row(db.engine, id=prescriber_id)
        found = None if row is None else SignedIn(*row)
        if kept is not None:
            kept.keep(prescriber_id, mark, found)
    return found


def snapshot(prescriber: Prescriber) -> SignedIn:
    """The same, from a row loaded by by_id (which reads the token count with it)."""
    return SignedIn(*(getattr(prescriber, name) for name in _SNAPSHOT))


_SNAPSHOT = [field.name for field in fields(SignedIn)]
_SIGNED_IN = DirectRead(
    select(
        *(getattr(Prescriber, name) for name in _SNAPSHOT if name != "held_tokens"),
        held_tokens_expression(),  # last, as in SignedIn
    ).where(Prescriber.id == bindparam("id"))
)


@dataclass(frozen=True)
class Attempt:
    prescriber: Prescriber | None = None
    lock: Lock = Lock()
    outcome: str = ""  # for a refused code: an Outcome value
    reason: str = ""  # for an unavailable authority: why
    proof: str = ""  # a passphrase reset's: the digest of the reset code it checked

    @property
    def ok(self) -> bool:
        return self.prescriber is not None and not self.lock.locked


def check_passphrase(npi: str, value: str, now: datetime, action: str) -> Attempt:
    """First factor. Every refusal costs the same work (one reservation, one argon2
    verification, one audit event), so neither its answer nor its timing tells whether the
    NPI has an account or is paused."""
    prescriber = by_npi(npi)
    ticket = lockout.reserve_sign_in(PRESCRIBER, clean_npi(npi), now)
    matched = passphrase_matches(prescriber if ticket.granted else None, value)
    actor = audit.actor_of(prescriber) if prescriber else "anonymous"
    known = prescriber.id if prescriber else None
    if not ticket.granted:
        outcome = "locked" if prescriber else "unknown-npi"
        audit.record(action, outcome, actor=actor, now=now, prescriber_id=known)
        db.session.commit()
        return Attempt(lock=ticket.lock)
    if not matched:
        outcome = "wrong-passphrase" if prescriber else "unknown-npi"
        lock = lockout.fail(
            ticket, now, action=action, outcome=outcome, actor=actor, prescriber_id=known
        )
        return Attempt(lock=lock)
    # Right, but only half a sign-in: the attempt is given back, the count is not reset.
    lockout.give_back(ticket)
    return Attempt(prescriber)


def active_tokens(prescriber: Prescriber) -> list[Token]:
    """The prescriber's Active tokens: the ones that sign in."""
    return active(prescriber.tokens)


def active_count(prescriber: Prescriber) -> int:
    return len(active_tokens(prescriber))


def end_sessions(prescriber: Prescriber) -> None:
    """Every session signed in before this (caller's) commit ends at its next request.

    Sessions carry the generation they signed in with (web.session); the acting session, when
    it is to stay, takes the new value after the commit."""
    db.session.execute(
        update(Prescriber)
        .where(Prescriber.id == prescriber.id)
        .values(session_generation=Prescriber.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(prescriber, ["session_generation"])


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
    prescriber: Prescriber,
    token_id: int | None,
    code: str,
    now: datetime,
    action: str,
    among: list[Token] | None = None,
) -> Attempt:
    """Second factor: a current code from one of the prescriber's Active tokens (or of the
    tokens among), counted as a sign-in: per NPI and client address, and toward the hard limit."""
    actor = audit.actor_of(prescriber)
    ticket = lockout.reserve_sign_in(PRESCRIBER, prescriber.npi, now)
    if not ticket.granted:
        audit.record(action, "locked", actor=actor, now=now, prescriber_id=prescriber.id)
        db.session.commit()
        return Attempt(lock=ticket.lock)
    candidates = active_tokens(prescriber) if among is None else among
    token = next((t for t in candidates if t.id == token_id), None)
    # Chosen once: with VIP configured, choosing asks the database whether we hold the seed.
    checker = authority().for_credential(token.credential_id) if token else None
    if checker is not None and checker.in_process:
        lockout.hold_account(prescriber.id)  # never across a call to VIP
    try:
        verdict = (
            checker.authenticate(prescriber, [token.credential_id], code, now) if checker else None
        )
    except AuthorityUnavailable as error:
        return _unavailable(error, ticket, prescriber, now, action, token)
    if verdict is None or not verdict.accepted:
        outcome = str(verdict.outcome) if verdict else "no-token"
        lock = lockout.fail(
            ticket,
            now,
            action=action,
            outcome=outcome,
            actor=actor,
            prescriber_id=prescriber.id,
            token_id=token.id if token else None,
        )
        return Attempt(lock=lock, outcome=outcome)
    lockout.succeed(ticket, now)
    audit.record(
        action, "success", actor=actor, now=now, prescriber_id=prescriber.id, token_id=token.id
    )
    db.session.commit()
    return Attempt(prescriber)


def _unavailable(
    error: AuthorityUnavailable,
    ticket: lockout.Ticket,
    prescriber: Prescriber,
    now: datetime,
    action: str,
    token: Token | None = None,
) -> Attempt:
    """The code was not checked: audited, and the reserved attempt given back (an outage is
    no failure of the prescriber's)."""
    lockout.give_back(ticket)
    outages.record(
        error,
        during=action,
        prescriber=prescriber,
        now=now,
        token=token,
    )
    return Attempt(outcome=Outcome.UNAVAILABLE, reason=error.reason)


def check_reset(npi: str, code: str, reset_code: str, now: datetime) -> Attempt:
    """Forgot passphrase: the administrator's reset code and a current code from any Active
    token. The way out of the hard limit, so that limit (not this address's pause) lets it
    be checked. Refusals cost the same whether or not the NPI has an account."""
    action = "passphrase.reset"
    prescriber = by_npi(npi)
    ticket = lockout.reserve_sign_in(PRESCRIBER, clean_npi(npi), now, resetting=True)
    actor = audit.actor_of(prescriber) if prescriber else "anonymous"
    known = prescriber.id if prescriber else None
    if not ticket.granted:
        outcome = "locked" if prescriber else "unknown-npi"
        audit.record(action, outcome, actor=actor, now=now, prescriber_id=known)
        db.session.commit()
        return Attempt(lock=ticket.lock)
    if prescriber is None or not reset_code_valid(prescriber, reset_code, now):
        outcome = "wrong-reset-code" if prescriber else "unknown-npi"
        lock = lockout.fail(
            ticket, now, action=action, outcome=outcome, actor=actor, prescriber_id=known
        )
        return Attempt(lock=lock)
    tokens = reset_tokens(prescriber, now)
    if tokens and all(authority().in_process(t.credential_id) for t in tokens):
        lockout.hold_account(prescriber.id)  # never across a call to VIP
    try:
        verdict = authority().authenticate(prescriber, [t.credential_id for t in tokens], code, now)
    except AuthorityUnavailable as error:
        return _unavailable(error, ticket, prescriber, now, action)
    token = next(
        (t for t in tokens if verdict.accepted and t.credential_id == verdict.credential_id),
        None,
    )
    if token is None:
        lock = lockout.fail(
            ticket, now, action=action, outcome="wrong-code", actor=actor, prescriber_id=known
        )
        return Attempt(lock=lock)
    lockout.give_back(ticket)  # the count starts again once the new passphrase is set
    audit.record(
        action, "code-accepted", actor=actor, now=now, prescriber_id=known, token_id=token.id
    )
    db.session.commit()
    return Attempt(prescriber, proof=prescriber.reset_code_hash)


def reset_tokens(prescriber: Prescriber, now: datetime) -> list[Token]:
    """The tokens whose code proves possession for a reset: the Active ones, and those reported
    lost that can still be reactivated. Someone with the passphrase alone can report every
    token lost, again as soon as one is reactivated; the reset must still get the prescriber
    out (and it ends that someone's flow, and their passphrase)."""
    return [
        t
        for t in prescriber.tokens
        if t.status == Status.ACTIVE
        or (t.status == Status.SUSPENDED and not suspension_over(t.suspended_at, now))
    ]


def resetting(prescriber_id: int | None, proof: str) -> Prescriber | None:
    """The prescriber whose reset check_reset accepted with proof, while that reset code is
    still theirs (not used, not replaced by a newer one)."""
    prescriber = by_id(prescriber_id)
    current = prescriber.reset_code_hash if prescriber else None
    if not (current and proof and hmac.compare_digest(current, proof)):
        return None
    return prescriber


def reset_passphrase(prescriber: Prescriber, proof: str, value: str, now: datetime) -> bool:
    """The reset itself, in one transaction: the reset code that check_reset accepted is
    spent (only if it still is the prescriber's: of two resets with one code, one wins) and
    the new passphrase (already checked against the rules) is set as set_passphrase does.
    False, with nothing changed, when the code was used or replaced meanwhile."""
    spent = db.session.execute(
        update(Prescriber)
        .where(Prescriber.id == prescriber.id, Prescriber.reset_code_hash == proof)
        .values(reset_code_hash=None, reset_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        return False
    set_passphrase(prescriber, value, now, "passphrase.reset")
    return True


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
    """Store a new passphrase (already checked against the rules), unlocking the account,
    ending every session signed in with the old one and telling the prescriber by mail."""
    prescriber.passphrase_hash = hash_passphrase(value)
    prescriber.reset_code_hash = None
    prescriber.reset_expires_at = None
    lockout.clear_sign_in(PRESCRIBER, prescriber.npi, now)
    end_sessions(prescriber)
    audit.record(
        action, "success", actor=audit.actor_of(prescriber), now=now, prescriber_id=prescriber.id
    )
    notices.send(prescriber, "passphrase.reset", now)
    db.session.commit()
