"""Audit events: who did what to which token, when, from where, and the outcome."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import has_request_context, request
from sqlalchemy import bindparam, insert, select, update

from wizard.extensions import db
from wizard.store.models import AuditEvent, AuditHead

log = logging.getLogger("wizard.audit")


def actor_of(prescriber) -> str:
    """How a prescriber is named in the audit log."""
    return f"prescriber:{prescriber.npi}"


def client_address() -> str:
    """The address the current request came from ("" outside a request, in a command), cut
    to the column: behind a proxy trusted for more hops than there are, a client chooses it,
    and PostgreSQL (unlike SQLite) refuses a longer string."""
    address = (request.remote_addr or "") if has_request_context() else ""
    return address[: AuditEvent.client_address.type.length]


def chain_hash(prev_hash: str, event) -> str:
    """The hash that links an event (a stored AuditEvent, or one being added) to the one
    before it."""
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            event.actor,
            event.action,
            event.outcome,
            event.prescriber_id,
            event.token_id,
            event.client_address,
            event.detail,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


# The chain's statements, built once. Bumping seq takes the chain's lock (a write lock in
# SQLite, a row lock in PostgreSQL), held until the caller's commit, and returns the head
# hash as it stands under that lock.
_HEAD = AuditHead.__table__
_TAKE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.hash)
)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))
_ADD_EVENT = insert(AuditEvent.__table__)
# PostgreSQL adds the event and moves the head in one statement, one round trip less for each
# audited change; SQLite (no UPDATE in a WITH) takes the two statements one after the other.
_ADD_EVENT_MOVING_HEAD = _ADD_EVENT.add_cte(_MOVE_HEAD.returning(_HEAD.c.id).cte("moved_head"))


def record(
    action: str,
    outcome: str,
    *,
    actor: str,
    now: datetime,
    prescriber_id: int | None = None,
    token_id: int | None = None,
    **detail: str | int | None,
) -> None:
    """Add an audit event to the current transaction. detail must never hold a secret."""
    # Changes still pending in the session go first, as any statement through the session
    # would send them: locks are taken in the order the code reads.
    db.session.flush()
    # Straight on the session's connection, past the ORM's execution layer: nothing is
    # pending after the flush, and these tables are no ORM object's.
    connection = db.session.connection()
    prev = connection.execute(_TAKE_HEAD).scalar() or ""
    event = SimpleNamespace(
        at=now,
        actor=actor,
        action=action,
        outcome=outcome,
        prescriber_id=prescriber_id,
        token_id=token_id,
        client_address=client_address(),
        detail=json.dumps(detail, sort_keys=True),
        prev_hash=prev,
    )
    event.hash = chain_hash(prev, event)
    if connection.dialect.name == "postgresql":
        connection.execute(_ADD_EVENT_MOVING_HEAD, {**vars(event), "new_hash": event.hash})
    else:
        connection.execute(_ADD_EVENT, vars(event))
        connection.execute(_MOVE_HEAD, {"new_hash": event.hash})
    log.info(
        "audit action=%s outcome=%s actor=%s prescriber=%s token=%s",
        action,
        outcome,
        actor,
        prescriber_id,
        token_id,
    )


@dataclass(frozen=True)
class Break:
    """The first place where the audit chain does not hold."""

    event_id: int
    problem: str


def verify_chain(batch: int = 1000) -> tuple[int, Break | None]:
    """Walk the chain from the first event: (events checked, first break or None).

    An edited event no longer matches its own hash; a removed one leaves the next event
    pointing at a hash that is not its predecessor's; a removed last event leaves the
    head pointing further than the newest event.
    """
    checked, prev_hash, last_id = 0, "", 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev_hash:
                return checked, Break(event.id, "an event before it was removed or changed")
            if chain_hash(prev_hash, event) != event.hash:
                return checked, Break(event.id, "this event was edited")
            prev_hash, last_id = event.hash, event.id
            checked += 1
        db.session.expunge_all()
    head = db.session.scalar(select(AuditHead.hash).where(AuditHead.id == 1)) or ""
    if head != prev_hash:
        return checked, Break(last_id, "events after this one were removed")
    return checked, None
