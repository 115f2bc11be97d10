"""The VIP authority: Symantec VIP User Services checks codes and keeps the bindings.

Possession of a credential nobody holds yet is checked with AuthenticateCredentials; a code
from a bound credential with AuthenticateUser against the prescriber's VIP user, whose id
is ours (opaque, never the NPI). docs/VIP.md says what VIP is told at each token change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from wizard.authority import BindingRefused
from wizard.authority.vip import messages
from wizard.authority.vip.status import USER_UNKNOWN, outcome
from wizard.authority.vip.transport import Transport, VipSettings
from wizard.domain.otp import Outcome, Verdict, code_error
from wizard.store.models import Prescriber

__all__ = ["VipAuthority", "VipSettings"]


class VipAuthority:
    in_process = False  # every check is a call over the network

    def __init__(self, transport: Transport, user_id_of: Callable[[Prescriber], str]) -> None:
        """user_id_of gives the prescriber's VIP user id, making (and saving) one if needed."""
        self.transport = transport
        self.user_id_of = user_id_of

    def knows(self, credential_id: str) -> bool:
        answer = self.transport.call(messages.get_credential_info(credential_id))
        return outcome(answer) is Outcome.ACCEPTED

    def verify(self, credential_id: str, code: str, now: datetime) -> Verdict:
        return self._check(credential_id, code, None)

    def resync(self, credential_id: str, first: str, second: str) -> Verdict:
        if code_error(second):
            return Verdict(Outcome.WRONG)
        return self._check(credential_id, first, second)

    def _check(self, credential_id: str, code: str, second: str | None) -> Verdict:
        if code_error(code):  # VIP would refuse the request itself, not the code
            return Verdict(Outcome.WRONG)
        answer = self.transport.call(messages.authenticate_credentials(credential_id, code, second))
        return Verdict(outcome(answer), credential_id=credential_id)

    def authenticate(
        self, holder: Prescriber, credential_ids: Sequence[str], code: str, now: datetime
    ) -> Verdict:
        if holder.vip_user_id is None:
            return Verdict(Outcome.UNKNOWN)  # nothing was ever bound for this prescriber
        if code_error(code):
            return Verdict(Outcome.WRONG)
        answer = self.transport.call(messages.authenticate_user(holder.vip_user_id, code))
        result = outcome(answer)
        matched = answer.fields.get("credentialId")
        if result is Outcome.ACCEPTED and matched not in credential_ids:
            # VIP matched another of the prescriber's bindings (one Inactive here, say):
            # our statuses decide which tokens count, so this code does not.
            return Verdict(Outcome.WRONG)
        return Verdict(result, credential_id=matched if result is Outcome.ACCEPTED else None)

    def bind(self, holder: Prescriber, credential_id: str, friendly_name: str) -> bool:
        user_id = self.user_id_of(holder)
        request = messages.add_credential(user_id, credential_id, friendly_name)
        answer = self.transport.call(request)
        if answer.status == USER_UNKNOWN:
            outcome(self.transport.call(messages.create_user(user_id)))
            answer = self.transport.call(
                messages.add_credential(user_id, credential_id, friendly_name)
            )
        result = outcome(answer)
        if result is not Outcome.ACCEPTED:
            raise BindingRefused(result)
        return True

    def unbind(self, holder: Prescriber, credential_id: str) -> None:
        if holder.vip_user_id is None:
            return
        outcome(self.transport.call(messages.remove_credential(holder.vip_user_id, credential_id)))

    def rename(self, holder: Prescriber, credential_id: str, friendly_name: str) -> None:
        if holder.vip_user_id is None:
            return
        request = messages.update_credential(holder.vip_user_id, credential_id, friendly_name)
        outcome(self.transport.call(request))
