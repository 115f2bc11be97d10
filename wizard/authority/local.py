"""The local OATH authority: seeds kept encrypted in our database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update

from wizard.domain.otp import HOTP_LOOK_AHEAD, Algorithm, OathSecret, Outcome, Verdict, judge
from wizard.extensions import db
from wizard.store.crypto import SeedCipher
from wizard.store.models import OathCredential


class LocalOathAuthority:
    def __init__(self, cipher: SeedCipher):
        self.cipher = cipher

    def _row(self, credential_id: str) -> OathCredential | None:
        return db.session.scalar(
            select(OathCredential).where(OathCredential.credential_id == credential_id)
        )

    def secret_of(self, row: OathCredential) -> OathSecret:
        return OathSecret(
            self.cipher.open(row.sealed_secret, row.credential_id),
            Algorithm(row.algorithm),
            row.digits,
            row.period,
        )

    def knows(self, credential_id: str) -> bool:
        return self._row(credential_id) is not None

    def verify(
        self, credential_id: str, code: str, now: datetime, look_ahead: int = HOTP_LOOK_AHEAD
    ) -> Verdict:
        row = self._row(credential_id)
        if row is None:
            return Verdict(Outcome.UNKNOWN)
        verdict = judge(self.secret_of(row), code, now, row.last_step, look_ahead)
        if not verdict.accepted:
            return verdict
        # Consume the step in the same statement that checks it, so two requests
        # racing with one code cannot both be accepted.
        consumed = db.session.execute(
            update(OathCredential)
            .where(
                OathCredential.id == row.id,
                or_(OathCredential.last_step.is_(None), OathCredential.last_step < verdict.step),
            )
            .values(last_step=verdict.step)
            .execution_options(synchronize_session=False)
        )
        if consumed.rowcount != 1:
            return Verdict(Outcome.REUSED, verdict.step)
        db.session.expire(row)
        return verdict
