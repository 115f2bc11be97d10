"""An authority that could not answer: recorded in the audit log, never counted against the
prescriber (their code was not refused: it was not checked)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app

from wizard.authority import AuthorityUnavailable
from wizard.extensions import db
from wizard.services import audit
from wizard.store.models import Prescriber, Token

if TYPE_CHECKING:
    from wizard.services.accounts import SignedIn

ACTION = "vip.unavailable"


def record(
    error: AuthorityUnavailable,
    *,
    during: str,
    prescriber: Prescriber | SignedIn | None = None,  # its id and NPI
    now: datetime | None = None,
    token: Token | None = None,
    token_id: int | None = None,
    credential_id: str | None = None,
) -> None:
    """Audit the outage (what was being done, which VIP operation, why) and commit that alone:
    whatever the interrupted change had begun is dropped."""
    if token is not None:
        token_id, credential_id = token.id, token.credential_id
    db.session.rollback()
    audit.record(
        ACTION,
        error.reason,
        actor=audit.actor_of(prescriber) if prescriber else "anonymous",
        now=now or current_app.config["CLOCK"](),
        prescriber_id=prescriber.id if prescriber else None,
        token_id=token_id,
        credential_id=credential_id,
        during=during,
        operation=error.operation,
        status=error.status or None,
    )
    db.session.commit()
