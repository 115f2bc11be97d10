"""The replay floor of one-time codes: each time step or counter is accepted once."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import InstrumentedAttribute

from wizard.extensions import db


def consume_step(floor: InstrumentedAttribute, row_id: int, step: int) -> bool:
    """Raise the floor column (the last accepted step) of row row_id to step, in the same
    statement that checks it is still below step, so that of two requests racing with one
    code only one is accepted. True when this request took the step. The caller commits."""
    model = floor.class_
    taken = db.session.execute(
        update(model)
        .where(model.id == row_id, or_(floor.is_(None), floor < step))
        .values({floor: step})
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1
