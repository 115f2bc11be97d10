"""The EPCS token enrollment wizard."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher, profiles
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from wizard.authority.local import LocalOathAuthority
from wizard.config import from_environment
from wizard.extensions import csrf, db, htmx, limiter, migrate, server_session
from wizard.store.crypto import SeedCipher
from wizard.store.sessions import DatabaseSessions

ROOT = Path(__file__).resolve().parent.parent


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(test_config: dict | None = None, environ: dict | None = None) -> Flask:
    """Build the application. Settings come from WIZARD_* variables, then test_config."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(from_environment(app.instance_path, environ))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="wizard_session",
        SESSION_PERMANENT=True,
        # Store a session only when a request changed it: a request that merely read it (a
        # static file, the practice app's poll) must not write back what it read over a change
        # another request made meanwhile (a lost update: wizard progress gone).
        SESSION_REFRESH_EACH_REQUEST=False,
        # hide_parameters: SQL logs and errors never show values (session ids, hashes).
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "hide_parameters": True},
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server session
        CLOCK=utcnow,
    )
    if test_config:
        app.config.update(test_config)
    _configure_session_store(app)
    configure_logging(app)

    db.init_app(app)
    # render_as_batch: SQLite alters a table by copying it, which Alembic's batch mode does.
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    if app.config.get("SESSION_REDIS_URL"):
        server_session.init_app(app)
    else:
        app.session_interface = DatabaseSessions(app, db, app.config["SESSION_SQLALCHEMY_TABLE"])

    cipher = SeedCipher.from_text(app.config["SEED_KEY"])
    app.extensions["seed_cipher"] = cipher
    app.extensions["token_authority"] = LocalOathAuthority(cipher)
    hasher = (
        PasswordHasher.from_parameters(profiles.CHEAPEST)
        if app.config.get("ARGON2_CHEAP")  # tests only: hashing speed, not strength
        # argon2id with OWASP's parameters (19 MiB, 2 passes): strong, and light enough on
        # memory for several workers per host.
        else PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    )
    app.extensions["password_hasher"] = hasher
    # Verified against when an NPI is unknown, so both paths cost the same.
    app.extensions["dummy_passphrase_hash"] = hasher.hash("not anyone's passphrase")

    from wizard import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app


def _configure_session_store(app: Flask) -> None:
    """Redis (several app servers) through Flask-Session; else our database store."""
    redis_url = app.config.get("SESSION_REDIS_URL")
    if redis_url:
        import redis

        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(redis_url))
    app.config.setdefault("SESSION_SQLALCHEMY_TABLE", "server_sessions")


class RedactSetupLinks(logging.Filter):
    """Request logs name the path; a help-desk setup link's path holds a one-time token."""

    PATTERN = re.compile(r"(/helpdesk/setup/)[^\s?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        # gunicorn's access log passes one mapping of fields (logging unpacks it into args).
        if isinstance(record.args, dict):
            record.args = {k: self._redact(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(self._redact(a) for a in record.args)
        record.msg = self._redact(record.msg)
        return True

    def _redact(self, value):
        return self.PATTERN.sub(r"\1[redacted]", value) if isinstance(value, str) else value


def configure_logging(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSetupLinks) for f in logger.filters):
            logger.addFilter(RedactSetupLinks())


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on, and WAL so readers don't block the writer."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
