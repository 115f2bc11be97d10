"""What a mail to a prescriber says about a change to their tokens or account.

Plain text for US prescribers: what happened, when (UTC), from which address, and what to do if
it was not them. Never a code, a passphrase, a reset code or a link that holds a secret.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime

from wizard.domain.mail import credential_tail, us_time

HELP_DESK = "call your organization's EPCS help desk right away"
SIGNED_IN = (
    "If you did not do this, someone else is signed in to your account: "
    f"{HELP_DESK} and ask them to reset your passphrase."
)
FOOTER = (
    "This message was sent automatically by EPCS Token Enrollment. Replies are not read. "
    "We never ask for your passphrase or a security code by mail or by phone."
)


@dataclass(frozen=True)
class Facts:
    """What the mail may tell. where is the client address, or "" when no one was signed in."""

    name: str
    when: datetime
    where: str = ""
    token: str = ""  # the token's name
    credential_id: str = ""
    until: datetime | None = None  # a suspension's or a lock's end
    previous: str = ""  # a renamed token's former name
    failures: int = 0
    for_good: bool = False  # a lock only a passphrase reset lifts; a loss by expiry
    base_url: str = ""

    @property
    def token_line(self) -> str:
        tail = credential_tail(self.credential_id)
        return f"\u201c{self.token}\u201d (Credential ID ending in {tail})"

    @property
    def lost_token_page(self) -> str:
        where = f" at {self.base_url.rstrip('/')}/lost-token" if self.base_url else ""
        return f"\u201cReport a lost token\u201d{where}"


def _add(f: Facts) -> tuple[str, str, str]:
    return (
        "A token was added to your EPCS account",
        f"A token was added to your account: {f.token_line}. It can now be used to sign in "
        "and to sign prescriptions for controlled substances.",
        SIGNED_IN,
    )


def _disable(f: Facts) -> tuple[str, str, str]:
    return (
        "A token on your EPCS account was disabled",
        f"Your token {f.token_line} was disabled. It cannot be used to sign in until it is "
        "enabled again with a code from it. Other sessions signed in to your account were "
        "ended.",
        SIGNED_IN,
    )


def _enable(f: Facts) -> tuple[str, str, str]:
    return (
        "A token on your EPCS account was enabled",
        f"Your token {f.token_line} was enabled again with a code from it. It can be used to "
        "sign in and to sign prescriptions.",
        SIGNED_IN,
    )


def _rename(f: Facts) -> tuple[str, str, str]:
    return (
        "A token on your EPCS account was renamed",
        f"Your token \u201c{f.previous}\u201d (Credential ID ending in "
        f"{credential_tail(f.credential_id)}) was renamed \u201c{f.token}\u201d.",
        SIGNED_IN,
    )


def _delete(f: Facts) -> tuple[str, str, str]:
    return (
        "A token on your EPCS account was deleted",
        f"Your token {f.token_line} was deleted from your account. It can no longer be used to "
        "sign in or to sign prescriptions. Other sessions signed in to your account were ended.",
        SIGNED_IN,
    )


def _suspend(f: Facts) -> tuple[str, str, str]:
    until = us_time(f.until) if f.until else "30 days from now"
    return (
        "A token on your EPCS account was reported lost",
        f"Your token {f.token_line} was reported lost. It is suspended: it can no longer be "
        "used to sign in or to sign prescriptions. Sessions signed in to your account were "
        f"ended.\n\nIf you find the token, you can reactivate it until {until}: open "
        f"{f.lost_token_page} on the EPCS token page, enter your NPI and passphrase, then a "
        "code from the token. After that date the loss is final.",
        "If you did not report it, someone knows your passphrase: "
        f"{HELP_DESK} and ask them to reset it. Then reactivate your token.",
    )


def _reactivate(f: Facts) -> tuple[str, str, str]:
    return (
        "A token on your EPCS account was reactivated",
        f"Your token {f.token_line}, reported lost, was reactivated with your passphrase and a "
        "code from it. It works again for signing in and signing prescriptions.",
        f"If you did not do this, someone has your passphrase and your token: {HELP_DESK}.",
    )


def _lost(f: Facts) -> tuple[str, str, str]:
    if f.for_good:
        what = (
            f"Your token {f.token_line} was reported lost and was not reactivated within 30 "
            "days, so the loss is now final. It can never be used or registered again."
        )
    else:
        what = (
            f"The loss of your token {f.token_line} was confirmed. It can never be used or "
            "registered again."
        )
    return (
        "A token on your EPCS account is lost for good",
        what,
        "If you still have this token, it can no longer be used: add another token. "
        f"If you did not confirm the loss, {HELP_DESK}.",
    )


def _passphrase_reset(f: Facts) -> tuple[str, str, str]:
    return (
        "Your EPCS passphrase was reset",
        "Your EPCS passphrase was changed with a reset code and a code from one of your tokens. "
        "Every session signed in to your account was ended.",
        "If you did not change it, someone has your reset code and one of your tokens: "
        f"{HELP_DESK}.",
    )


def _lock(f: Facts) -> tuple[str, str, str]:
    if f.for_good:
        what = (
            f"Signing in to your EPCS account is blocked after {f.failures} failed attempts in "
            "a row. Only a passphrase reset unlocks it: ask your organization's EPCS help desk "
            "for a reset code."
        )
    else:
        pause = (
            f"Sign-ins from that address are paused until {us_time(f.until)}."
            if f.until
            else "Sign-ins from the addresses that failed are paused for a while."
        )
        what = (
            f"Someone failed to sign in to your EPCS account {f.failures} times in a row. "
            f"{pause} Signing in from your usual place still works."
        )
    return (
        "Signing in to your EPCS account is blocked"
        if f.for_good
        else "Failed sign-ins to your EPCS account",
        what,
        "If these attempts were not yours, someone may be trying to guess your passphrase. "
        "No one signed in: the pause protects your account. If this happens again, "
        f"{HELP_DESK}.",
    )


def _account_set_up(f: Facts) -> tuple[str, str, str]:
    return (
        "Your EPCS account was set up",
        "Your EPCS account was set up with your invitation and a new passphrase. The next step "
        "is adding a token to sign in with.",
        "If you did not set it up, someone else has your Invitation ID and is signed in to "
        f"your account: {HELP_DESK} and ask them to close this account.",
    )


KINDS = {
    "token.add": _add,
    "token.disable": _disable,
    "token.enable": _enable,
    "token.rename": _rename,
    "token.delete": _delete,
    "token.suspend": _suspend,
    "token.reactivate": _reactivate,
    "token.lost": _lost,
    "passphrase.reset": _passphrase_reset,
    "account.lock": _lock,
    "account.set-up": _account_set_up,
}


def _wrap(text: str) -> str:
    return "\n\n".join(
        textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False)
        for p in text.split("\n\n")
    )


def compose(kind: str, facts: Facts) -> tuple[str, str]:
    """(subject, body) of the mail about kind (a key of KINDS)."""
    subject, what, not_you = KINDS[kind](facts)
    # A sentence, not "From: ..." lines that read like a second mail header.
    where = f"from the network address {facts.where}" if facts.where else "by the EPCS system"
    body = "\n\n".join(
        [
            f"Dear {facts.name},",
            _wrap(what),
            _wrap(f"This happened on {us_time(facts.when)}, {where}."),
            _wrap(not_you),
            _wrap(FOOTER),
        ]
    )
    return subject, body + "\n"
