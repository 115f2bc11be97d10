"""The idle timeout, counted in whole minutes.

A session records the minute of its holder's last action (the minute number since the
epoch), so it needs writing at most once a minute. The action happened before that minute
ended, so a session that ends `idle_minutes` after the end of that minute never ends early,
and ends at most one minute late.
"""

from __future__ import annotations

from datetime import datetime


def minute(now: datetime) -> int:
    return int(now.timestamp() // 60)


def idle_expired(seen_minute: int, now: datetime, idle_minutes: int) -> bool:
    """True once idle_minutes have passed since an action made during seen_minute."""
    return now.timestamp() >= (seen_minute + 1 + idle_minutes) * 60
