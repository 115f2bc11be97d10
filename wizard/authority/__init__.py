"""Who can check a one-time pin for a credential, and who must hear of its bindings.

The local OATH authority checks seeds kept in our database; the VIP authority asks Symantec
VIP User Services over mutual TLS. `Authorities` (router.py) picks one per credential, and
every authority answers the same questions, so the services never ask which one they have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from flask import current_app

from wizard.domain.otp import Outcome, Verdict

if TYPE_CHECKING:
    from wizard.authority.router import Authorities
    from wizard.store.models import Prescriber

__all__ = [
    "AuthorityUnavailable",
    "BindingRefused",
    "Outcome",
    "TokenAuthority",
    "Verdict",
    "authority",
]


class AuthorityUnavailable(Exception):
    """The authority gave no usable answer, so nothing it was asked can be assumed done.

    reason: unreachable, timeout, bad-answer, unexpected-status or certificate.
    """

    def __init__(self, reason: str, operation: str = "", status: str = "") -> None:
        super().__init__(" ".join(p for p in (operation, reason, status) if p))
        self.reason = reason
        self.operation = operation
        self.status = status


class BindingRefused(Exception):
    """The authority answered, and would not bind the credential (outcome says why)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome


class TokenAuthority(Protocol):
    """Codes are checked with verify (a credential nobody holds yet) or authenticate (one
    bound to the prescriber). bind, unbind and rename tell the authority about the token's
    life; an authority that keeps no bindings does nothing there.

    Every method may raise AuthorityUnavailable.
    """

    # True when a check is answered in this process in about a millisecond, so that the
    # attempt's reservation, the check and its outcome may share one database transaction;
    # False when it may wait on the network (the reservation is committed first).
    in_process: bool

    def knows(self, credential_id: str) -> bool:
        """True when this authority can check codes for the credential."""

    def verify(self, credential_id: str, code: str, now: datetime) -> Verdict:
        """Check a code; an accepted code is consumed and refused as reused after.

        OUT_OF_SYNC means an event-based token has run ahead: ask for two codes.
        """

    def resync(self, credential_id: str, first: str, second: str) -> Verdict:
        """Two consecutive codes from an event-based token bring it back in step."""

    def authenticate(
        self, holder: Prescriber, credential_ids: Sequence[str], code: str, now: datetime
    ) -> Verdict:
        """A code from one of the holder's credentials named here (and no other); the
        verdict names the credential that matched."""

    def bind(self, holder: Prescriber, credential_id: str, friendly_name: str) -> bool:
        """Bind the credential to the holder; True when the authority keeps a binding.

        Raises BindingRefused when the authority will not bind it."""

    def unbind(self, holder: Prescriber, credential_id: str) -> None:
        """Remove the binding (done already counts as done)."""

    def rename(self, holder: Prescriber, credential_id: str, friendly_name: str) -> None:
        """Give the binding the token's new name."""


def authority() -> Authorities:
    return current_app.extensions["token_authority"]
