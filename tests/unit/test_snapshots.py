"""The signed-in snapshot kept in memory (wizard.store.snapshots): when a kept one serves, and
which writes replace the change mark."""

from __future__ import annotations

import logging

import pytest
import redis
from sqlalchemy import bindparam, delete, insert, select, text, update

from wizard.domain.lockout import LockPolicy
from wizard.store import counters
from wizard.store.models import AuditHead, Prescriber, Token
from wizard.store.snapshots import SnapshotCache, changes_snapshots


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kept(clock) -> SnapshotCache:
    return SnapshotCache(client=None, clock=clock, max_age=60, max_kept=3)


def test_should_serve_a_snapshot_only_under_the_mark_it_was_kept_with(kept):
    kept.keep(7, "mark-a", "snapshot")
    assert kept.get(7, "mark-a") == "snapshot"
    assert kept.get(7, "mark-b") is None
    assert kept.get(7, "mark-a") is None  # dropped when its mark was replaced


def test_cant_keep_or_serve_anything_without_a_mark(kept):
    kept.keep(7, None, "snapshot")
    assert kept.get(7, None) is None
    kept.keep(7, "mark-a", "snapshot")
    assert kept.get(7, None) is None


def test_should_not_keep_an_unknown_prescriber(kept):
    kept.keep(7, "mark-a", None)
    assert kept.get(7, "mark-a") is None


def test_should_read_again_after_the_maximum_age_whatever_the_mark(kept, clock):
    kept.keep(7, "mark-a", "snapshot")
    clock.now += 60
    assert kept.get(7, "mark-a") == "snapshot"
    clock.now += 0.001
    assert kept.get(7, "mark-a") is None


def test_should_forget_the_least_recently_kept_beyond_its_size(kept):
    for key in (1, 2, 3):
        kept.keep(key, "m", f"s{key}")
    kept.keep(1, "m", "s1")  # kept again: the most recent
    kept.keep(4, "m", "s4")
    assert [kept.get(key, "m") for key in (1, 2, 3, 4)] == ["s1", None, "s3", "s4"]


def test_should_forget_its_own_and_log_no_value_when_the_mark_cannot_be_replaced(kept, caplog):
    kept.client = redis.Redis(port=1, socket_connect_timeout=0.5)  # nothing listens there
    kept.keep(7, "mark-a", "snapshot")
    with caplog.at_level(logging.WARNING, logger="wizard.store.snapshots"):
        kept.replace_mark()
    assert kept.get(7, "mark-a") is None
    assert [r.getMessage() for r in caplog.records] == [
        "the change mark could not be replaced: ConnectionError"
    ]


# --- Which writes change a snapshot -------------------------------------------------------

_HOLD = select(Prescriber.id).where(Prescriber.id == 1).with_for_update(key_share=True)


@pytest.mark.parametrize(
    "statement, parameters",
    [
        (update(Prescriber).values(session_generation=Prescriber.session_generation + 1), None),
        (update(Prescriber).where(Prescriber.id == 1).values(name="Dr. New"), None),
        (update(Prescriber.__table__).values({Prescriber.__table__.c.npi: "1234567893"}), None),
        (
            update(Token).where(Token.id == 1).values({"status": "Disabled", "updated_at": None}),
            None,
        ),
        (update(Token).values(prescriber_id=2), None),
        (insert(Token), None),
        (delete(Token).where(Token.id == 1), None),
        (delete(Prescriber).where(Prescriber.id == 1), None),
        (update(Token.__table__).where(Token.id == bindparam("t")), {"t": 1, "status": "Lost"}),
        (update(Token.__table__).where(Token.id == bindparam("t")), None),  # cannot be told
        (text("UPDATE tokens SET status = 'Lost' WHERE id = 1"), None),
        (text('update "prescribers" set name = :n'), None),
        (text("DELETE FROM tokens"), None),
        (text("UPDATE public.tokens SET status = 'Lost'"), None),
        (text("WITH gone AS (DELETE FROM tokens RETURNING id) SELECT count(*) FROM gone"), None),
        (text("TRUNCATE prescribers, tokens"), None),
        # values() names another column; a parameter named after a held one joins the SET.
        (update(Prescriber.__table__).values(code_failures=1), {"session_generation": 9}),
    ],
)
def test_should_count_as_a_change_every_write_to_what_a_snapshot_holds(statement, parameters):
    assert changes_snapshots(statement, parameters)


@pytest.mark.parametrize(
    "statement, parameters",
    [
        (select(Prescriber), None),
        (_HOLD, None),
        (counters._CODE_CLEARED, {"account": 1}),
        (counters._code_reservation(LockPolicy(), False), None),
        (counters._code_turn(LockPolicy(), False), None),
        (counters._code_turn(LockPolicy(), True), {"generation": 3}),  # a condition only
        (update(Prescriber).values(passphrase_hash="x", reset_code_hash=None), None),
        (update(Token).values(updated_at=None, vip_bound=True), None),
        (insert(Prescriber), None),  # a new prescriber has no snapshot yet
        (update(AuditHead).values(seq=AuditHead.seq + 1, hash="x"), None),
        (update(Token.__table__).where(Token.id == bindparam("t")), {"t": 1, "vip_bound": True}),
        (text("SELECT status FROM tokens"), None),
        (text("UPDATE audit_head SET hash = 'x'"), None),
    ],
)
def test_should_not_count_a_write_to_anything_else(statement, parameters):
    assert not changes_snapshots(statement, parameters)
