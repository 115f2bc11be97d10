"""A pooled connection is checked before use only after it has stood idle.

A check at every checkout (SQLAlchemy's pool_pre_ping) costs a round trip on every request.
A connection the database ended (a restart, a failover, an idle timeout) has stood idle in
the pool at least as long as the database was away, so checking only those that stood idle
longer than a second catches them, and a busy worker's requests go without.
"""

from __future__ import annotations

from time import monotonic

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_SINCE = "idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _made(dbapi_connection, record) -> None:
        record.info[IDLE_SINCE] = monotonic()  # just made: nothing to check

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, proxy) -> None:
        since = record.info.get(IDLE_SINCE)
        if since is not None and monotonic() - since < idle_seconds:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this connection and makes a new one for the request.
                raise exc.DisconnectionError(str(error)) from error
            raise
