"""Where server-side sessions are kept: a table of our database, or Redis.

Both stores hold opaque bytes under a key made from the cookie's id (`store_key`): the table,
Redis and any log of them never hold an id that would open a live session. What a session
holds and when it ends is decided above this layer (wizard.web.server_session).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection

from wizard.extensions import db
from wizard.store.direct import DirectRead
from wizard.store.models import StoredSession
from wizard.store.snapshots import MARK_KEY, new_mark
from wizard.store.upsert import insert_for

KEY_PREFIX = "session:"
WAL = "wal"  # a pooled SQLite connection's info: whether it runs in WAL mode
PURGE_BATCH = 500


def _naive(moment: datetime) -> datetime:
    """The table keeps naive UTC times, as Flask-Session wrote them."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def store_key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class Loaded(NamedTuple):
    data: bytes | None  # None: no such session, or expired
    mark: str | None = None  # the prescribers' change mark read with it (store.snapshots)


class SessionStore(Protocol):
    def load(self, key: str, now: datetime) -> Loaded: ...

    def save(self, key: str, data: bytes, now: datetime, lifetime: timedelta) -> None: ...

    def delete(self, *keys: str) -> None: ...

    def purge(self, now: datetime) -> int: ...

    def ping(self) -> None: ...


@contextmanager
def _without_waiting_for_the_disk(connection: Connection) -> Iterator[None]:
    """On SQLite in WAL mode, the transaction inside commits with synchronous=NORMAL: a power
    cut may lose the last sessions written (their holders sign in again), as a Redis store
    may, but never a record, whose commit still waits and carries every earlier frame of the
    log to the disk with it. (Outside WAL mode NORMAL could corrupt: left as it is.) Set on the
    driver's connection outside any transaction, and put back before the connection returns
    to the pool; a connection that cannot be put back is dropped, never pooled."""
    if connection.dialect.name != "sqlite" or not connection.info.get(WAL):
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        try:
            driver.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error:
            connection.invalidate()


class DatabaseSessionStore:
    """The `server_sessions` table. Reading is a direct read (wizard.store.direct); writing
    takes a short transaction of its own, so that saving a session never commits the
    request's unit of work."""

    table = StoredSession.__table__
    by_key = DirectRead(
        select(table.c.data).where(
            table.c.session_id == bindparam("key"), table.c.expiry > bindparam("now")
        )
    )

    def load(self, key: str, now: datetime) -> Loaded:
        # Read on every request, before anything else: straight on a pooled connection.
        found = self.by_key.row(db.engine, key=key, now=_naive(now))
        return Loaded(None if found is None else found[0])

    @staticmethod
    def _release_request_connection() -> None:
        """Give the request's connection back before taking one to write: a request must
        never hold two, or enough parallel requests would wait on each other for the pool.
        What the request left uncommitted is dropped at its teardown anyway."""
        db.session.close()

    def save(self, key: str, data: bytes, now: datetime, lifetime: timedelta) -> None:
        values = {"session_id": key, "data": data, "expiry": _naive(now + lifetime)}
        self._release_request_connection()
        with db.engine.connect() as connection, _without_waiting_for_the_disk(connection):
            with connection.begin():
                self._upsert(connection, key, data, values)

    def _upsert(self, connection: Connection, key: str, data: bytes, values: dict) -> None:
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            connection.execute(
                self._upsert_statement(dialect),
                {"key": key, "blob": data, "until": values["expiry"]},
            )
            return
        found = connection.execute(
            update(self.table).where(self.table.c.session_id == key).values(values)
        )
        if found.rowcount == 0:
            connection.execute(self.table.insert().values(values))

    _upserts: dict = {}  # by dialect: built once, as building one costs more than its run

    @classmethod
    def _upsert_statement(cls, dialect: str):
        statement = cls._upserts.get(dialect)
        if statement is None:
            insert = insert_for(dialect, cls.table).values(
                session_id=bindparam("key"), data=bindparam("blob"), expiry=bindparam("until")
            )
            statement = cls._upserts[dialect] = insert.on_conflict_do_update(
                index_elements=["session_id"],
                set_={"data": insert.excluded.data, "expiry": insert.excluded.expiry},
            )
        return statement

    def delete(self, *keys: str) -> None:
        self._release_request_connection()
        with db.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.session_id.in_(keys)))

    def purge(self, now: datetime) -> int:
        """Delete expired rows, PURGE_BATCH at a time (each batch a short transaction, so
        sign-ins never wait long behind it); the number deleted."""
        expired = (
            select(self.table.c.id).where(self.table.c.expiry <= _naive(now)).limit(PURGE_BATCH)
        ).scalar_subquery()
        total = 0
        self._release_request_connection()
        while True:
            with db.engine.begin() as connection:
                deleted = connection.execute(
                    delete(self.table).where(self.table.c.id.in_(expired))
                ).rowcount
            total += deleted
            if deleted < PURGE_BATCH:
                return total

    def ping(self) -> None:
        """Nothing beyond the database, which the health check reads first."""


class RedisSessionStore:
    """Redis: each session one key that Redis itself expires (SET with EX). A session is read
    with the prescribers' change mark, in one round trip (wizard.store.snapshots)."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def load(self, key: str, now: datetime) -> Loaded:
        data, mark = self.client.mget(key, MARK_KEY)
        if mark is None and data is not None:
            mark = self._first_mark()
        return Loaded(data, None if mark is None else mark.decode())

    def _first_mark(self) -> bytes | None:
        """Set a mark where there is none (a new or emptied Redis); None if another process
        set one meanwhile (its value unknown here: nothing is kept this time)."""
        mark = new_mark().encode()
        return mark if self.client.set(MARK_KEY, mark, nx=True) else None

    def save(self, key: str, data: bytes, now: datetime, lifetime: timedelta) -> None:
        self.client.set(key, data, ex=max(1, int(lifetime.total_seconds())))

    def delete(self, *keys: str) -> None:
        self.client.delete(*keys)

    def purge(self, now: datetime) -> int:
        return 0  # Redis drops expired keys itself

    def ping(self) -> None:
        self.client.ping()
