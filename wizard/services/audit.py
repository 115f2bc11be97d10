"""Audit events: who did what to which token, when, from where, and the outcome."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import select, update

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


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    """The hash that links an event to the one before it."""
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


def record(
    action: str,
    outcome: str,
    *,
    actor: str,
    now: datetime,
    prescriber_id: int | None = None,
    token_id: int | None = None,
    **detail: str | int | None,
) -> AuditEvent:
    """Add an audit event to the current transaction. detail must never hold a secret."""
    # Take the chain's lock before reading its head (a write lock in SQLite, a row lock in
    # PostgreSQL); it is held until the caller's commit.
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    prev = db.session.scalar(select(AuditHead.hash).where(AuditHead.id == 1))
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        outcome=outcome,
        prescriber_id=prescriber_id,
        token_id=token_id,
        client_address=client_address(),
        detail=json.dumps(detail, sort_keys=True),
    )
    event.prev_hash = prev or ""
    event.hash = chain_hash(event.prev_hash, event)
    db.session.add(event)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    log.info(
        "audit action=%s outcome=%s actor=%s prescriber=%s token=%s",
        action,
        outcome,
        actor,
        prescriber_id,
        token_id,
    )
    return event


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
