"""The prescriber's opaque user id at Symantec VIP."""

from __future__ import annotations

import secrets

from sqlalchemy import update

from wizard.extensions import db
from wizard.store.models import Prescriber


def new_vip_user_id() -> str:
    """Random, so VIP learns nothing about the prescriber (an NPI is public)."""
    return f"epcs-{secrets.token_hex(12)}"


def vip_user_id(prescriber: Prescriber) -> str:
    """The prescriber's VIP user id, made and committed on first use.

    Committed at once, and only where none is set yet, so that two requests binding at the
    same moment agree on one id.
    """
    if prescriber.vip_user_id is None:
        db.session.execute(
            update(Prescriber)
            .where(Prescriber.id == prescriber.id, Prescriber.vip_user_id.is_(None))
            .values(vip_user_id=new_vip_user_id())
        )
        db.session.commit()
        db.session.refresh(prescriber)
    return prescriber.vip_user_id
