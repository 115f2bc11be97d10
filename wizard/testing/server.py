"""A sandbox server for one test run, started in a subprocess; shared by pytest-xdist workers.

The first worker to need it starts it under a file lock in the run's shared temporary folder
and records its address there; the others read that address. It watches the process that
runs the whole test run (pytest, or xdist's controller) and stops when that ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

START_TIMEOUT = 120  # seconds: schema, demo data and the first argon2 hashes on a busy machine


@dataclass
class Sandbox:
    url: str
    pid: int
    log: Path
    started_here: bool  # by this process (so it may stop it)

    def stop(self) -> None:
        """Stop the server and wait for it to end (only the process that started it does)."""
        if not self.started_here:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if not _alive(self.pid):
                return
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps our own child once it has ended
        if finished:
            return False
    except ChildProcessError:  # not our child: ask the system
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_or_join(folder: Path, watch_pid: int) -> Sandbox:
    """The run's sandbox: the one recorded in folder while it runs, else a new one."""
    folder.mkdir(parents=True, exist_ok=True)
    ready = folder / "wizard-sandbox.json"
    log = folder / "wizard-sandbox.log"
    with FileLock(str(folder / "wizard-sandbox.lock")):
        if ready.exists():
            known = json.loads(ready.read_text())
            if _alive(known["pid"]):
                return Sandbox(known["url"], known["pid"], log, started_here=False)
            ready.unlink()
        return _start(folder, ready, log, watch_pid)


def _start(folder: Path, ready: Path, log: Path, watch_pid: int) -> Sandbox:
    database = folder / "wizard-sandbox.sqlite3"
    for stale in folder.glob("wizard-sandbox.sqlite3*"):
        stale.unlink()
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own module, with this Python
            [
                sys.executable,
                "-m",
                "wizard.testing.serve",
                "--database",
                str(database),
                "--ready-file",
                str(ready),
                "--watch-pid",
                str(watch_pid),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in the terminal reaches pytest, which stops it
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"The sandbox server did not start. Its log ({log}):\n{tail}")
        time.sleep(0.1)
    return Sandbox(json.loads(ready.read_text())["url"], process.pid, log, started_here=True)
