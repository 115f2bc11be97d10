"""Which authority checks which credential.

A credential whose seed we hold (a sandbox practice token, an imported hard-token seed) is
checked here. Any other Symantec credential (soft: SYMC, SYMZ, SYDC, VSMT, VSST; hard: AVT,
FT) goes to VIP User Services when it is configured: its secret lives only at Symantec.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from wizard.authority.local import LocalOathAuthority, most_telling
from wizard.domain.credentials import SOFT_PREFIXES, SYMANTEC_HARD_PREFIXES
from wizard.domain.otp import Verdict
from wizard.store.models import Prescriber

SYMANTEC_PREFIXES = SOFT_PREFIXES + SYMANTEC_HARD_PREFIXES


class Authorities:
    def __init__(self, local: LocalOathAuthority, vip=None) -> None:
        self.local = local
        self.vip = vip

    def uses_vip(self, credential_id: str) -> bool:
        return (
            self.vip is not None
            and credential_id.startswith(SYMANTEC_PREFIXES)
            and not self.local.knows(credential_id)
        )

    def for_credential(self, credential_id: str):
        return self.vip if self.uses_vip(credential_id) else self.local

    def knows(self, credential_id: str) -> bool:
        return self.for_credential(credential_id).knows(credential_id)

    def in_process(self, credential_id: str) -> bool:
        """True when the credential's codes are checked in this process (no network)."""
        return self.for_credential(credential_id).in_process

    def verify(self, credential_id: str, code: str, now: datetime, **kwargs) -> Verdict:
        return self.for_credential(credential_id).verify(credential_id, code, now, **kwargs)

    def resync(self, credential_id: str, first: str, second: str) -> Verdict:
        return self.for_credential(credential_id).resync(credential_id, first, second)

    def authenticate(
        self, holder: Prescriber, credential_ids: Sequence[str], code: str, now: datetime
    ) -> Verdict:
        """Local credentials first (no network), then one question to VIP for the rest."""
        groups = {}
        for credential_id in credential_ids:
            groups.setdefault(self.for_credential(credential_id), []).append(credential_id)
        verdicts = []
        for authority in sorted(groups, key=lambda a: a is not self.local):
            verdict = authority.authenticate(holder, groups[authority], code, now)
            if verdict.accepted:
                return verdict
            verdicts.append(verdict)
        return most_telling(verdicts)

    def bind(self, holder: Prescriber, credential_id: str, friendly_name: str) -> bool:
        return self.for_credential(credential_id).bind(holder, credential_id, friendly_name)

    def unbind(self, holder: Prescriber, credential_id: str) -> None:
        self.for_credential(credential_id).unbind(holder, credential_id)

    def rename(self, holder: Prescriber, credential_id: str, friendly_name: str) -> None:
        self.for_credential(credential_id).rename(holder, credential_id, friendly_name)
