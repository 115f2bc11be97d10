"""The bench's load windows: a rate is the operations over the time they took."""

from __future__ import annotations

import time
from types import SimpleNamespace

import bench.load
from bench.load import run_load


def test_a_window_that_runs_out_of_work_ends_with_its_last_operation(monkeypatch):
    # The window's loop looks at its threads between sleeps; make each sleep long, so that a
    # window measured to the loop's next look, not to the last operation, is plainly too long.
    slow_look = SimpleNamespace(perf_counter=time.perf_counter, sleep=lambda _s: time.sleep(0.3))
    monkeypatch.setattr(bench.load, "time", slow_look)
    left = [3]

    def op(_thread: int) -> float | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        time.sleep(0.002)
        return 0.002

    load = run_load("three", op, seconds=10, concurrency=1)

    assert load.count == 3
    assert 0.006 <= load.seconds < 0.2
