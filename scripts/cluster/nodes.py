"""An app node: gunicorn serving the wizard on 127.0.0.1, in a process group of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .processes import free_port, kill, start, stop, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its WIZARD_* variables, plus settings."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    return {**kept, **settings}


def flask(args: list[str], settings: dict[str, str]) -> str:
    """Run `flask --app wizard ARGS` with settings; its standard output."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "flask", "--app", "wizard", *args],
        cwd=ROOT,
        env=environment(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class AppNode:
    """gunicorn with `workers` workers; its error log in folder/NAME.log. Requests are logged
    once, by the balancer (Balancer.served_by)."""

    def __init__(self, name: str, settings: dict[str, str], folder: Path, workers: int = 2) -> None:
        self.name = name
        self.settings = settings
        self.folder = folder
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> AppNode:
        """Start gunicorn without waiting for it (see wait())."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            "--graceful-timeout=10",
            "--timeout=60",
            # One control socket per user by default: two nodes on one machine would share it.
            "--no-control-socket",
            "wizard:create_app()",
        ]
        self.process = start(command, self.folder / f"{self.name}.log", environment(self.settings))
        return self

    def wait(self) -> AppNode:
        wait_for_http(self.url + "/healthz", self.process, f"app node {self.name}")
        return self

    def kill(self) -> None:
        """As a crash would: every process of the node gone at once (SIGKILL)."""
        kill(self.process)

    def stop(self) -> None:
        stop(self.process)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
