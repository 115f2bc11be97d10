"""Rate-limit counts in the process's memory (WIZARD_RATELIMIT_STORAGE_URL=memory://, the
default for one app server), without a thread per count.

limits' MemoryStorage forgets expired counts in a timer thread, which it starts again at any
count made more than 10 ms after the last one: under load, nearly every counted request
starts a thread and waits for it to run. Here the same sweep runs in the request that counts,
at most once a second. No expired count is ever read meanwhile, as before: every read checks
its expiry first; the sweep only gives back the memory.
"""

from __future__ import annotations

import threading
import time

from limits.storage.memory import MemoryStorage

SWEEP_EVERY = 1.0  # seconds


class SweptMemoryStorage(MemoryStorage):
    # limits keeps one class per scheme, the last one defined: from this import on,
    # memory:// makes this one (wizard.extensions imports it before any limiter starts).
    STORAGE_SCHEME = ["memory"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timer.cancel()  # the one limits' constructor starts: no sweep in a thread at all
        self._swept = time.monotonic()
        self._sweeping = threading.Lock()

    # MemoryStorage calls this (name-mangled) at every count.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._swept < SWEEP_EVERY or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._swept = now
            self._MemoryStorage__expire_events()
        finally:
            self._sweeping.release()
