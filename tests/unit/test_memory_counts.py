"""memory:// rate-limit counts: kept and expired as limits keeps them, without a thread per
count (wizard/store/memory_counts.py)."""

from __future__ import annotations

import time

import limits.storage.memory
import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from wizard.store import memory_counts
from wizard.store.memory_counts import SweptMemoryStorage


@pytest.fixture
def timers(monkeypatch):
    """Every timer thread limits' MemoryStorage would start."""
    made = []
    real = limits.storage.memory.threading.Timer

    def timer(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(limits.storage.memory.threading, "Timer", timer)
    return made


def test_memory_urls_make_the_swept_storage():
    assert type(storage_from_string("memory://")) is SweptMemoryStorage


def test_counting_starts_no_thread(timers):
    storage = SweptMemoryStorage()
    for _ in range(3):
        storage.incr("address:198.51.100.20", expiry=60)
        time.sleep(0.02)  # limits' own would start a new timer after 10 ms
    assert len(timers) == 1, "the constructor's, as limits' own makes"
    assert not storage.timer.is_alive(), "and cancelled"
    assert storage.get("address:198.51.100.20") == 3


def test_a_limit_still_refuses_past_its_count():
    limiter = FixedWindowRateLimiter(SweptMemoryStorage())
    limit = parse("2 per minute")
    assert [limiter.hit(limit, "code", "address:x") for _ in range(3)] == [True, True, False]


def test_expired_counts_are_forgotten_at_a_later_count(monkeypatch):
    storage = SweptMemoryStorage()
    storage.incr("gone", expiry=0.01)
    storage.incr("kept", expiry=60)
    time.sleep(0.03)
    monkeypatch.setattr(memory_counts, "SWEEP_EVERY", 0.0)
    storage.incr("another", expiry=60)
    assert "gone" not in storage.storage
    assert storage.storage["kept"] == 1


def test_no_sweep_more_than_once_a_second(monkeypatch):
    storage = SweptMemoryStorage()
    storage.incr("short", expiry=0.01)
    time.sleep(0.03)
    storage.incr("next", expiry=60)
    assert "short" in storage.storage, "kept until the next sweep (never read: it has expired)"
    assert storage.get("short") == 0
