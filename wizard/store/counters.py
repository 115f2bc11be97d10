"""The failure counters' SQL: one conditional UPDATE counts an attempt and sets the lock it
starts, so that no more attempts are checked than the policy allows, whatever the
concurrency (wizard.services.lockout decides what to count)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Row, Select, Update, bindparam, case, exists, literal, or_, select, update

from wizard.domain.lockout import LockPolicy
from wizard.extensions import db
from wizard.store.models import Prescriber, UTCDateTime
from wizard.store.replay import StepClaim


def lock_expression(count, rules: LockPolicy, now: datetime | None = None):
    """The lock the count-th consecutive failure starts, as SQL (NULL before the first);
    without now, its ends are the parameters until_<failures> (a statement built once)."""

    def until(failures: int, lock: timedelta):
        if now is None:
            return bindparam(f"until_{failures}", type_=UTCDateTime())
        return literal(now + lock, UTCDateTime())

    tiers = [(count >= n, until(n, lock)) for n, lock in rules.tiers()]
    return case(*reversed(tiers), else_=literal(None, UTCDateTime()))


def unlocked(column, now):
    return or_(column.is_(None), column <= now)


# The code counter's statements, built once: only the account, the time and the ends of the
# locks a failure would start change between requests.
_PRESCRIBERS = Prescriber.__table__
_CODE_STATE = select(
    _PRESCRIBERS.c.code_failures,
    _PRESCRIBERS.c.code_locked_until,
    _PRESCRIBERS.c.session_generation,
).where(_PRESCRIBERS.c.id == bindparam("account"))
_CODE_CLEARED = (
    update(_PRESCRIBERS)
    .where(_PRESCRIBERS.c.id == bindparam("account"))
    .values(code_failures=0, code_locked_until=None)
)


def _when_allowed(rules: LockPolicy, generation: bool) -> Update:
    """An UPDATE of the account's row while its code counter allows an attempt, and with
    generation, while its sessions' generation is the parameter generation."""
    table = _PRESCRIBERS
    allowed = [
        table.c.id == bindparam("account"),
        unlocked(table.c.code_locked_until, bindparam("now", type_=UTCDateTime())),
        table.c.code_failures < rules.hard_limit,
    ]
    if generation:
        allowed.append(table.c.session_generation == bindparam("generation"))
    return update(table).where(*allowed).returning(table.c.code_failures, table.c.code_locked_until)


@cache  # built once per policy
def _code_reservation(rules: LockPolicy, generation: bool) -> Update:
    return _when_allowed(rules, generation).values(
        code_failures=_PRESCRIBERS.c.code_failures + 1,
        code_locked_until=lock_expression(_PRESCRIBERS.c.code_failures + 1, rules),
    )


@cache
def _code_turn(rules: LockPolicy, generation: bool) -> Update:
    # Writes the count as it is: the write is what takes the row's lock (PostgreSQL) or the
    # database's write lock (SQLite).
    return _when_allowed(rules, generation).values(code_failures=_PRESCRIBERS.c.code_failures)


def _values(account_id: int, now: datetime, generation: int | None) -> dict:
    values = {"account": account_id, "now": now}
    if generation is not None:
        values["generation"] = generation
    return values


def count_code_attempt(
    account_id: int, rules: LockPolicy, now: datetime, generation: int | None = None
) -> Row | None:
    """One code check counted and its lock set, in one UPDATE ... RETURNING, unless the
    account is locked (or, with generation, its sessions' generation is another):
    (code_failures, code_locked_until) as they now stand, or None."""
    values = _values(account_id, now, generation)
    values.update((f"until_{n}", now + lock) for n, lock in rules.tiers())
    statement = _code_reservation(rules, generation is not None)
    return db.session.execute(statement, values).one_or_none()


def take_code_turn(
    account_id: int,
    rules: LockPolicy,
    now: datetime,
    generation: int | None = None,
    claim: StepClaim | None = None,
) -> tuple[Row | None, bool | None]:
    """The account's row held until the transaction ends, nothing counted, unless the account
    is locked (or, with generation, its sessions' generation is another): (code_failures,
    code_locked_until) as they stand, or None. A check made while it is held is counted
    afterwards (count_code_attempt) only if it fails.

    With claim (a code already judged right), on PostgreSQL the claimed step is taken in the
    same statement, one round trip, if the turn is granted: then second is whether it was
    taken. Elsewhere (SQLite has no UPDATE in a WITH) second is None: the caller claims it."""
    values = _values(account_id, now, generation)
    if claim is not None and db.engine.dialect.name == "postgresql":
        statement = _code_turn_claiming(rules, generation is not None, claim.statement())
        row = db.session.execute(statement, values | claim.params()).one_or_none()
        return row, None if row is None else row.step_taken
    statement = _code_turn(rules, generation is not None)
    return db.session.execute(statement, values).one_or_none(), None


@cache  # built once per policy and floor
def _code_turn_claiming(rules: LockPolicy, generation: bool, claim: Update) -> Select:
    """PostgreSQL: the turn's UPDATE, and the claim's only where the turn returned a row.
    The claim waits on the turn (its WHERE reads it), so the account's row is locked before
    the credential's, the order of every code check."""
    turn = _code_turn(rules, generation).cte("turn")
    taken = claim.where(exists(turn.select())).returning(claim.table.c.id).cte("taken")
    return select(
        turn.c.code_failures,
        turn.c.code_locked_until,
        exists(taken.select()).label("step_taken"),
    )


def code_count(account_id: int) -> Row | None:
    """(code_failures, code_locked_until, session_generation) of the account; None when it
    has been removed."""
    return db.session.execute(_CODE_STATE, {"account": account_id}).one_or_none()


def clear_code_count(account_id: int) -> None:
    db.session.execute(_CODE_CLEARED, {"account": account_id})
