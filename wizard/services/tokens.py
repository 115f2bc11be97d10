"""Changing a token's status, each change audited."""

from __future__ import annotations

from datetime import datetime

from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import audit
from wizard.store.models import Prescriber, Token


def actor_of(prescriber: Prescriber) -> str:
    return f"prescriber:{prescriber.npi}"


def own_token(prescriber: Prescriber, token_id: int | None) -> Token | None:
    return next((t for t in prescriber.tokens if t.id == token_id), None)


def reportable(prescriber: Prescriber) -> list[Token]:
    """Tokens that can still be reported lost: Active and Inactive ones."""
    return [t for t in prescriber.tokens if t.status in (Status.ACTIVE, Status.INACTIVE)]


def report_lost(prescriber: Prescriber, token: Token, now: datetime) -> Token:
    """Mark a token Lost at once. Lost is final: never enabled, never registered again."""
    if token.prescriber_id != prescriber.id or token.status not in (Status.ACTIVE, Status.INACTIVE):
        raise ValueError("only an Active or Inactive token of your own can be reported lost")
    previous = token.status
    token.status = Status.LOST
    token.updated_at = now
    audit.record(
        "token.lost",
        "success",
        actor=actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        credential_id=token.credential_id,
        previous=previous,
    )
    db.session.commit()
    return token
