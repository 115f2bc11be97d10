"""How long attempts pause after consecutive failures, and whose failures count together.

NIST SP 800-63B: no more than 100 consecutive failures per account, with growing delays
allowed in between. The numbers are configurable.
"""

from __future__ import annotations

import ipaddress
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

    def tiers(self) -> list[tuple[int, timedelta]]:
        """(failures, lock) from the first lock until the lock stops growing: for the
        failures-th failure and later ones up to the next tier, that lock."""
        steps, failures = [], self.max_failures
        while True:
            lock = self.lock_after(failures)
            steps.append((failures, lock))
            if lock >= self.longest_lock or failures - self.max_failures >= 16:
                return steps
            failures += 1

    def blocked_for_good(self, failures: int) -> bool:
        return failures >= self.hard_limit

    def left(self, failures: int) -> int:
        """Attempts left before the first lock."""
        return max(self.max_failures - failures, 0)

    @property
    def first_pause(self) -> str:
        """The first pause, as messages say it ("15 minutes")."""
        return duration_words(self.lock_after(self.max_failures))


def duration_words(span: timedelta) -> str:
    """A pause as a person says it: "a minute", "15 minutes", "an hour", "2 hours", "a day"."""
    minutes = max(round(span.total_seconds() / 60), 1)
    for size, one, many in ((24 * 60, "a day", "days"), (60, "an hour", "hours")):
        if minutes % size == 0:
            count = minutes // size
            return one if count == 1 else f"{count} {many}"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def client_key(address: str | None) -> str:
    """Whose attempts are counted together: one IPv4 address, or one IPv6 /64 network (a
    single subscriber is routinely given a whole /64, so counting its addresses apart would
    hand an attacker billions of fresh counters)."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)
