"""What every part of the bench shares: where things are, the load's shape, the log line."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

WORKERS = 2
CONCURRENCY = 4  # client threads: two per sync worker keeps both busy without a long queue
# Sessions posting a code in each timed phase of the code-verify POST (bench.load.code_posts).
# At a phase's end one worker waits while the other finishes; with 12 a phase that wait cost
# about 9% of the measured rate (141 against 154 requests/s side by side), with 48 a quarter of it.
CODE_SESSIONS = 48
PASSPHRASE = "bench lantern orchard 73"  # noqa: S105 - the bench accounts' passphrase


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
