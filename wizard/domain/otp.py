"""One-time pin rules: TOTP/HOTP matching, replay refusal, code clean-up.

The arithmetic comes from pyotp; this module adds the policy: the time window,
the HOTP look-ahead, and that a time step or counter is accepted only once
(NIST SP 800-63B).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyotp

TOTP_WINDOW = 1  # steps either side of now
HOTP_LOOK_AHEAD = 10
HOTP_RESYNC_LOOK_AHEAD = 100


class Algorithm(StrEnum):
    TOTP = "totp"
    HOTP = "hotp"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    REUSED = "reused"
    UNKNOWN = "unknown"  # the authority knows no such credential
    OUT_OF_SYNC = "out-of-sync"  # an HOTP code beyond the look-ahead: resynchronize
    UNAVAILABLE = "unavailable"  # the authority could not answer: nothing was decided


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    step: int | None = None  # matched time step (TOTP) or counter (HOTP)
    credential_id: str | None = None  # which credential matched, when several were candidates

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True)
class OathSecret:
    """What is needed to compute a credential's codes."""

    secret: str  # base32
    algorithm: Algorithm = Algorithm.TOTP
    digits: int = 6
    period: int = 30


_NOT_DIGITS = re.compile(r"[\s\-]")


def clean_code(typed: str | None) -> str:
    """Drop the spaces and dashes people type between the digits."""
    return _NOT_DIGITS.sub("", typed or "")


def code_error(code: str, digits: int = 6) -> str | None:
    """A message for a code that cannot be right whatever the token says."""
    if not code:
        return "Enter the security code"
    if not (code.isascii() and code.isdigit()):  # str.isdigit alone passes "１" and "²"
        return "The security code is numbers only"
    if len(code) != digits:
        return f"The security code is {digits} digits"
    return None


def time_step(now: datetime, period: int = 30) -> int:
    return int(now.timestamp()) // period


def code_at(oath: OathSecret, step: int) -> str:
    """The code for a time step (TOTP) or a counter (HOTP)."""
    return pyotp.OTP(oath.secret, digits=oath.digits).generate_otp(step)


def _find(oath: OathSecret, code: str, candidates: range) -> int | None:
    """The highest candidate step whose code equals code, compared in constant time."""
    found = None
    for step in candidates:
        if hmac.compare_digest(code_at(oath, step), code):
            found = step
    return found


def judge(
    oath: OathSecret,
    code: str,
    now: datetime,
    last_step: int | None,
    look_ahead: int = HOTP_LOOK_AHEAD,
) -> Verdict:
    """Decide a code against a secret: accepted (with its step), reused or wrong.

    last_step is the last accepted time step or counter; a match at or below
    it is a replay.
    """
    if code_error(code, oath.digits):
        return Verdict(Outcome.WRONG)
    floor = -1 if last_step is None else last_step
    if oath.algorithm is Algorithm.TOTP:
        now_step = time_step(now, oath.period)
        candidates = range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1)
    else:
        candidates = range(max(0, floor - look_ahead), floor + look_ahead + 1)
    step = _find(oath, code, candidates)
    if step is None:
        return Verdict(Outcome.WRONG)
    if step <= floor:
        return Verdict(Outcome.REUSED, step)
    return Verdict(Outcome.ACCEPTED, step)


def seconds_left(now: datetime, period: int = 30) -> int:
    """Seconds until the current code changes."""
    return period - int(now.timestamp()) % period


def new_secret() -> str:
    """A fresh 20-byte (160-bit) secret in base32, as VIP Access uses."""
    return pyotp.random_base32(length=32)


def provisioning_uri(oath: OathSecret, label: str, issuer: str) -> str:
    if oath.algorithm is Algorithm.HOTP:
        return pyotp.HOTP(oath.secret, digits=oath.digits).provisioning_uri(
            name=label, issuer_name=issuer, initial_count=0
        )
    return pyotp.TOTP(oath.secret, digits=oath.digits, interval=oath.period).provisioning_uri(
        name=label, issuer_name=issuer
    )


def out_of_sync(oath: OathSecret, code: str, last_step: int | None) -> bool:
    """An HOTP code that matches beyond the normal look-ahead but within the resync one."""
    if oath.algorithm is not Algorithm.HOTP or code_error(code, oath.digits):
        return False
    floor = -1 if last_step is None else last_step
    far = range(floor + HOTP_LOOK_AHEAD + 1, floor + HOTP_RESYNC_LOOK_AHEAD + 1)
    return _find(oath, code, far) is not None


def resync(oath: OathSecret, first: str, second: str, last_step: int | None) -> Verdict:
    """Two consecutive HOTP codes within the resync look-ahead: accepted at the second's counter."""
    if (
        oath.algorithm is not Algorithm.HOTP
        or code_error(first, oath.digits)
        or code_error(second, oath.digits)
    ):
        return Verdict(Outcome.WRONG)
    floor = -1 if last_step is None else last_step
    for counter in range(floor + 1, floor + HOTP_RESYNC_LOOK_AHEAD + 1):
        if hmac.compare_digest(code_at(oath, counter), first) and hmac.compare_digest(
            code_at(oath, counter + 1), second
        ):
            return Verdict(Outcome.ACCEPTED, counter + 1)
    return Verdict(Outcome.WRONG)


def first_unused_step(now: datetime, period: int, last_step: int | None) -> tuple[int, float]:
    """The first time step at or after now that has not been accepted yet, and the seconds
    until it starts (0 when it already has).

    Waiting is at most one period when the current step was used; two only when a code of
    the next step was accepted early (the window allows one step of clock drift).
    """
    current = time_step(now, period)
    step = current if last_step is None or last_step < current else last_step + 1
    return step, max(0.0, step * period - now.timestamp())
