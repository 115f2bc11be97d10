"""The order in which writes of one prescriber take their rows (issue 13).

A code check in one transaction takes the prescriber's row, then the credential's replay
floor, then the audit head. Everything else that writes for a prescriber takes them in the
same order, so that two requests of one prescriber at once wait for each other on PostgreSQL
instead of deadlocking (PostgreSQL would end one of them with an error). And no row is held
while VIP is asked over the network."""

from __future__ import annotations

import threading
import time

import pyotp

from wizard.domain.tokens import Status
from wizard.services import accounts, enrollment, tokens


def _run_both(app, clock, demo_seeded, monkeypatch, code_check):
    active = [t for t in demo_seeded["tokens"] if t["status"] == Status.ACTIVE]
    assert active
    head_taken, code_started = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}
    real_end_sessions = accounts.end_sessions

    def slow_end_sessions(prescriber):
        head_taken.set()  # the change has written its audit event: it holds the audit head
        code_started.wait(5)
        time.sleep(0.5)  # the code check is now waiting for the audit head
        return real_end_sessions(prescriber)

    monkeypatch.setattr(accounts, "end_sessions", slow_end_sessions)

    def change():
        try:
            with app.test_request_context():
                prescriber = accounts.by_npi(demo_seeded["npi"])
                token = next(
                    t for t in prescriber.tokens if t.credential_id == active[-1]["credential_id"]
                )
                tokens.suspend(prescriber, token, clock())
        except BaseException as error:  # noqa: BLE001
            errors["suspend"] = error

    def check():
        try:
            head_taken.wait(5)
            with app.test_request_context():
                prescriber = accounts.by_npi(demo_seeded["npi"])
                code_started.set()
                code_check(prescriber)
        except BaseException as error:  # noqa: BLE001
            errors["code check"] = error

    threads = [threading.Thread(target=change), threading.Thread(target=check)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, {k: f"{type(v).__name__}: {str(v)[:160]}" for k, v in errors.items()}


def test_cant_deadlock_a_wrong_enrollment_code_against_a_token_report(
    app, clock, demo_seeded, vip, monkeypatch
):
    issued = vip.issue()

    def wrong_code(prescriber):
        enrollment.check_code(prescriber, issued.credential_id, vip.wrong_code(issued), clock())

    _run_both(app, clock, demo_seeded, monkeypatch, wrong_code)


def test_cant_deadlock_a_wrong_sign_in_code_against_a_token_report(
    app, clock, demo_seeded, monkeypatch
):
    first = next(t for t in demo_seeded["tokens"] if t["status"] == Status.ACTIVE)
    wrong = f"{(int(pyotp.TOTP(first['secret']).at(clock())) + 1) % 10**6:06d}"

    def wrong_sign_in(prescriber):
        token = next(t for t in prescriber.tokens if t.credential_id == first["credential_id"])
        accounts.check_token_code(prescriber, token.id, wrong, clock(), "sign-in.code")

    _run_both(app, clock, demo_seeded, monkeypatch, wrong_sign_in)


class RowCheckingVip:
    """A test double of the vendor: while it is "on the network", another connection writes
    the prescriber's row, as a passphrase attempt for this NPI from anywhere would."""

    in_process = False

    def __init__(self, app, prescriber_id):
        from wizard.extensions import db

        with app.app_context():
            self.engine = db.engine
        self.prescriber_id = prescriber_id
        self.blocked: list[bool] = []

    def knows(self, credential_id):
        return True

    def authenticate(self, holder, credential_ids, code, now):
        from sqlalchemy import text
        from sqlalchemy.exc import OperationalError

        from wizard.domain.otp import Outcome, Verdict

        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET lock_timeout = '300ms'"))
            try:
                connection.execute(
                    text(
                        "UPDATE prescribers SET sign_in_failures = sign_in_failures WHERE id = :id"
                    ),
                    {"id": self.prescriber_id},
                )
                connection.rollback()
                self.blocked.append(False)
            except OperationalError:
                self.blocked.append(True)
        return Verdict(Outcome.WRONG)


def test_cant_hold_the_prescriber_row_while_vip_is_asked_for_a_sign_in_code(
    app, clock, demo_seeded
):
    from sqlalchemy import update

    from wizard.extensions import db
    from wizard.store.models import Token

    first = next(t for t in demo_seeded["tokens"] if t["status"] == Status.ACTIVE)
    with app.app_context():
        prescriber = accounts.by_npi(demo_seeded["npi"])
        pid = prescriber.id
        db.session.execute(
            update(Token)
            .where(Token.credential_id == first["credential_id"])
            .values(credential_id="SYMC98765432")
        )
        db.session.commit()
    remote = RowCheckingVip(app, pid)
    app.extensions["token_authority"].vip = remote
    with app.test_request_context():
        prescriber = accounts.by_npi(demo_seeded["npi"])
        token = next(t for t in prescriber.tokens if t.credential_id == "SYMC98765432")
        accounts.check_token_code(prescriber, token.id, "123456", clock(), "sign-in.code")
    assert remote.blocked == [False], "the prescriber's row was locked across the VIP call"
