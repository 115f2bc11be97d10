"""Starting and stopping the local servers: free ports, waiting for them, clean shutdown."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

STARTUP_SECONDS = 60


class ServiceError(RuntimeError):
    """A local server could not be installed, started or reached; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def wait_for_port(port: int, process: subprocess.Popen | None, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{what} exited with status {process.returncode} while starting")
        time.sleep(0.1)
    raise ServiceError(f"{what} did not open port {port} within {STARTUP_SECONDS} s")


def wait_for_http(url: str, process: subprocess.Popen | None, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local URL
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process is not None and process.poll() is not None:
                raise ServiceError(
                    f"{what} exited with status {process.returncode} while starting"
                ) from None
            time.sleep(0.2)
    raise ServiceError(f"{what} did not answer {url} within {STARTUP_SECONDS} s")


def program(name: str, *folders: str) -> str:
    """The full path of a program from the folders given or PATH; ServiceError if missing."""
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise ServiceError(f"{name} is not installed: run `make test-services` (as root) first")
    return found


def start(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A server in a process group of its own, so that stopping it stops its children too."""
    with open(log, "ab") as output:
        return subprocess.Popen(  # noqa: S603 - commands built from fixed parts
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def stop(process: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM to the process group, then SIGKILL after grace seconds."""
    if process is None or process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill(process)


def kill(process: subprocess.Popen | None) -> None:
    """As a crash would: SIGKILL to the whole process group, no chance to tidy up."""
    if process is None:
        return
    _signal_group(process, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def as_service_user(user: str) -> list[str]:
    """The prefix that runs a command as user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise ServiceError(f"the {user} system user is missing: reinstall its package") from None
    return [program("runuser"), "-u", user, "--"]


def give_to(path: Path, user: str) -> None:
    """Make path (a folder we created) belong to user, when we are root."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
