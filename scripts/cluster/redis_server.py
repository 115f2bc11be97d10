"""A throwaway redis-server on 127.0.0.1 and a free port, with a password and no persistence."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from .processes import free_port, kill, program, start, stop, wait_for_port


class RedisServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(24)
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> RedisServer:
        """Start the server (again, after kill(): same port and password, no data)."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="wizard-redis-"))
        config = self.folder / "redis.conf"
        # In a file, not on the command line: the password stays out of `ps`.
        config.write_text(
            "bind 127.0.0.1\n"
            f"port {self.port}\n"
            f"requirepass {self.password}\n"
            'save ""\n'
            "appendonly no\n"
            f"dir {self.folder}\n"
        )
        config.chmod(0o600)
        self.process = start([program("redis-server"), str(config)], self.folder / "redis.log")
        wait_for_port(self.port, self.process, "redis-server")
        return self

    def kill(self) -> None:
        """As a crash would (SIGKILL); start() brings it back."""
        kill(self.process)

    def stop(self) -> None:
        stop(self.process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
