"""Audit events: who did what to which token, when, from where, and the outcome."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import select

from wizard.extensions import db
from wizard.store.models import AuditEvent

log = logging.getLogger("wizard.audit")


def actor_of(prescriber) -> str:
    """How a prescriber is named in the audit log."""
    return f"prescriber:{prescriber.npi}"


def _client_address() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


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
    prev = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        outcome=outcome,
        prescriber_id=prescriber_id,
        token_id=token_id,
        client_address=_client_address(),
        detail=json.dumps(detail, sort_keys=True),
    )
    event.prev_hash = prev or ""
    event.hash = chain_hash(event.prev_hash, event)
    db.session.add(event)
    log.info(
        "audit action=%s outcome=%s actor=%s prescriber=%s token=%s",
        action,
        outcome,
        actor,
        prescriber_id,
        token_id,
    )
    return event
