"""What-if, for bench/run.py only: the wizard exactly as shipped, except that SQLite commits
without waiting for the disk (PRAGMA synchronous=NORMAL, which in WAL mode keeps the database
consistent through a crash of the app or the OS, but may lose the last commits on power loss).

It shows how much of the wizard's time under load is the one fsync per request: every GET
rewrites the server-side session (its idle timestamp), and a code check also writes the lock
counter and an audit event. It is not a recommendation made by running it; see
docs/PERFORMANCE.md.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from wizard import create_app as create_wizard


@event.listens_for(Engine, "connect")
def _commit_without_fsync(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_app() -> Flask:
    return create_wizard()
