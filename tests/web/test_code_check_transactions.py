"""A code check's database work (issue 13, cheaper requests).

A code checked in this process (a sandbox or imported seed) is reserved, checked, recorded
and audited in one transaction with one commit; a failing statement anywhere in it leaves
nothing behind, the replay floor included. A code checked by a remote authority (VIP) has its
reservation committed before the authority is asked, so that parallel attempts count while
the question is in flight. The remote authority here is a test double of the vendor that
reads the prescriber's count through a database connection of its own when it is asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
import pytest
from flask import Flask
from sqlalchemy import event, select, update

from wizard.domain.otp import Outcome, Verdict
from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import accounts, audit, enrollment
from wizard.store.models import AuditEvent, AuditHead, OathCredential, Prescriber

REMOTE_ID = "SYMC98765432"  # a Symantec ID whose seed we do not hold: asked of "VIP"


class DiskFull(Exception):
    """What the database would raise when a write fails."""


@contextmanager
def watching(app: Flask, name: str, listener) -> Iterator[None]:
    with app.app_context():
        engine = db.engine
    event.listen(engine, name, listener)
    try:
        yield
    finally:
        event.remove(engine, name, listener)


def check(app: Flask, clock, npi: str, credential_id: str, code: str) -> enrollment.CodeCheck:
    with app.test_request_context():
        prescriber = accounts.by_npi(npi)
        return enrollment.check_code(prescriber, credential_id, code, clock())


def failures(app: Flask, npi: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Prescriber.code_failures).where(Prescriber.npi == npi))


class ObservingVip:
    """A remote authority as the wizard sees one: not in this process. When asked, it notes
    the prescriber's committed count, read through a connection of its own."""

    def __init__(self, app: Flask, npi: str, in_process: bool, answer: Outcome) -> None:
        with app.app_context():
            self.engine = db.engine
        self.npi, self.in_process, self.answer = npi, in_process, answer
        self.seen: list[int] = []

    def knows(self, credential_id: str) -> bool:
        return True

    def verify(self, credential_id, code, now) -> Verdict:
        with self.engine.connect() as connection:
            self.seen.append(
                connection.scalar(
                    select(Prescriber.code_failures).where(Prescriber.npi == self.npi)
                )
            )
        return Verdict(self.answer, 1)


@pytest.mark.parametrize("right", [True, False], ids=["right-code", "wrong-code"])
def test_should_commit_a_code_checked_in_this_process_once(app, clock, demo_seeded, vip, right):
    issued = vip.issue()
    code = vip.code(issued) if right else vip.wrong_code(issued)
    commits = []

    with watching(app, "commit", lambda connection: commits.append(1)):
        result = check(app, clock, demo_seeded["npi"], issued.credential_id, code)

    assert result.accepted is right
    assert len(commits) == 1, f"{len(commits)} commits for one code check"
    assert failures(app, demo_seeded["npi"]) == (0 if right else 1)
    outcomes = [e.outcome for e in audit_events(app)]
    assert outcomes == (["accepted"] if right else ["wrong"])


@pytest.mark.parametrize(
    "wrong_before, right, writes, left",
    [(0, True, 1, 0), (1, True, 2, 0), (0, False, 2, 1), (1, False, 2, 2)],
    ids=["right-first", "right-after-a-wrong-one", "wrong-first", "wrong-after-a-wrong-one"],
)
def test_should_write_the_accounts_row_again_only_to_count_or_clear(
    app, clock, demo_seeded, vip, wrong_before, right, writes, left
):
    """Checked in this process, the account's row is held by one write; a failure is counted
    by a second, failures before a right code are cleared by a second, and a right code with
    nothing counted writes nothing more."""
    issued = vip.issue()
    for _ in range(wrong_before):
        check(app, clock, demo_seeded["npi"], issued.credential_id, vip.wrong_code(issued))
    code = vip.code(issued) if right else vip.wrong_code(issued)
    updates = []

    def note(connection, cursor, statement, *args):
        if "UPDATE PRESCRIBERS" in statement.upper():  # PostgreSQL: the turn in a WITH
            updates.append(statement)

    with watching(app, "before_cursor_execute", note):
        result = check(app, clock, demo_seeded["npi"], issued.credential_id, code)

    assert result.accepted is right
    assert len(updates) == writes, updates
    assert failures(app, demo_seeded["npi"]) == left


def test_should_hold_the_turn_for_the_writes_alone_when_a_code_is_accepted(
    app, clock, demo_seeded, vip
):
    """A code checked in this process is judged before the account's turn is taken: from the
    UPDATE that takes the turn (on SQLite, the database's write lock) to the commit, nothing
    is read but what the writes return. On PostgreSQL the step is taken in the turn's own
    statement (one round trip)."""
    issued = vip.issue()
    statements: list[str] = []

    def note(connection, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    with watching(app, "before_cursor_execute", note):
        result = check(app, clock, demo_seeded["npi"], issued.credential_id, vip.code(issued))

    assert result.accepted
    turn = next(i for i, s in enumerate(statements) if "UPDATE prescribers" in s)
    read = next(i for i, s in enumerate(statements) if s.startswith("SELECT oath_credentials"))
    assert read < turn, statements
    assert not any(s.startswith("SELECT") for s in statements[turn + 1 :]), statements[turn:]
    floor = [i for i, s in enumerate(statements) if "UPDATE oath_credentials" in s]
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    assert floor == ([turn] if postgres else [turn + 1]), statements[turn:]


def test_should_judge_a_code_again_when_its_step_was_taken_after_it_was_judged(
    app, clock, demo_seeded, vip
):
    """Between the code's first judgment and the account's turn, another check takes the
    same step (the same code, sent twice at once): the code is judged again, as the floor
    now stands, and refused as reused; the step stays taken once."""
    issued = vip.issue()
    code = vip.code(issued)
    with app.app_context():
        engine = db.engine
    step = int(clock().timestamp()) // 30
    raced = []

    def take_step_first(connection, cursor, statement, parameters, context, executemany):
        if "UPDATE prescribers" in statement and not raced:
            raced.append(1)
            with engine.begin() as other:  # the other request, committed first
                other.execute(
                    update(OathCredential)
                    .where(OathCredential.credential_id == issued.credential_id)
                    .values(last_step=step)
                )

    with watching(app, "before_cursor_execute", take_step_first):
        result = check(app, clock, demo_seeded["npi"], issued.credential_id, code)

    assert raced
    assert result.outcome == Outcome.REUSED
    assert failures(app, demo_seeded["npi"]) == 1
    with app.app_context():
        floor = db.session.scalar(
            select(OathCredential.last_step).where(
                OathCredential.credential_id == issued.credential_id
            )
        )
    assert floor == step
    assert [e.outcome for e in audit_events(app)] == ["reused"]


def test_cant_take_a_step_with_a_right_code_while_the_account_is_paused(
    app, clock, demo_seeded, vip
):
    """A right code is judged before the turn, but a paused account's turn is refused: the
    code's step is not taken (the same code is accepted once the pause ends), nothing is
    counted, and no check is audited."""
    issued = vip.issue()
    for _ in range(5):
        check(app, clock, demo_seeded["npi"], issued.credential_id, vip.wrong_code(issued))
    code = vip.code(issued)

    result = check(app, clock, demo_seeded["npi"], issued.credential_id, code)

    assert result.outcome == "locked"
    assert failures(app, demo_seeded["npi"]) == 5
    with app.app_context():
        floor = db.session.scalar(
            select(OathCredential.last_step).where(
                OathCredential.credential_id == issued.credential_id
            )
        )
    assert floor is None, "the paused check took the code's step"
    assert [e.outcome for e in audit_events(app)] == ["wrong"] * 5
    with app.app_context():
        db.session.execute(
            update(Prescriber)
            .where(Prescriber.npi == demo_seeded["npi"])
            .values(code_locked_until=None, code_failures=0)
        )
        db.session.commit()
    assert check(app, clock, demo_seeded["npi"], issued.credential_id, code).accepted


def test_should_commit_the_reservation_before_a_remote_authority_is_asked(app, clock, demo_seeded):
    remote = ObservingVip(app, demo_seeded["npi"], in_process=False, answer=Outcome.ACCEPTED)
    app.extensions["token_authority"].vip = remote
    commits = []

    with watching(app, "commit", lambda connection: commits.append(1)):
        result = check(app, clock, demo_seeded["npi"], REMOTE_ID, "123456")

    assert result.accepted
    assert remote.seen == [1], "the attempt was counted where every other request sees it"
    assert len(commits) == 2, "the reservation, then the outcome"
    assert failures(app, demo_seeded["npi"]) == 0


def test_should_hold_the_reservation_uncommitted_while_an_in_process_authority_checks(
    app, clock, demo_seeded
):
    local = ObservingVip(app, demo_seeded["npi"], in_process=True, answer=Outcome.WRONG)
    app.extensions["token_authority"].vip = local

    result = check(app, clock, demo_seeded["npi"], REMOTE_ID, "123456")

    assert result.outcome == Outcome.WRONG
    assert local.seen == [0], "the reservation and the outcome commit together"
    assert failures(app, demo_seeded["npi"]) == 1


def test_cant_leave_half_a_check_behind_when_a_statement_fails_mid_check(
    app, clock, demo_seeded, vip, flask_cli
):
    issued = vip.issue()
    code = vip.code(issued)
    with app.app_context():
        head = db.session.scalar(select(AuditHead.hash))

    def failing_audit(connection, cursor, statement, parameters, context, executemany):
        if "INSERT INTO audit_events" in statement:  # PostgreSQL: with the head's move
            raise DiskFull("no space left on the device")

    with watching(app, "before_cursor_execute", failing_audit), pytest.raises(Exception) as raised:
        check(app, clock, demo_seeded["npi"], issued.credential_id, code)

    assert "no space left" in str(raised.value)
    assert failures(app, demo_seeded["npi"]) == 0, "the reservation was rolled back"
    with app.app_context():
        floor = db.session.scalar(
            select(OathCredential.last_step).where(
                OathCredential.credential_id == issued.credential_id
            )
        )
        assert db.session.scalar(select(AuditHead.hash)) == head
    assert floor is None, "the replay floor was rolled back"
    assert audit_events(app) == []
    # Nothing was half done: the same code is accepted once, then refused as reused.
    assert check(app, clock, demo_seeded["npi"], issued.credential_id, code).accepted
    again = check(app, clock, demo_seeded["npi"], issued.credential_id, code)
    assert again.outcome == Outcome.REUSED
    with app.app_context():
        assert audit.verify_chain()[1] is None


def audit_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "enrollment.code").order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(events)


@pytest.mark.parametrize("check_kind", ["sign-in", "reset"])
def test_should_lock_the_prescriber_before_the_credential_in_sign_in_and_reset_checks(
    app, clock, demo_seeded, check_kind
):
    """A sign-in or reset code check takes the prescriber's row before its credential's replay
    floor, the order of a code check in one transaction: on PostgreSQL, a prescriber signing in
    on one tab while confirming a change with a code on another waits, never deadlocks (a
    deadlock ends one of the two in an error)."""
    active = next(t for t in demo_seeded["tokens"] if t["status"] == Status.ACTIVE)
    code = pyotp.TOTP(active["secret"]).at(clock())
    statements: list[str] = []

    def note(connection, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    with app.test_request_context(), watching(app, "before_cursor_execute", note):
        prescriber = accounts.by_npi(demo_seeded["npi"])
        token = next(t for t in prescriber.tokens if t.credential_id == active["credential_id"])
        if check_kind == "sign-in":
            result = accounts.check_token_code(prescriber, token.id, code, clock(), "sign-in")
        else:
            reset_code = accounts.issue_reset_code(demo_seeded["npi"], clock())
            statements.clear()
            result = accounts.check_reset(demo_seeded["npi"], code, reset_code, clock())
    assert result.ok or result.prescriber is not None

    hold = next(
        i
        for i, s in enumerate(statements)
        if s.startswith("SELECT prescribers.id FROM prescribers WHERE prescribers.id =")
    )
    floor = next(i for i, s in enumerate(statements) if s.startswith("UPDATE oath_credentials"))
    assert hold < floor, statements
    postgres = "FOR NO KEY UPDATE" in statements[hold]
    with app.app_context():
        assert postgres == (db.engine.dialect.name == "postgresql")
