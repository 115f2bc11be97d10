"""The replay floor of one-time codes: each time step or counter is accepted once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Update, bindparam, or_, update
from sqlalchemy.orm import InstrumentedAttribute

from wizard.extensions import db

_raises: dict[tuple[type, str, bool], Update] = {}  # built once per floor column and kind


def _raise(floor: InstrumentedAttribute, from_read: bool = False) -> Update:
    key = (floor.class_, floor.key, from_read)
    if key not in _raises:
        table = floor.class_.__table__
        column = table.c[floor.key]
        step = bindparam("step", type_=column.type)
        if from_read:  # still exactly the floor that was read (None included)
            free = column.is_not_distinct_from(bindparam("read", type_=column.type))
        else:
            free = or_(column.is_(None), column < step)
        _raises[key] = (
            update(table).where(table.c.id == bindparam("row"), free).values({column: step})
        )
    return _raises[key]


def consume_step(floor: InstrumentedAttribute, row_id: int, step: int) -> bool:
    """Raise the floor column (the last accepted step) of row row_id to step, in the same
    statement that checks it is still below step, so that of two requests racing with one
    code only one is accepted. True when this request took the step. The caller commits."""
    taken = db.session.execute(_raise(floor), {"row": row_id, "step": step})
    return taken.rowcount == 1


@dataclass(frozen=True)
class StepClaim:
    """A step to take on a row's floor only if the floor is still `read`, the value a code
    was judged against before the caller's transaction held anything (`step` is above it)."""

    floor: InstrumentedAttribute
    row_id: int
    read: int | None
    step: int

    def statement(self) -> Update:
        return _raise(self.floor, from_read=True)

    def params(self) -> dict:
        return {"row": self.row_id, "read": self.read, "step": self.step}


def claim_step(claim: StepClaim) -> bool:
    """Take the claimed step: True when this request took it; False when the floor moved
    since it was read, and the code must be judged again as the floor now stands. The
    caller commits."""
    return db.session.execute(claim.statement(), claim.params()).rowcount == 1
