"""The databases the tests run on: SQLite files, and a throwaway PostgreSQL server.

Each backend builds its schema once per run with the migrations (a template), then hands each
test a database with that schema cheaply:
- SQLite: a copy of the template file;
- PostgreSQL: the run's main database put back as the migrations left it (PgSnapshot), or a
  copy of the template database (CREATE DATABASE … TEMPLATE, slower) when a test needs more.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cluster.postgres import PostgresServer

BACKENDS = ("sqlite", "postgresql")
# Builds the schema at a URL with the migrations (given by tests/conftest.py, which builds apps).
Migrator = Callable[[str], None]


class SqliteDatabases:
    backend = "sqlite"

    def __init__(self, folder: Path, migrate: Migrator) -> None:
        self.template = folder / "template.sqlite3"
        migrate(f"sqlite:///{self.template}")

    def main(self, folder: Path) -> str:
        return self.fresh(folder, "wizard")

    def fresh(self, folder: Path, name: str) -> str:
        url = self.empty(folder, name)
        shutil.copyfile(self.template, self._path(url))
        return url

    def empty(self, folder: Path, name: str) -> str:
        """Each database in a folder of its own, so that gone() can take the folder away."""
        own = folder / name
        own.mkdir()
        return f"sqlite:///{own / 'wizard.sqlite3'}"

    def unreachable(self, folder: Path) -> str:
        """A URL that cannot be opened: a file in a folder that does not exist."""
        return f"sqlite:///{folder / 'no-such-folder' / 'wizard.sqlite3'}"

    def drop(self, url: str) -> None:
        pass  # files go with the test's tmp_path

    @staticmethod
    def _path(url: str) -> Path:
        return Path(url.removeprefix("sqlite:///"))

    @contextmanager
    def gone(self, url: str) -> Iterator[None]:
        """The database out of reach: its folder moved aside (SQLite cannot open a file in a
        folder that is not there), then put back untouched."""
        folder = self._path(url).parent
        aside = folder.with_name(folder.name + "-aside")
        folder.rename(aside)
        try:
            yield
        finally:
            aside.rename(folder)

    def stored_bytes(self, url: str) -> bytes:
        """What the database has written to disk (the file and its write-ahead log); close
        every connection first, so the log is checkpointed into the file."""
        path = self._path(url)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


class PostgresDatabases:
    backend = "postgresql"
    TEMPLATE = "wizard_template"
    MAIN = "wizard_main"

    def __init__(self, server: PostgresServer, migrate: Migrator) -> None:
        self.server = server
        self._names = itertools.count(1)
        self._pristine: PgSnapshot | None = None
        server.create_database(self.TEMPLATE)
        migrate(server.url(self.TEMPLATE))
        # CREATE DATABASE … TEMPLATE fails while anyone is connected to the template, and
        # autovacuum would be, some time in a long run: no connection to it from now on.
        server.execute(
            f"ALTER DATABASE {self.TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        )

    def main(self, folder: Path) -> str:
        """The main database as the migrations left it: whatever the last test left is gone."""
        if self._pristine is None:
            self.server.create_database(self.MAIN, template=self.TEMPLATE)
            self._pristine = PgSnapshot(self.server.conninfo(self.MAIN), "pristine")
        self._pristine.end_other_connections()
        self._pristine.restore()
        return self.server.url(self.MAIN)

    def fresh(self, folder: Path, name: str) -> str:
        return self.server.create_database(f"t{next(self._names)}", template=self.TEMPLATE)

    def empty(self, folder: Path, name: str) -> str:
        return self.server.create_database(f"e{next(self._names)}", template="template0")

    def unreachable(self, folder: Path) -> str:
        """A URL that cannot be opened: a database that does not exist on the server."""
        return self.server.url(f"missing{next(self._names)}")

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        if name not in (self.MAIN, self.TEMPLATE):
            self.server.drop_database(name)

    @contextmanager
    def gone(self, url: str) -> Iterator[None]:
        """The database out of reach: every connection refused and the open ones ended, as
        when the database server goes away; then allowed again, untouched."""
        name = url.rsplit("/", 1)[1]
        self.server.execute(
            f"ALTER DATABASE {name} ALLOW_CONNECTIONS false",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
            f"WHERE datname = '{name}'",
        )
        try:
            yield
        finally:
            self.server.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")

    def ended(self, url: str) -> None:
        """Every open connection to the database at url ended by the server, as a restart or
        a failover ends them, and gone by the time this returns; new ones are welcome."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.server.conninfo("postgres"), autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
                f"WHERE datname = '{name}'"
            )
            for _ in range(200):  # the backends exit, closing their sockets, a moment later
                left = connection.execute(
                    f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
                ).fetchone()[0]
                if left == 0:
                    return
                time.sleep(0.025)
        raise AssertionError(f"connections to {name} still open after 5 s")

    def stored_bytes(self, url: str) -> bytes:
        """What the server has written to disk for the database at url (its files and the
        write-ahead log), after a checkpoint."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.server.conninfo(name), autocommit=True) as connection:
            connection.execute("CHECKPOINT")
            oid = connection.execute(
                "SELECT oid FROM pg_database WHERE datname = current_database()"
            ).fetchone()[0]
        data = self.server.data
        files = [*(data / "base" / str(oid)).iterdir(), *(data / "pg_wal").glob("0*")]
        return b"".join(p.read_bytes() for p in files if p.is_file())


class PgSnapshot:
    """Every table of a PostgreSQL database copied into a schema of its own; restore() puts
    each table and sequence back as it was. DELETE, not TRUNCATE: on tables this small it is
    several times quicker, and the whole restore is one round trip."""

    def __init__(self, conninfo: str, schema: str) -> None:
        import psycopg

        self.schema = schema
        self.conninfo = conninfo
        self.connection = psycopg.connect(conninfo, autocommit=True)
        listed = self.connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        )
        tables = [f'"{row[0]}"' for row in listed]
        sequences = self.connection.execute(
            "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences "
            "WHERE schemaname = 'public'"
        ).fetchall()
        with self.connection.transaction():
            self.connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            self.connection.execute(f"CREATE SCHEMA {schema}")
            for table in tables:
                self.connection.execute(f"CREATE TABLE {schema}.{table} AS TABLE {table}")
        positions = ", ".join(
            f"setval('{name}', {value or 1}, {str(called).lower()})"
            for name, value, called in sequences
        )
        # Table names come from the catalog.
        deletes = [f"DELETE FROM {t}" for t in tables]  # noqa: S608
        copies = [f"INSERT INTO {t} SELECT * FROM {schema}.{t}" for t in tables]  # noqa: S608
        # Rows go back in any order: foreign keys are not checked meanwhile.
        self.restore_sql = "; ".join(
            [
                "SET LOCAL session_replication_role = replica",
                *deletes,
                *copies,
                *([f"SELECT {positions}"] if positions else []),
            ]
        )

    def restore(self) -> None:
        with self._connected().transaction():
            self.connection.execute(self.restore_sql)

    def _connected(self):
        """This snapshot's connection, opened again if a test ended it (database.gone()).
        The server ends a connection without telling it: only using it shows that it is gone."""
        import psycopg

        if not (self.connection.closed or self.connection.broken):
            try:
                self.connection.execute("SELECT 1")
                return self.connection
            except psycopg.OperationalError:
                pass
        self.connection = psycopg.connect(self.conninfo, autocommit=True)
        return self.connection

    def end_other_connections(self) -> None:
        """A connection a previous test left open, mid-transaction, would hold locks."""
        self._connected().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    def rows(self, query: str) -> tuple[list[str], list[tuple]]:
        cursor = self.connection.execute(query)
        return [d.name for d in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.connection.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.connection.close()


class DatabaseSet:
    """One test's databases: main() for its app, fresh() and empty() for more, all dropped
    when the test ends."""

    def __init__(self, provider: SqliteDatabases | PostgresDatabases, folder: Path) -> None:
        self.provider = provider
        self.backend = provider.backend
        self.folder = folder
        self._made: list[str] = []
        self._names = itertools.count(1)

    def main(self) -> str:
        return self.provider.main(self.folder)

    def fresh(self) -> str:
        url = self.provider.fresh(self.folder, f"other-{next(self._names)}")
        self._made.append(url)
        return url

    def empty(self) -> str:
        url = self.provider.empty(self.folder, f"empty-{next(self._names)}")
        self._made.append(url)
        return url

    def unreachable(self) -> str:
        return self.provider.unreachable(self.folder)

    def gone(self, url: str):
        """with database.gone(url): the database at url cannot be reached, then is back."""
        return self.provider.gone(url)

    def ended(self, url: str) -> None:
        """PostgreSQL: the server ends every open connection to the database at url."""
        self.provider.ended(url)

    def stored_bytes(self, url: str) -> bytes:
        return self.provider.stored_bytes(url)

    def close(self) -> None:
        for url in self._made:
            self.provider.drop(url)
