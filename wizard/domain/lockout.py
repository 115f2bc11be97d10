"""How long an account is locked after consecutive failed attempts.

NIST SP 800-63B: no more than 100 consecutive failures per account, with
growing delays allowed in between. The numbers are configurable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class LockPolicy:
    max_failures: int = 5  # the failure that first locks
    lock: timedelta = timedelta(minutes=15)
    longest_lock: timedelta = timedelta(hours=1)
    hard_limit: int = 100  # from here on, only a passphrase reset unlocks

    def lock_after(self, failures: int) -> timedelta | None:
        """The lock that the failures-th consecutive failure starts, if any."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 16)
        return min(self.lock * (2**doublings), self.longest_lock)

    def blocked_for_good(self, failures: int) -> bool:
        return failures >= self.hard_limit

    def left(self, failures: int) -> int:
        """Attempts left before the first lock."""
        return max(self.max_failures - failures, 0)
