"""Audit events: who did what to which token, when, from where, and the outcome."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import has_request_context, request
from sqlalchemy import (
    Insert,
    Text,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)

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


def _hashed_fields(event) -> list:
    return [
        event.at.isoformat(),
        event.actor,
        event.action,
        event.outcome,
        event.prescriber_id,
        event.token_id,
        event.client_address,
        event.detail,
    ]


def chain_hash(prev_hash: str, event) -> str:
    """The hash that links an event (a stored AuditEvent, or one being added) to the one
    before it."""
    body = json.dumps([prev_hash, *_hashed_fields(event)], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def chain_tail(event) -> str:
    """What chain_hash hashes after the predecessor's hash: the hash is the SHA-256 of
    '["' + prev_hash + '",' + chain_tail(event), since a hash (hex, or "" for the first
    event) needs no escaping in JSON. All ASCII, as json.dumps escapes the rest."""
    return json.dumps(_hashed_fields(event), separators=(",", ":"))[1:]


# The chain's statements, built once. On SQLite (no UPDATE in a WITH), bumping seq takes the
# chain's lock (the database's write lock), held until the caller's commit, and returns the
# head hash as it stands under that lock; the event is hashed here, added, and the head moved.
_HEAD = AuditHead.__table__
_EVENTS = AuditEvent.__table__
_TAKE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.hash)
)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))
_ADD_EVENT = insert(_EVENTS)
_EVENT_FIELDS = ("at", "actor", "action", "outcome", "prescriber_id", "token_id")
_EVENT_FIELDS += ("client_address", "detail")


def _chained_in_one_statement() -> Insert:
    """PostgreSQL: hash the event onto the head, move the head and add the event in one
    statement, one round trip, so that the chain's lock is held for that statement and the
    commit only. The UPDATE's SET reads the head as it stands under its lock (READ COMMITTED
    re-reads a row it waited for), and keeps the old hash in prev_hash, since RETURNING
    gives only new values."""
    body = literal('["') + _HEAD.c.hash + literal('",') + bindparam("tail", type_=Text)
    moved = (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(
            seq=_HEAD.c.seq + 1,
            prev_hash=_HEAD.c.hash,
            hash=func.encode(func.sha256(func.convert_to(body, literal_column("'UTF8'"))), "hex"),
        )
        .returning(_HEAD.c.prev_hash, _HEAD.c.hash)
        .cte("moved_head")
    )
    values = [bindparam(name, type_=_EVENTS.c[name].type) for name in _EVENT_FIELDS]
    return (
        insert(_EVENTS)
        .from_select(
            [*_EVENT_FIELDS, "prev_hash", "hash"],
            select(*values, moved.c.prev_hash, moved.c.hash),
        )
        .returning(_EVENTS.c.id)
    )


_CHAINED = _chained_in_one_statement()


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
    event = SimpleNamespace(
        at=now,
        actor=actor,
        action=action,
        outcome=outcome,
        prescriber_id=prescriber_id,
        token_id=token_id,
        client_address=client_address(),
        detail=json.dumps(detail, sort_keys=True),
    )
    if connection.dialect.name == "postgresql":
        added = connection.execute(_CHAINED, {**vars(event), "tail": chain_tail(event)})
        if added.scalar() is None:  # the head row is made with the schema and never removed
            raise RuntimeError("the audit chain's head row is missing")
    else:
        event.prev_hash = connection.execute(_TAKE_HEAD).scalar() or ""
        event.hash = chain_hash(event.prev_hash, event)
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
