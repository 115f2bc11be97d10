"""Server-side sessions in our database, through Flask-Session."""

from __future__ import annotations

import hashlib

from flask import Flask, has_request_context, request
from flask_session.base import ServerSideSessionInterface
from flask_session.defaults import Defaults
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from flask_session.sqlalchemy.sqlalchemy import create_session_model
from flask_sqlalchemy import SQLAlchemy


class DatabaseSessions(SqlAlchemySessionInterface):
    """Flask-Session's database store, except that its table is made with the rest of the
    schema (init-db) instead of at start-up: the app then starts, and answers 503, while its
    database is down, and a second app in one process does not declare the table twice."""

    def __init__(self, app: Flask, client: SQLAlchemy, table: str):
        self.app = app
        self.client = client
        existing = client.metadata.tables.get(table)
        if existing is not None:
            client.metadata.remove(existing)
        self.sql_session_model = create_session_model(client, table)
        ServerSideSessionInterface.__init__(
            self,
            app,
            key_prefix=Defaults.SESSION_KEY_PREFIX,
            permanent=True,
            sid_length=Defaults.SESSION_ID_LENGTH,
            serialization_format=Defaults.SESSION_SERIALIZATION_FORMAT,
        )

    def should_set_storage(self, app: Flask, session) -> bool:
        """The practice app pages (/sandbox/) stand in for the prescriber's phone and poll every
        second from a tab of the same browser: their requests never write the session, or one
        that started before a wizard step's post would put the old progress back."""
        if has_request_context() and request.path.startswith("/sandbox/"):
            return False
        return super().should_set_storage(app, session)

    def _get_store_id(self, sid: str) -> str:
        """Rows are keyed by a hash of the id: the table (and any SQL log of it) never holds
        an id that would open a live session."""
        return self.key_prefix + hashlib.sha256(sid.encode()).hexdigest()
