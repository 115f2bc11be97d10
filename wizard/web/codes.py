"""Messages and checks shared by every form that takes a one-time code."""

from __future__ import annotations

from wtforms import Field

from wizard.domain.otp import Outcome, clean_code, code_error
from wizard.services.lockout import Lock
from wizard.web.forms import add_error

WRONG_CODE = (
    "That code did not match. Wait for the next code and enter it within 30 seconds. "
    "If it keeps failing, check that your phone sets its time automatically."
)
REUSED_CODE = (
    "That code has already been used. Each code works once: wait for the app to show "
    "a new code, then enter it."
)
VIP_UNAVAILABLE = (
    "We could not reach Symantec VIP to check the code, so nothing was saved and this "
    "attempt does not count against you. Wait a minute, then try again with a new code."
)
# A vendor that cannot be reached is a 503; one too slow, a 504; one whose answer we cannot
# trust (garbage, an unexpected status, a certificate that does not chain), a 502.
OUTAGE_STATUS = {"unreachable": 503, "timeout": 504}
LOCKED_FOR_GOOD = (
    "Too many attempts failed, so your account is blocked. Reset your passphrase, or call "
    "your organization's EPCS help desk."
)


def valid_code(field: Field, noun: str = "the security code") -> bool:
    """Clean the typed code in place; add the shape error (not digits, not 6) if any."""
    field.data = clean_code(field.data)
    problem = f"Enter {noun}" if not field.data else code_error(field.data)
    if problem:
        add_error(field, problem)
        return False
    return True


def locked_message(lock: Lock, what: str) -> str:
    if lock.for_good:
        return LOCKED_FOR_GOOD
    return (
        f"Too many attempts did not match. For your security, {what} is paused until "
        f"{lock.until:%H:%M} UTC. Then wait for a new code and try again."
    )


def outage_status(reason: str) -> int:
    return OUTAGE_STATUS.get(reason, 502)


def code_status(outcome: str, reason: str = "") -> int:
    """The HTTP status of a page whose code was not accepted."""
    return outage_status(reason) if outcome == Outcome.UNAVAILABLE else 422


def code_message(lock: Lock, outcome: str = Outcome.WRONG, attempt_kind: str = "") -> str:
    """What to tell the prescriber after a code was refused, or could not be checked."""
    if outcome == Outcome.UNAVAILABLE:
        return VIP_UNAVAILABLE
    if lock.locked:
        what = "signing in" if attempt_kind == "sign-in" else "adding a token"
        return locked_message(lock, what)
    if outcome == Outcome.REUSED:
        return REUSED_CODE
    return WRONG_CODE
