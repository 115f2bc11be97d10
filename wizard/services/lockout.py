"""Failure counters: an attempt is reserved before it is checked, and the lock it would start
is set at once (or the account held until its outcome is counted), so no more attempts are
ever checked than the policy allows, whatever the concurrency.

Sign-in (passphrase, sign-in code, passphrase reset; prescribers and help-desk agents):
- the timed pauses count per account name AND client address (sign_in_throttles), so an
  outsider who knows a public NPI pauses only their own address, never the prescriber's;
- the hard limit counts per account over every address (sign_in_failures): at 100
  consecutive failures only a passphrase reset unlocks (NIST SP 800-63B).
Codes typed while adding or enabling a token count per account (the person is signed in).

Each reservation is one transaction of conditional UPDATEs whose row counts decide whether
the check may run; it commits before a check that may be slow (a question to VIP), so that
parallel attempts count while it is in flight. The outcome then keeps the count (fail), gives
it back (a right passphrase before the code step), or clears it (succeed). A code checked in
this process instead holds the account's row for one transaction (reserve_code(commit=False)):
nothing is counted in advance, a failure is counted before the commit, and a success with
nothing to clear writes nothing more. The SQL is the same whether or not the account exists,
so its timing says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, has_request_context, request
from sqlalchemy import and_, bindparam, delete, select, update

from wizard.domain.lockout import LockPolicy, client_key
from wizard.extensions import db
from wizard.services import audit, notices
from wizard.store.counters import (
    clear_code_count,
    code_count,
    count_code_attempt,
    lock_expression,
    take_code_turn,
    unlocked,
)
from wizard.store.models import HelpdeskAgent, Prescriber, SignInThrottle
from wizard.store.replay import StepClaim
from wizard.store.upsert import insert_for

FORGET_AFTER = timedelta(days=30)  # an address's failures are dropped once this quiet


class Counter(StrEnum):
    SIGN_IN = "sign_in"
    CODE = "code"


@dataclass(frozen=True)
class Kind:
    """Whose sign-in: the model, the name people type, and how it is written in the table."""

    model: type
    key: object  # the column holding the typed name
    prefix: str

    def name(self, value: str) -> str:
        return f"{self.prefix}:{value}"


PRESCRIBER = Kind(Prescriber, Prescriber.npi, "prescriber")
AGENT = Kind(HelpdeskAgent, HelpdeskAgent.username, "agent")


def policy(counter: Counter) -> LockPolicy:
    prefix = counter.name
    config = current_app.config
    return LockPolicy(
        max_failures=config[f"{prefix}_MAX_FAILURES"],
        lock=timedelta(minutes=config[f"{prefix}_LOCK_MINUTES"]),
        longest_lock=timedelta(minutes=config.get(f"{prefix}_LONGEST_LOCK_MINUTES", 60)),
        hard_limit=config.get(f"{prefix}_HARD_LIMIT", 100),
    )


@dataclass(frozen=True)
class Lock:
    """Where a counter stands."""

    until: datetime | None = None  # locked until then
    for_good: bool = False  # past the hard limit: only a passphrase reset unlocks
    left: int | None = None  # failures left before the first lock

    @property
    def locked(self) -> bool:
        return self.for_good or self.until is not None


@dataclass(frozen=True)
class Ticket:
    """One attempt reserved (granted) or refused. A granted attempt is already counted as a
    failure, with the lock that failure starts already in force."""

    counter: Counter
    granted: bool
    lock: Lock = Lock()  # when refused: why
    # The account's consecutive failures, this one included; held, before this one.
    failures: int | None = None
    # The pause this attempt started, in advance; held, the one the account has.
    locks_until: datetime | None = None
    kind: Kind | None = None
    typed: str = ""  # the NPI or username as typed (sign-in)
    client: str = ""
    account_id: int | None = None  # (codes)
    held: bool = False  # the account's row held in the caller's transaction, nothing counted
    ended: bool = False  # refused: the session's generation is no longer the account's
    # Held with a claim (a code judged right before): whether its step was taken with the
    # turn; None when it was not tried there (the caller takes it).
    step_taken: bool | None = None


def client() -> str:
    """This request's client address, as counted: IPv4 address or IPv6 /64 (anything else a
    misconfigured proxy lets through, cut to the column's length, as the audit log cuts it)."""
    if not has_request_context():
        return "local"
    return client_key(request.remote_addr)[: SignInThrottle.client.type.length]


def _insert(model):
    return insert_for(db.session.get_bind().dialect.name, model)


def _update(model, *where, **values):
    statement = update(model).where(*where).values(**values)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def reserve_sign_in(kind: Kind, typed: str, now: datetime, *, resetting: bool = False) -> Ticket:
    """Reserve one sign-in attempt for the account named typed (which may not exist), from
    this client address. Commits. resetting: a passphrase reset is the way out of the hard
    limit, so the hard limit (but not this address's pause) lets it through."""
    for _ in range(3):
        ticket = _reserve_sign_in(kind, typed, now, resetting)
        if ticket is not None:
            return ticket
    raise RuntimeError("the sign-in count row kept vanishing")  # a purge at every try


def _reserve_sign_in(kind: Kind, typed: str, now: datetime, resetting: bool) -> Ticket | None:
    """One try; None when the address's row was purged between our statements."""
    rules = policy(Counter.SIGN_IN)
    model, where_pair = SignInThrottle, None
    name, here = kind.name(typed), client()
    db.session.execute(
        _insert(model)
        .values(account=name, client=here, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["account", "client"])
    )
    where_pair = and_(model.account == name, model.client == here)
    account_cap = [] if resetting else [kind.model.sign_in_failures < rules.hard_limit]
    counted = _update(
        kind.model,
        kind.key == typed,
        *account_cap,
        sign_in_failures=kind.model.sign_in_failures + 1,
    )
    taken = _update(
        model,
        where_pair,
        unlocked(model.locked_until, now),
        failures=model.failures + 1,
        locked_until=lock_expression(model.failures + 1, rules, now),
        updated_at=now,
    )
    pair = db.session.execute(
        select(model.failures, model.locked_until).where(where_pair)
    ).one_or_none()
    if pair is None:
        db.session.rollback()
        return None
    account = db.session.execute(
        select(kind.model.id, kind.model.sign_in_failures).where(kind.key == typed)
    ).one_or_none()
    blocked = account is not None and not counted
    if blocked or not taken:
        db.session.rollback()
        refused = Lock(for_good=True) if blocked else Lock(until=pair.locked_until)
        return Ticket(Counter.SIGN_IN, False, refused, kind=kind, typed=typed, client=here)
    db.session.commit()
    return Ticket(
        Counter.SIGN_IN,
        True,
        failures=account.sign_in_failures if account else None,
        locks_until=pair.locked_until,
        kind=kind,
        typed=typed,
        client=here,
        account_id=account.id if account else None,
    )


def reserve_code(
    account_id: int,
    now: datetime,
    *,
    commit: bool = True,
    generation: int | None = None,
    claim: StepClaim | None = None,
) -> Ticket:
    """Reserve one code check for a signed-in prescriber (adding or enabling a token).

    With generation (the session's), the reservation is refused as ended when the account's
    sessions were ended since (or the account removed): in the same UPDATE, so a request that
    began on a snapshot from memory checks nothing for a session that has ended.

    Counts it and commits, unless commit is False: then the account's row is only held, in
    the caller's transaction, whose commit must follow the check at once (an authority that
    answers in this process). The UPDATE that holds it keeps the row (PostgreSQL) or the
    database's write lock (SQLite) until then, so parallel checks still wait their turn and
    each sees the count before it; fail() counts the attempt in that same transaction.

    With claim (held only: a code judged right before the turn), the claimed step is taken
    with the turn where the database can do both in one statement (ticket.step_taken)."""
    rules = policy(Counter.CODE)
    step_taken = None
    if commit:
        row = count_code_attempt(account_id, rules, now, generation)
    else:
        row, step_taken = take_code_turn(account_id, rules, now, generation, claim)
    if row is None:
        state = code_count(account_id)
        db.session.rollback()
        if state is None or generation not in (None, state.session_generation):
            return Ticket(Counter.CODE, False, ended=True)
        return Ticket(
            Counter.CODE, False, _code_lock(state.code_failures, state.code_locked_until, now)
        )
    if commit:
        db.session.commit()
    return Ticket(
        Counter.CODE,
        True,
        failures=row.code_failures,
        locks_until=row.code_locked_until,
        account_id=account_id,
        held=not commit,
        step_taken=step_taken,
    )


def hold_account(prescriber_id: int) -> None:
    """Lock the prescriber's row until the commit (PostgreSQL; SQLite has one writer anyway)
    before a sign-in or reset code check writes its credential's replay floor, or a token
    change writes its audit event. A code check in one transaction (reserve_code(commit=False))
    locks the prescriber first too: in one order, two writes of one prescriber wait for each
    other and never deadlock.
    The lock an UPDATE takes (FOR NO KEY UPDATE), not FOR UPDATE: an audit event's foreign
    key to the prescriber must not wait on it, or events written meanwhile would deadlock."""
    db.session.execute(_HOLD, {"id": prescriber_id})


_HOLD = (
    select(Prescriber.id).where(Prescriber.id == bindparam("id")).with_for_update(key_share=True)
)


def _code_lock(failures: int, until: datetime | None, now: datetime) -> Lock:
    rules = policy(Counter.CODE)
    if rules.blocked_for_good(failures):
        return Lock(for_good=True)
    if until is not None and until > now:
        return Lock(until=until)
    return Lock(left=rules.left(failures))


def code_state(account_id: int, now: datetime) -> Lock:
    """Where the account's code counter stands, read now (for the code step's page, or after
    an attempt's outcome)."""
    state = code_count(account_id)
    if state is None:  # removed since the request began
        return Lock()
    return _code_lock(state.code_failures, state.code_locked_until, now)


def fail(
    ticket: Ticket,
    now: datetime,
    *,
    action: str,
    outcome: str,
    actor: str,
    prescriber_id: int | None = None,
    **detail,
) -> Lock:
    """The reserved attempt failed: audit it, and the lock it started. Commits."""
    if ticket.held:  # counted now, in the transaction that holds the account's row
        row = count_code_attempt(ticket.account_id, policy(ticket.counter), now)
        ticket = replace(ticket, failures=row.code_failures, locks_until=row.code_locked_until)
    rules = policy(ticket.counter)
    audit.record(
        action,
        outcome,
        actor=actor,
        now=now,
        prescriber_id=prescriber_id,
        failures=ticket.failures,
        **detail,
    )
    if ticket.locks_until is not None:
        audit.record(
            f"{ticket.counter}.lock",
            "locked",
            actor=actor,
            now=now,
            prescriber_id=prescriber_id,
            failures=ticket.failures,
            until=ticket.locks_until.isoformat(),
        )
    blocked = ticket.failures is not None and rules.blocked_for_good(ticket.failures)
    if blocked and ticket.failures == rules.hard_limit:
        audit.record(
            f"{ticket.counter}.lock",
            "blocked",
            actor=actor,
            now=now,
            prescriber_id=prescriber_id,
            failures=ticket.failures,
        )
    _tell_prescriber(ticket, now)
    db.session.commit()
    if blocked:
        return Lock(for_good=True)
    if ticket.locks_until is not None:
        return Lock(until=ticket.locks_until)
    return Lock(left=rules.left(ticket.failures or 0))


def _tell_prescriber(ticket: Ticket, now: datetime) -> None:
    """Mail the prescriber when their account's consecutive failures first reach a pause, and
    when it is blocked for good; not at every later pause, nor per address: an outsider with
    a public NPI and many addresses must not flood the prescriber's mail."""
    if ticket.counter is not Counter.SIGN_IN or ticket.kind is not PRESCRIBER:
        return
    if ticket.account_id is None or ticket.failures is None:
        return
    rules = policy(ticket.counter)
    for_good = ticket.failures == rules.hard_limit
    if ticket.failures != rules.max_failures and not for_good:
        return
    prescriber = db.session.get(Prescriber, ticket.account_id)
    notices.send(
        prescriber,
        "account.lock",
        now,
        until=ticket.locks_until,
        failures=ticket.failures,
        for_good=for_good,
    )


def give_back(ticket: Ticket) -> None:
    """The attempt did not fail (a right passphrase before the code step, a key fob out of
    step): it counts for nothing, and the lock it started in advance is lifted. Commits; a
    reservation still held in the transaction is rolled back with it (nothing else is
    written there before the check's outcome)."""
    if ticket.held:
        db.session.rollback()
        return
    if ticket.counter is Counter.CODE:
        _update(
            Prescriber,
            Prescriber.id == ticket.account_id,
            Prescriber.code_failures > 0,
            code_failures=Prescriber.code_failures - 1,
            code_locked_until=None if ticket.locks_until else Prescriber.code_locked_until,
        )
    else:
        model = ticket.kind.model
        _update(
            model,
            ticket.kind.key == ticket.typed,
            model.sign_in_failures > 0,
            sign_in_failures=model.sign_in_failures - 1,
        )
        pair = SignInThrottle
        _update(
            pair,
            pair.account == ticket.kind.name(ticket.typed),
            pair.client == ticket.client,
            pair.failures > 0,
            failures=pair.failures - 1,
            locked_until=None if ticket.locks_until else pair.locked_until,
        )
    db.session.commit()


def succeed(ticket: Ticket, now: datetime) -> None:
    """The attempt proved the account holder: the consecutive count starts again, for the
    account and for this address only (an attacker's address stays paused). The caller
    commits."""
    if ticket.counter is Counter.CODE:
        nothing_counted = ticket.held and not ticket.failures and ticket.locks_until is None
        if not nothing_counted:
            clear_code_count(ticket.account_id)
        return
    clear_sign_in(ticket.kind, ticket.typed, now, ticket.client)


def clear_sign_in(kind: Kind, typed: str, now: datetime, here: str | None = None) -> None:
    """Start the sign-in count again for the account and this address (a completed sign-in
    or a passphrase reset), and forget other addresses' failures long quiet. The caller
    commits. (The row is emptied, not deleted: a parallel attempt may be between its
    insert-if-missing and its update.)"""
    _update(kind.model, kind.key == typed, sign_in_failures=0)
    pair = SignInThrottle
    _update(
        pair,
        pair.account == kind.name(typed),
        pair.client == (here or client()),
        failures=0,
        locked_until=None,
        updated_at=now,
    )
    db.session.execute(
        delete(pair).where(pair.updated_at < now - FORGET_AFTER, unlocked(pair.locked_until, now))
    )


def forget_sign_in_failures(kind: Kind, typed: str) -> None:
    """Every sign-in count of the account, at every address, back to nothing (the sandbox's
    demo reset). The caller commits."""
    _update(kind.model, kind.key == typed, sign_in_failures=0)
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.account == kind.name(typed)))
