"""A pooled connection is checked before use only when the server has said something.

A check at every checkout (SQLAlchemy's pool_pre_ping) costs a round trip on every request.
An idle connection's socket stays silent until the server ends it (a restart, a failover,
pg_terminate_backend, an idle timeout: each closes the socket) or sends a notice; then it
turns readable. So a readable socket is checked with a round trip, and a silent one is used
as it is. A connection the server could not close (its machine gone without a word) would
not answer a check either: both ways wait for TCP to give up.
"""

from __future__ import annotations

import select

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine


def server_spoke(dbapi_connection) -> bool:
    """True when the connection's socket has something to read (or is closed)."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no socket to look at: let the check find out
    return bool(readable)


def check_when_spoken_to(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, proxy) -> None:
        if not server_spoke(dbapi_connection):
            return
        dialect = engine.dialect
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this connection and makes a new one for the request.
                raise exc.DisconnectionError(str(error)) from error
            raise
        if not alive:
            raise exc.DisconnectionError("the database did not answer the check")
