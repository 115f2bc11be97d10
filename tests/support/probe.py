"""A fresh interpreter running a short script, as a gunicorn worker would start: what it
imports, what it answers (tests of what a worker loads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_probe(script: str, environ: dict[str, str]) -> list[str]:
    """The lines script printed, run by this interpreter from the repository root with the
    WIZARD_ settings given (none inherited from the test run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    env.update(environ)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()
