"""Who can check a one-time pin for a credential.

Every authority answers the same two questions, so a vendor service (VIP User
Services, reached over mutual TLS) can stand beside the local one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flask import current_app

from wizard.domain.otp import Outcome, Verdict

__all__ = ["Outcome", "TokenAuthority", "Verdict", "authority"]


class TokenAuthority(Protocol):
    def knows(self, credential_id: str) -> bool:
        """True when this authority can check codes for the credential."""

    def verify(self, credential_id: str, code: str, now: datetime) -> Verdict:
        """Check a code; an accepted code is consumed and refused as reused after.

        OUT_OF_SYNC means an event-based token has run ahead: ask for two codes.
        """

    def resync(self, credential_id: str, first: str, second: str) -> Verdict:
        """Two consecutive codes from an event-based token bring it back in step."""


def authority() -> TokenAuthority:
    return current_app.extensions["token_authority"]
