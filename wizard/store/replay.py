"""The replay floor of one-time codes: each time step or counter is accepted once."""

from __future__ import annotations

from sqlalchemy import Update, bindparam, or_, update
from sqlalchemy.orm import InstrumentedAttribute

from wizard.extensions import db

_raises: dict[tuple[type, str], Update] = {}  # built once per floor column


def _raise(floor: InstrumentedAttribute) -> Update:
    key = (floor.class_, floor.key)
    if key not in _raises:
        table = floor.class_.__table__
        column = table.c[floor.key]
        step = bindparam("step", type_=column.type)
        _raises[key] = (
            update(table)
            .where(table.c.id == bindparam("row"), or_(column.is_(None), column < step))
            .values({column: step})
        )
    return _raises[key]


def consume_step(floor: InstrumentedAttribute, row_id: int, step: int) -> bool:
    """Raise the floor column (the last accepted step) of row row_id to step, in the same
    statement that checks it is still below step, so that of two requests racing with one
    code only one is accepted. True when this request took the step. The caller commits."""
    taken = db.session.execute(_raise(floor), {"row": row_id, "step": step})
    return taken.rowcount == 1
