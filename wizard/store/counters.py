"""The failure counters' SQL: one conditional UPDATE counts an attempt and sets the lock it
starts, so that no more attempts are checked than the policy allows, whatever the
concurrency (wizard.services.lockout decides what to count)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Row, Update, bindparam, case, literal, or_, select, update

from wizard.domain.lockout import LockPolicy
from wizard.extensions import db
from wizard.store.models import Prescriber, UTCDateTime


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
_CODE_STATE = select(_PRESCRIBERS.c.code_failures, _PRESCRIBERS.c.code_locked_until).where(
    _PRESCRIBERS.c.id == bindparam("account")
)
_CODE_CLEARED = (
    update(_PRESCRIBERS)
    .where(_PRESCRIBERS.c.id == bindparam("account"))
    .values(code_failures=0, code_locked_until=None)
)


def _when_allowed(rules: LockPolicy) -> Update:
    """An UPDATE of the account's row while its code counter allows an attempt."""
    table = _PRESCRIBERS
    return (
        update(table)
        .where(
            table.c.id == bindparam("account"),
            unlocked(table.c.code_locked_until, bindparam("now", type_=UTCDateTime())),
            table.c.code_failures < rules.hard_limit,
        )
        .returning(table.c.code_failures, table.c.code_locked_until)
    )


@cache  # built once per policy
def _code_reservation(rules: LockPolicy) -> Update:
    return _when_allowed(rules).values(
        code_failures=_PRESCRIBERS.c.code_failures + 1,
        code_locked_until=lock_expression(_PRESCRIBERS.c.code_failures + 1, rules),
    )


@cache
def _code_turn(rules: LockPolicy) -> Update:
    # Writes the count as it is: the write is what takes the row's lock (PostgreSQL) or the
    # database's write lock (SQLite).
    return _when_allowed(rules).values(code_failures=_PRESCRIBERS.c.code_failures)


def count_code_attempt(account_id: int, rules: LockPolicy, now: datetime) -> Row | None:
    """One code check counted and its lock set, in one UPDATE ... RETURNING, unless the
    account is locked: (code_failures, code_locked_until) as they now stand, or None."""
    values = {"account": account_id, "now": now}
    values.update((f"until_{n}", now + lock) for n, lock in rules.tiers())
    return db.session.execute(_code_reservation(rules), values).one_or_none()


def take_code_turn(account_id: int, rules: LockPolicy, now: datetime) -> Row | None:
    """The account's row held until the transaction ends, nothing counted, unless the account
    is locked: (code_failures, code_locked_until) as they stand, or None. A check made while
    it is held is counted afterwards (count_code_attempt) only if it fails."""
    return db.session.execute(_code_turn(rules), {"account": account_id, "now": now}).one_or_none()


def code_count(account_id: int) -> Row:
    """(code_failures, code_locked_until) of the account."""
    return db.session.execute(_CODE_STATE, {"account": account_id}).one()


def clear_code_count(account_id: int) -> None:
    db.session.execute(_CODE_CLEARED, {"account": account_id})
