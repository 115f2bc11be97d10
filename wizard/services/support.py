"""Where each browser session is, for the help desk; and the enrollment funnel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from wizard.domain.steps import ORDER, Step
from wizard.extensions import db
from wizard.store.models import SupportEvent, SupportSession, Token, WizardRun

WIZARD_STEPS = {str(s) for s in Step}


def _session(code: str, now: datetime) -> SupportSession:
    row = db.session.scalar(select(SupportSession).where(SupportSession.support_code == code))
    if row is None:
        row = SupportSession(support_code=code, created_at=now, updated_at=now)
        db.session.add(row)
        db.session.flush()
    return row


def _later(a: str, b: str) -> str:
    """The further of two wizard steps."""
    if a not in WIZARD_STEPS:
        return b
    if b not in WIZARD_STEPS:
        return a
    return a if ORDER.index(Step(a)) >= ORDER.index(Step(b)) else b


@dataclass
class Seen:
    """What one request showed of the prescriber's progress. Never a secret."""

    page: str
    error: str = ""
    change: str = ""  # a change the prescriber made (a token reported lost...)
    prescriber_id: int | None = None
    name: str = ""
    npi: str = ""
    platform: str = ""
    credential_id: str = ""
    furthest: str = ""
    backup: str = ""
    new_run: bool = False
    sign_in_token: int | None = None  # the token picked to sign in with (its id)


def record(code: str, seen: Seen, now: datetime) -> None:
    """Update the support session behind a support code, its timeline and its wizard run."""
    row = _session(code, now)
    for attr in ("prescriber_id", "name", "npi", "platform", "credential_id"):
        value = getattr(seen, attr)
        if value:
            setattr(row, attr, value)
    if row.page != seen.page:
        db.session.add(SupportEvent(support_session_id=row.id, at=now, kind="page", name=seen.page))
    row.page = seen.page
    if seen.page in WIZARD_STEPS:
        row.step = seen.page
        row.furthest_step = _later(row.furthest_step, seen.furthest or seen.page)
        _record_run(row, seen, now)
    if seen.sign_in_token:
        db.session.add(
            SupportEvent(
                support_session_id=row.id, at=now, kind="token", name=str(seen.sign_in_token)
            )
        )
    if seen.error:
        row.last_error = seen.error
        row.last_error_at = now
        db.session.add(
            SupportEvent(support_session_id=row.id, at=now, kind="error", name=seen.error)
        )
    if seen.change:
        db.session.add(
            SupportEvent(support_session_id=row.id, at=now, kind="change", name=seen.change)
        )
    row.updated_at = now
    db.session.commit()


def last_change(row: SupportSession) -> SupportEvent | None:
    """The latest change the prescriber made in this session, for the live view."""
    return next((e for e in reversed(row.events) if e.kind == "change"), None)


def _record_run(row: SupportSession, seen: Seen, now: datetime) -> None:
    run = db.session.scalar(
        select(WizardRun)
        .where(WizardRun.support_session_id == row.id)
        .order_by(WizardRun.id.desc())
        .limit(1)
    )
    if run is None or seen.new_run or (run.completed_at and seen.page == Step.GET_APP):
        run = WizardRun(support_session_id=row.id, prescriber_id=seen.prescriber_id, started_at=now)
        db.session.add(run)
        row.furthest_step = seen.page
    run.furthest_step = _later(run.furthest_step, seen.furthest or seen.page)
    if seen.page == Step.DONE and run.completed_at is None:
        run.completed_at = now
    if seen.backup:
        run.backup = seen.backup


def mark_backup(code: str, state: str) -> None:
    """Set the backup outcome of the support session's latest wizard run."""
    run = db.session.scalar(
        select(WizardRun)
        .join(SupportSession, WizardRun.support_session_id == SupportSession.id)
        .where(SupportSession.support_code == code)
        .order_by(WizardRun.id.desc())
        .limit(1)
    )
    if run is not None:
        run.backup = state
        db.session.commit()


def find(typed_code: str) -> SupportSession | None:
    return db.session.scalar(
        select(SupportSession).where(SupportSession.support_code == typed_code)
    )


def _latest(row: SupportSession, kind: str, name: str | None = None) -> SupportEvent | None:
    query = select(SupportEvent).where(
        SupportEvent.support_session_id == row.id, SupportEvent.kind == kind
    )
    if name is not None:
        query = query.where(SupportEvent.name == name)
    return db.session.scalar(query.order_by(SupportEvent.id.desc()).limit(1))


def resolved_at(row: SupportSession) -> datetime | None:
    """When the last problem was put behind them (Done reached after it); None while open."""
    error = _latest(row, "error")
    done = _latest(row, "page", str(Step.DONE))
    return done.at if error and done and done.id > error.id else None


def sign_in_token(row: SupportSession) -> Token | None:
    """The token the prescriber last picked to sign in with; only ever one of their own."""
    event = _latest(row, "token")
    if event is None or row.prescriber_id is None or not event.name.isdigit():
        return None
    token = db.session.get(Token, int(event.name))
    return token if token is not None and token.prescriber_id == row.prescriber_id else None


# The funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    days: int
    runs: int
    by_step: dict[str, int]  # runs whose furthest step is at least this one
    completed: int
    failures: dict[str, int]
    backup_shown: int
    backup_added: int

    @property
    def completion_rate(self) -> float:
        return self.completed / self.runs if self.runs else 0.0

    @property
    def backup_rate(self) -> float:
        return self.backup_added / self.backup_shown if self.backup_shown else 0.0


def funnel(now: datetime, days: int) -> Funnel:
    since = now - timedelta(days=days)
    furthest = dict(
        db.session.execute(
            select(WizardRun.furthest_step, func.count(WizardRun.id))
            .where(WizardRun.started_at >= since)
            .group_by(WizardRun.furthest_step)
        ).all()
    )
    runs = sum(furthest.values())
    reached, running = {}, 0
    for step in reversed(ORDER):
        running += furthest.get(str(step), 0)
        reached[str(step)] = running
    completed = db.session.scalar(
        select(func.count(WizardRun.id)).where(
            WizardRun.started_at >= since, WizardRun.completed_at.is_not(None)
        )
    )
    failures = dict(
        db.session.execute(
            select(SupportEvent.name, func.count(SupportEvent.id))
            .where(SupportEvent.kind == "error", SupportEvent.at >= since)
            .group_by(SupportEvent.name)
            .order_by(func.count(SupportEvent.id).desc())
        ).all()
    )
    backups = dict(
        db.session.execute(
            select(WizardRun.backup, func.count(WizardRun.id))
            .where(WizardRun.started_at >= since, WizardRun.backup != "")
            .group_by(WizardRun.backup)
        ).all()
    )
    return Funnel(
        days=days,
        runs=runs,
        by_step={str(s): reached[str(s)] for s in ORDER},
        completed=completed,
        failures=failures,
        backup_shown=sum(backups.values()),
        backup_added=backups.get("accepted", 0),
    )
