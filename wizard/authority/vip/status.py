"""VIP User Services status codes and what each means to the wizard, operation by operation.

Every answer carries a four-hex-digit status ("0000" is success); a refused security code
may add a detail code. Where each code comes from is in docs/VIP.md. A status missing from an
operation's table is unexpected: the wizard then treats VIP as unavailable rather than guess.
"""

from __future__ import annotations

from wizard.authority import AuthorityUnavailable
from wizard.authority.vip.messages import Answer
from wizard.domain.otp import Outcome

SUCCESS = "0000"
USER_EXISTS = "6002"
USER_UNKNOWN = "6003"
CREDENTIAL_UNKNOWN = "6004"
NO_BINDING = "6007"
NO_ENABLED_CREDENTIAL = "6008"
AUTHENTICATION_FAILED = "6009"
CREDENTIAL_STATE = "600D"  # the credential is locked or disabled at VIP
OTP_OUT_OF_SYNC = "604A"

INVALID_OTP_DETAIL = "49B5"
# Ours, not Symantec's: VIP documents no separate status for a replayed code, so the stand-in
# marks one with this detail; against VIP itself a replay reads as a wrong code.
REPLAY_DETAIL = "E001"

_CODE_CHECK = {
    SUCCESS: Outcome.ACCEPTED,
    AUTHENTICATION_FAILED: Outcome.WRONG,
    OTP_OUT_OF_SYNC: Outcome.OUT_OF_SYNC,
    # VIP refuses codes once a credential is locked (too many failures there) or disabled;
    # to the prescriber that is a code that does not work, and our own lock follows.
    CREDENTIAL_STATE: Outcome.WRONG,
}

OUTCOMES: dict[str, dict[str, Outcome]] = {
    "AuthenticateCredentials": {**_CODE_CHECK, CREDENTIAL_UNKNOWN: Outcome.UNKNOWN},
    "AuthenticateUser": {
        **_CODE_CHECK,
        USER_UNKNOWN: Outcome.UNKNOWN,
        NO_BINDING: Outcome.UNKNOWN,
        NO_ENABLED_CREDENTIAL: Outcome.UNKNOWN,
    },
    "GetCredentialInfo": {SUCCESS: Outcome.ACCEPTED, CREDENTIAL_UNKNOWN: Outcome.UNKNOWN},
    "CreateUser": {SUCCESS: Outcome.ACCEPTED, USER_EXISTS: Outcome.ACCEPTED},
    "AddCredential": {
        SUCCESS: Outcome.ACCEPTED,
        USER_UNKNOWN: Outcome.UNKNOWN,  # the caller creates the user, then asks again
        CREDENTIAL_UNKNOWN: Outcome.UNKNOWN,
        AUTHENTICATION_FAILED: Outcome.WRONG,
        CREDENTIAL_STATE: Outcome.WRONG,
    },
    # Nothing to remove, or to rename, is as good as done.
    "RemoveCredential": {
        SUCCESS: Outcome.ACCEPTED,
        NO_BINDING: Outcome.ACCEPTED,
        USER_UNKNOWN: Outcome.ACCEPTED,
    },
    "UpdateCredential": {
        SUCCESS: Outcome.ACCEPTED,
        NO_BINDING: Outcome.ACCEPTED,
        USER_UNKNOWN: Outcome.ACCEPTED,
    },
    "GetUserInfo": {SUCCESS: Outcome.ACCEPTED, USER_UNKNOWN: Outcome.UNKNOWN},
}


def outcome(answer: Answer) -> Outcome:
    """The wizard's outcome for an answer; raises AuthorityUnavailable for a status the
    operation is not documented to give."""
    found = OUTCOMES.get(answer.operation, {}).get(answer.status)
    if found is None:
        raise AuthorityUnavailable("unexpected-status", answer.operation, answer.status)
    if found is Outcome.WRONG and answer.detail == REPLAY_DETAIL:
        return Outcome.REUSED
    return found
