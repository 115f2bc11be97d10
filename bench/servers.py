"""The servers under test: gunicorn masters on 127.0.0.1, each on a free port, and the machine
they run on."""

from __future__ import annotations

import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client
from bench.common import WORKERS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def workers(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{self.process.pid}$", status, re.M):
                children.append(int(entry.name))
        return sorted(children)

    def memory(self) -> list[dict]:
        """Per worker: VmHWM (peak resident set) and VmRSS, in MB, from /proc/<pid>/status."""
        out = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}
            out.append({"pid": pid, "peak_mb": kb["VmHWM"] / 1024, "rss_mb": kb["VmRSS"] / 1024})
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn stops its own workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_gunicorn(
    name: str,
    app: str,
    env: dict,
    workdir: Path,
    chdir: Path,
    health: str = "/",
    python: str = sys.executable,
) -> Server:
    """`gunicorn --workers 2 --worker-class sync` (the same settings for every app served),
    ready once `health` answers 200 and both workers are up."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    command = [
        python,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(chdir),
        "--log-level",
        "warning",
        app,
    ]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
        try:
            reply = Client(port).get(health)
            if reply.status == 200 and len(server.workers()) == WORKERS:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer within 60 s: {log_path.read_text()[-2000:]}")


def wizard_environ(database: Path) -> dict[str, str]:
    from wizard.store.crypto import SeedCipher

    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": f"sqlite:///{database}",
        "WIZARD_SECRET_KEY": secrets.token_hex(32),
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        # Every bench client signs in from 127.0.0.1; the per-address limit would stop it.
        "WIZARD_SIGN_IN_RATE_LIMIT": "100000 per minute",
        "WIZARD_CODE_RATE_LIMIT": "100000 per minute",
        "WIZARD_CREDENTIAL_ID_RATE_LIMIT": "100000 per minute",
        "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT": "100000 per minute",
    }


def build_app(environ: dict):
    from wizard import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_app(environ=environ)


def quiesce(database: Path) -> None:
    """Before a latency comparison: fold the WAL into the database and let the kernel write
    back its dirty pages, so one measurement does not pay for the last one's disk writes."""
    try:
        with sqlite3.connect(database, timeout=30) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass  # a reader held the WAL; the sync below still settles the disk
    os.sync()
    time.sleep(1.0)


def fsync_probe(folder: Path, count: int = 200) -> dict:
    """How long this disk takes to fsync a 4 KiB write (each commit in WAL mode waits for one)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return {
        "p50_ms": round(times[count // 2] * 1000, 2),
        "p90_ms": round(times[int(count * 0.9)] * 1000, 2),
    }


def machine() -> dict:
    from importlib.metadata import version

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "sqlalchemy": version("sqlalchemy"),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def start_redis(workdir: Path) -> tuple[Server, str]:
    """A redis-server of the bench's own on 127.0.0.1 (for --sessions redis)."""
    import shutil

    port = free_port()
    log_path = workdir / "redis.log"
    command = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1"]
    command += ["--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return Server("redis", port, process, log_path), f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"redis-server did not start: {log_path.read_text()[-2000:]}")
