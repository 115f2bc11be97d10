"""What every part of the bench shares: where things are, the load's shape, the log line."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

WORKERS = 2
CONCURRENCY = 4  # client threads: two per sync worker keeps both busy without a long queue
PASSPHRASE = "bench lantern orchard 73"  # noqa: S105 - the bench accounts' passphrase


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
