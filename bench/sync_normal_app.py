"""What-if, for the bench only: the wizard exactly as shipped, except that every SQLite
commit goes without waiting for the disk (PRAGMA synchronous=NORMAL), records included. As
shipped, only sessions are written so (wizard/store/sessions.py); a code check's records wait.

In WAL mode NORMAL keeps the database consistent through a crash of the app or the OS, but a
power cut may lose the last commits. It shows how much of the code POST's time under load is
the wait for the disk; it is not a recommendation made by running it (docs/PERFORMANCE.md).
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
