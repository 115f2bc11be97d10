"""Token statuses, what each allows, the backup-token rule and the VIP Access app catalog."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

NICKNAME_MAX = 40
ISSUER = "DRFIRST"
# NIST SP 800-63B §6.2: a token reported lost is suspended; its owner may reactivate it by
# proving possession. After this long the loss is final.
SUSPENSION = timedelta(days=30)


class Status(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    SUSPENDED = "Suspended"  # reported lost: no sign-in, no signing; reactivatable for 30 days
    DELETED = "Deleted"
    LOST = "Lost"  # for good: never enabled or registered again


class Action(StrEnum):
    """What a prescriber may do to a token (each a transition in services.tokens)."""

    DISABLE = "disable"
    ENABLE = "enable"
    DELETE = "delete"
    RENAME = "rename"
    REPORT_LOST = "report-lost"
    REACTIVATE = "reactivate"
    CONFIRM_LOST = "confirm-lost"


# The one table of which action each status allows, in the order the token table shows them.
ALLOWED: dict[Status, tuple[Action, ...]] = {
    Status.ACTIVE: (Action.DISABLE, Action.DELETE, Action.RENAME, Action.REPORT_LOST),
    Status.INACTIVE: (Action.ENABLE, Action.DELETE, Action.RENAME, Action.REPORT_LOST),
    Status.SUSPENDED: (Action.REACTIVATE, Action.CONFIRM_LOST),
    Status.LOST: (),
    Status.DELETED: (),
}


def allowed_actions(status: str) -> tuple[Action, ...]:
    try:
        return ALLOWED[Status(status)]
    except ValueError:
        return ()


def allows(status: str, action: Action) -> bool:
    return action in allowed_actions(status)


class _HasStatus(Protocol):
    status: str


T = TypeVar("T", bound=_HasStatus)


def active(tokens: Iterable[T]) -> list[T]:
    """The Active tokens among these: the ones that sign in. Counted here and nowhere else."""
    return [t for t in tokens if t.status == Status.ACTIVE]


def is_last_active(token: T, tokens: Iterable[T]) -> bool:
    """token is the only Active one among tokens: without it, nothing signs in."""
    return active(tokens) == [token]


def suspension_ends(suspended_at: datetime) -> datetime:
    """The moment a suspended token becomes Lost for good."""
    return suspended_at + SUSPENSION


def suspension_over(suspended_at: datetime | None, now: datetime) -> bool:
    """True once a suspension can no longer be reactivated (exact to the second)."""
    return suspended_at is None or now >= suspension_ends(suspended_at)


class TokenType(StrEnum):
    SOFT = "OTP SOFT TOKEN"
    HARD = "OTP HARD TOKEN"


def needs_backup(active_tokens: int) -> bool:
    """Without a second Active token, losing the first means identity proofing again."""
    return active_tokens < 2


@dataclass(frozen=True)
class Platform:
    """Where a token lives: the VIP Access app on a device, or a hard token."""

    key: str
    label: str  # the device, as the prescriber names it
    store: str  # where the app comes from
    app_name: str  # the exact name to look for
    url: str
    nickname: str  # suggested token name
    kind: str = "soft"  # soft (an app) or hard (key fob or card)
    manufacturer: str = "SYMANTEC"
    model: str = "VIP"

    @property
    def hard(self) -> bool:
        return self.kind == "hard"

    @property
    def token_type(self) -> TokenType:
        return TokenType.HARD if self.hard else TokenType.SOFT

    @property
    def choice(self) -> str:
        """The option in "Which token are you adding?"."""
        return self.label if self.hard else f"VIP Access app on {_article(self.label)}"


def _article(noun: str) -> str:
    return ("an " if noun[0].lower() in "aeiou" else "a ") + noun


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform(
            "iphone",
            "iPhone or iPad",
            "the App Store",
            "VIP Access for iPhone",
            "https://apps.apple.com/us/app/vip-access-for-iphone/id307658513",
            "iPhone VIP Access",
        ),
        Platform(
            "android",
            "Android phone or tablet",
            "Google Play",
            "Symantec VIP Access",
            "https://play.google.com/store/apps/details?id=com.verisign.mvip.main",
            "Android VIP Access",
        ),
        Platform(
            "windows",
            "Windows computer",
            "the VIP Access website",
            "VIP Access for Windows",
            "https://vip.symantec.com",
            "Windows VIP Access",
        ),
        Platform(
            "mac",
            "Mac computer",
            "the VIP Access website",
            "VIP Access for Mac",
            "https://vip.symantec.com",
            "Mac VIP Access",
        ),
        Platform(
            "onespan",
            "OneSpan Digipass GO 6 or GO 7 key fob",
            "",
            "",
            "",
            "OneSpan key fob",
            kind="hard",
            manufacturer="ONESPAN",
            model="DIGIPASS GO",
        ),
        Platform(
            "symantec-hard",
            "Symantec VIP key fob or card",
            "",
            "",
            "",
            "Symantec key fob",
            kind="hard",
            manufacturer="SYMANTEC",
            model="VIP HARD TOKEN",
        ),
    )
}


def suggest_nickname(platform_key: str, taken: set[str]) -> str:
    """The device's name for the token, made unique among the prescriber's tokens."""
    platform = PLATFORMS.get(platform_key)
    base = platform.nickname if platform else "VIP Access"
    lowered = {t.casefold() for t in taken}
    if base.casefold() not in lowered:
        return base
    n = 2
    while f"{base} {n}".casefold() in lowered:
        n += 1
    return f"{base} {n}"
