"""Per-account failure counters and the locks they lead to.

Two counters: sign-in (passphrase or code, also passphrase reset) and the
one-time pins typed while adding or enabling a token. Increments happen in
SQL so parallel failures are each counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import select, update

from wizard.domain.lockout import LockPolicy
from wizard.extensions import db
from wizard.services import audit, notices
from wizard.store.models import HelpdeskAgent, Prescriber


class Counter(StrEnum):
    SIGN_IN = "sign_in"
    CODE = "code"


_COLUMNS = {
    Counter.SIGN_IN: ("sign_in_failures", "sign_in_locked_until"),
    Counter.CODE: ("code_failures", "code_locked_until"),
}
_CONFIG = {Counter.SIGN_IN: "SIGN_IN", Counter.CODE: "CODE"}


def policy(counter: Counter) -> LockPolicy:
    prefix = _CONFIG[counter]
    config = current_app.config
    return LockPolicy(
        max_failures=config[f"{prefix}_MAX_FAILURES"],
        lock=timedelta(minutes=config[f"{prefix}_LOCK_MINUTES"]),
    )


@dataclass(frozen=True)
class Lock:
    """Where a counter stands after an attempt."""

    until: datetime | None = None  # locked until then
    for_good: bool = False  # past the hard limit: only a passphrase reset unlocks
    left: int | None = None  # failures left before the first lock

    @property
    def locked(self) -> bool:
        return self.for_good or self.until is not None


def state(prescriber: Prescriber, counter: Counter, now: datetime) -> Lock:
    failures_col, until_col = _COLUMNS[counter]
    failures = getattr(prescriber, failures_col) or 0
    rules = policy(counter)
    if rules.blocked_for_good(failures):
        return Lock(for_good=True)
    until = getattr(prescriber, until_col)
    if until is not None and until > now:
        return Lock(until=until)
    return Lock(left=rules.left(failures))


def fail(
    account: Prescriber | HelpdeskAgent,
    counter: Counter,
    now: datetime,
    *,
    action: str,
    outcome: str,
    actor: str,
    **detail,
) -> Lock:
    """Count one failure, audit it, and lock when the policy says so. Commits.

    account is a prescriber, or a help-desk agent (sign-in counter only).
    """
    model = type(account)
    failures_col, until_col = _COLUMNS[counter]
    column = getattr(model, failures_col)
    db.session.execute(update(model).where(model.id == account.id).values({column: column + 1}))
    failures = db.session.scalar(select(column).where(model.id == account.id))
    prescriber_id = account.id if model is Prescriber else None
    audit.record(
        action,
        outcome,
        actor=actor,
        now=now,
        prescriber_id=prescriber_id,
        failures=failures,
        **detail,
    )
    lock_for = policy(counter).lock_after(failures)
    if lock_for is not None:
        until = now + lock_for
        db.session.execute(update(model).where(model.id == account.id).values({until_col: until}))
        audit.record(
            f"{counter}.lock",
            "locked",
            actor=actor,
            now=now,
            prescriber_id=prescriber_id,
            failures=failures,
            until=until.isoformat(),
        )
        _tell_prescriber(account, counter, failures, until, now)
    db.session.commit()
    db.session.refresh(account)
    return state(account, counter, now)


def _tell_prescriber(account, counter: Counter, failures: int, until: datetime, now) -> None:
    """Mail the prescriber when signing in first pauses, and when it is blocked for good
    (not at every later pause: an outsider with a public NPI must not flood their mail)."""
    if not isinstance(account, Prescriber) or counter is not Counter.SIGN_IN:
        return
    rules = policy(counter)
    for_good = failures == rules.hard_limit
    if failures == rules.max_failures or for_good:
        notices.send(
            account, "account.lock", now, until=until, failures=failures, for_good=for_good
        )


def succeed(prescriber: Prescriber, counter: Counter) -> None:
    """Reset the counter after a success (the caller commits)."""
    failures_col, until_col = _COLUMNS[counter]
    setattr(prescriber, failures_col, 0)
    setattr(prescriber, until_col, None)
