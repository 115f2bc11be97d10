"""The local OATH authority: seeds kept encrypted in our database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Row, bindparam, select

from wizard.domain.otp import (
    HOTP_LOOK_AHEAD,
    Algorithm,
    OathSecret,
    Outcome,
    Verdict,
    judge,
    out_of_sync,
    resync,
)
from wizard.extensions import db
from wizard.store.crypto import SeedCipher
from wizard.store.models import OathCredential, Prescriber
from wizard.store.replay import StepClaim, claim_step, consume_step

# When no credential accepts a code, the most telling refusal is the one reported.
_TELLING = (Outcome.REUSED, Outcome.OUT_OF_SYNC, Outcome.WRONG, Outcome.UNKNOWN)


def most_telling(verdicts: Sequence[Verdict]) -> Verdict:
    return min(verdicts, key=lambda v: _TELLING.index(v.outcome), default=Verdict(Outcome.WRONG))


# What a check reads, as plain rows (no ORM object to build for a one-shot read), built once.
_SEEDS = OathCredential.__table__
_SEED = select(
    _SEEDS.c.id,
    _SEEDS.c.credential_id,
    _SEEDS.c.sealed_secret,
    _SEEDS.c.algorithm,
    _SEEDS.c.digits,
    _SEEDS.c.period,
    _SEEDS.c.last_step,
).where(_SEEDS.c.credential_id == bindparam("credential"))
_KNOWN = select(_SEEDS.c.id).where(_SEEDS.c.credential_id == bindparam("credential"))


@dataclass(frozen=True)
class Judged:
    """A code accepted on a credential as it was read before the check's transaction held
    anything (LocalOathAuthority.prejudge): its step is taken only if the credential's floor
    is still the one read (claim)."""

    verdict: Verdict
    claim: StepClaim


class LocalOathAuthority:
    """Holds the seeds itself, so it keeps no bindings: bind, unbind and rename do nothing."""

    in_process = True  # a check is a database read and a hash: no network

    def __init__(self, cipher: SeedCipher):
        self.cipher = cipher

    def _row(self, credential_id: str) -> Row | None:
        return db.session.execute(_SEED, {"credential": credential_id}).one_or_none()

    def secret_of(self, row: OathCredential | Row) -> OathSecret:
        return OathSecret(
            self.cipher.open(row.sealed_secret, row.credential_id),
            Algorithm(row.algorithm),
            row.digits,
            row.period,
        )

    def knows(self, credential_id: str) -> bool:
        return db.session.scalar(_KNOWN, {"credential": credential_id}) is not None

    def verify(
        self, credential_id: str, code: str, now: datetime, look_ahead: int = HOTP_LOOK_AHEAD
    ) -> Verdict:
        row = self._row(credential_id)
        if row is None:
            return Verdict(Outcome.UNKNOWN)
        oath = self.secret_of(row)
        verdict = judge(oath, code, now, row.last_step, look_ahead)
        if verdict.outcome is Outcome.WRONG and out_of_sync(oath, code, row.last_step):
            return Verdict(Outcome.OUT_OF_SYNC)
        return self._consume(row, verdict)

    def prejudge(self, credential_id: str, code: str, now: datetime) -> Judged | None:
        """The credential read, its seed opened and the code judged, writing nothing, so that
        a caller can do it before taking the account's turn (on SQLite, the database's write
        lock), which is then held for the writes alone. Only an acceptance is kept: any other
        outcome is judged again, as it stands, by verify() in the turn."""
        row = self._row(credential_id)
        if row is None:
            return None
        verdict = judge(self.secret_of(row), code, now, row.last_step)
        if not verdict.accepted:
            return None
        return Judged(
            verdict, StepClaim(OathCredential.last_step, row.id, row.last_step, verdict.step)
        )

    def take(self, judged: Judged, taken: bool | None = None) -> Verdict | None:
        """The prejudged acceptance, its step taken, if the credential's floor has not moved
        since it was read; None if it has (another check took a step meanwhile): then the code
        must be verified again. taken: whether the step was already claimed with the
        account's turn (None: not tried there, so claimed here)."""
        if taken is None:
            taken = claim_step(judged.claim)
        return judged.verdict if taken else None

    def authenticate(
        self, holder: Prescriber, credential_ids: Sequence[str], code: str, now: datetime
    ) -> Verdict:
        verdicts = []
        for credential_id in credential_ids:
            verdict = self.verify(credential_id, code, now)
            if verdict.accepted:
                return replace(verdict, credential_id=credential_id)
            verdicts.append(verdict)
        return most_telling(verdicts)

    def bind(self, holder: Prescriber, credential_id: str, friendly_name: str) -> bool:
        return False

    def unbind(self, holder: Prescriber, credential_id: str) -> None:
        return None

    def rename(self, holder: Prescriber, credential_id: str, friendly_name: str) -> None:
        return None

    def resync(self, credential_id: str, first: str, second: str) -> Verdict:
        """Bring an HOTP token back in step with two consecutive codes."""
        row = self._row(credential_id)
        if row is None:
            return Verdict(Outcome.UNKNOWN)
        return self._consume(row, resync(self.secret_of(row), first, second, row.last_step))

    def _consume(self, row: Row, verdict: Verdict) -> Verdict:
        if not verdict.accepted:
            return verdict
        if not consume_step(OathCredential.last_step, row.id, verdict.step):
            return Verdict(Outcome.REUSED, verdict.step)
        return verdict
