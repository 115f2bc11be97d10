"""A throwaway PostgreSQL server from Debian's package: initdb in a temporary folder, on
127.0.0.1 and a free port, with a random password; removed when stopped."""

from __future__ import annotations

import glob
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .processes import (
    STARTUP_SECONDS,
    ServiceError,
    as_service_user,
    free_port,
    give_to,
    program,
    start,
    stop,
)

SERVICE_USER = "postgres"  # initdb and postgres refuse to run as root
ROLE = "wizard"


def _bin_folders() -> list[str]:
    """Debian keeps the server programs out of PATH, one folder per major version."""
    return sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)


def _version(folder: str) -> float:
    try:
        return float(Path(folder).parent.name)
    except ValueError:
        return 0.0


class PostgresServer:
    """start() runs initdb and the server; url(name) is a SQLAlchemy URL; stop() removes it.

    durable=False turns fsync off: quicker for tests, and nothing here outlives the run."""

    def __init__(self, port: int | None = None, durable: bool = False) -> None:
        self.port = port or free_port()
        self.durable = durable
        self.password = secrets.token_urlsafe(24)
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        folders = _bin_folders()
        self.initdb = program("initdb", *folders)
        self.postgres = program("postgres", *folders)
        self.pg_ctl = program("pg_ctl", *folders)

    @property
    def data(self) -> Path:
        assert self.folder is not None, "start() first"
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        self.folder = Path(tempfile.mkdtemp(prefix="wizard-postgresql-"))
        give_to(self.folder, SERVICE_USER)
        runner = as_service_user(SERVICE_USER)
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        give_to(password_file, SERVICE_USER)
        try:
            self._run(
                [
                    *runner,
                    self.initdb,
                    f"--pgdata={self.data}",
                    f"--username={ROLE}",
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ],
                "initdb",
            )
        finally:
            password_file.unlink(missing_ok=True)
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            # Not UTC on purpose: the wizard must not depend on the server's time zone.
            "timezone": "America/Chicago",
            "max_connections": "200",
        }
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        options = [f"--{name}={value}" for name, value in settings.items()]
        log = self.folder / "server.log"
        log.touch()
        give_to(log, SERVICE_USER)
        self.process = start([*runner, self.postgres, "-D", str(self.data), *options], log)
        self._wait_until_ready(log)
        return self

    def _run(self, command: list[str], what: str) -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise ServiceError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def _wait_until_ready(self, log: Path) -> None:
        import psycopg

        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"PostgreSQL exited while starting:\n{log.read_text()[-2000:]}")
            try:
                psycopg.connect(self.conninfo(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise ServiceError(f"PostgreSQL did not accept connections within {STARTUP_SECONDS} s")

    def conninfo(self, database: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={ROLE} password={self.password} "
            f"dbname={database}"
        )

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(self.conninfo(database), autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of template when given); its URL."""
        copy = f" TEMPLATE {template}" if template else ""
        self.execute(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            subprocess.run(  # noqa: S603 - fixed command
                [
                    *as_service_user(SERVICE_USER),
                    self.pg_ctl,
                    "stop",
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                ],
                capture_output=True,
                check=False,
            )
            stop(self.process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
