"""The EPCS token enrollment wizard."""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from wizard.authority.local import LocalOathAuthority
from wizard.authority.router import Authorities
from wizard.config import ConfigError, from_environment
from wizard.domain import hashing
from wizard.extensions import csrf, db, htmx, limiter
from wizard.store.connections import check_when_spoken_to
from wizard.store.crypto import SeedCipher
from wizard.store.sessions import WAL, DatabaseSessionStore, RedisSessionStore
from wizard.store.snapshots import SnapshotCache

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
    from wizard.web.jinja import PageEnvironment

    app.jinja_environment = PageEnvironment
    app.config.update(from_environment(app.instance_path, environ))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # __Host-: only this host, over HTTPS, may set it (no session id planted by a sibling).
        SESSION_COOKIE_NAME=(
            "__Host-wizard_session"
            if app.config["WIZARD_ENV"] == "production"
            else "wizard_session"
        ),
        SESSION_PERMANENT=True,
        # Store a session only when a request changed it: a request that merely read it (a
        # static file, the practice app's poll) must not write back what it read over a change
        # another request made meanwhile (a lost update: wizard progress gone).
        SESSION_REFRESH_EACH_REQUEST=False,
        # hide_parameters: SQL logs and errors never show values (session ids, hashes).
        # Connections are checked before use only when the server has spoken (store/connections.py).
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False, "hide_parameters": True},
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server session
        CLOCK=utcnow,
    )
    if test_config:
        app.config.update(test_config)
    configure_logging(app)
    _recent_enough_sqlite(app.config["SQLALCHEMY_DATABASE_URI"])
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        # The client's address (limits, lock counts, audit) and scheme from that many proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file has no server to end the connection: only a server's are checked.
        with app.app_context():
            check_when_spoken_to(db.engine)
    app.cli = Commands(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    app.session_interface = _session_interface(app)

    cipher = SeedCipher.from_text(app.config["SEED_KEY"])
    app.extensions["seed_cipher"] = cipher
    app.extensions["token_authority"] = Authorities(LocalOathAuthority(cipher), _vip(app))
    # argon2id at 7 MiB x 7 passes (wizard/domain/hashing.py): at least as strong as OWASP's
    # 19 MiB x 2, and 12 MiB less at each sign-in in every worker.
    hasher = hashing.new_hasher(cheap=app.config.get("ARGON2_CHEAP", False))
    app.extensions["password_hasher"] = hasher
    _give_back_large_blocks()
    # Verified against when an NPI is unknown, so both paths cost the same; made without
    # hashing anything, so a worker starts without argon2's block.
    app.extensions["dummy_passphrase_hash"] = hashing.unknown_hash(hasher)

    from wizard import web

    web.init_app(app)
    return app


class Commands(AppGroup):
    """`flask --app wizard ...`: the commands (wizard/cli/, and Flask-Migrate's `db`) are
    imported when the command line first asks for one. A web worker never does, and so never
    loads Alembic, Mako, lxml, requests or the certificate tools (about 20 MB each worker)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.cli.name)
        self.commands.update(app.cli.commands)
        self._app = app
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from wizard import cli
        from wizard.store.schema import init_migrations

        init_migrations(self._app)
        cli.init_app(self._app)

    def get_command(self, ctx, name):
        self._load()
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)


def _give_back_large_blocks() -> None:
    """Each argon2 hash takes a block of its memory cost (7 MiB). Once glibc has freed one
    such mapped block it raises its mmap threshold and serves the next from the heap, which
    keeps the memory after the hash is done: with a fixed threshold every worker gives the
    block back each time."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: nothing to tune
    m_mmap_threshold = -3
    libc.mallopt(m_mmap_threshold, 1024 * 1024)


def _vip(app: Flask):
    """The VIP authority when WIZARD_VIP_URL is set; otherwise every code is checked here."""
    if not app.config.get("VIP_URL"):
        return None
    from wizard.authority.vip import VipAuthority, VipSettings
    from wizard.authority.vip.transport import Transport
    from wizard.store.holders import vip_user_id

    settings = VipSettings(
        url=app.config["VIP_URL"],
        cert=app.config["VIP_CERT"],
        key=app.config["VIP_KEY"],
        ca=app.config["VIP_CA"],
        timeout=app.config["VIP_TIMEOUT"],
    )
    return VipAuthority(Transport(settings), vip_user_id)


def _session_interface(app: Flask):
    """Server-side sessions in Redis (several app servers) or else in our database."""
    from wizard.web.server_session import ServerSessionInterface

    redis_url = app.config.get("SESSION_REDIS_URL")
    if not redis_url:
        return ServerSessionInterface(DatabaseSessionStore())
    store = RedisSessionStore(redis_url)
    app.extensions["snapshots"] = SnapshotCache(store.client)
    return ServerSessionInterface(store)


class RedactSetupLinks(logging.Filter):
    """Request logs name the path; a help-desk setup link's path holds a one-time token. Any
    way of writing the path that still reaches the setup page (percent-encoded, doubled
    slashes, another case) is caught: the value is matched decoded."""

    PATTERN = re.compile(r"(/helpdesk/+setup/)[^\s?\"]+", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        # gunicorn's access log passes one mapping of fields (logging unpacks it into args).
        if isinstance(record.args, dict):
            record.args = {k: self._redact(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(self._redact(a) for a in record.args)
        record.msg = self._redact(record.msg)
        return True

    def _redact(self, value):
        if not isinstance(value, str):
            return value
        decoded = unquote(value) if "%" in value else value
        if decoded != value and self.PATTERN.search(decoded):
            value = decoded  # logged decoded, so that the token can be cut out
        return self.PATTERN.sub(r"\1[redacted]", value)


class DropResultRows(logging.Filter):
    """SQLAlchemy at DEBUG logs every result row: passphrase hashes, sealed seeds, session
    data with its CSRF token. Statements stay (their parameters are hidden); rows never."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(("Row ", "CursorResult")))


def _add_filter(name: str, kind: type[logging.Filter]) -> None:
    logger = logging.getLogger(name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())


def configure_logging(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("werkzeug", "gunicorn.access"):
        _add_filter(name, RedactSetupLinks)
    _add_filter("sqlalchemy.engine.Engine", DropResultRows)


SQLITE_NEEDED = (3, 35)  # UPDATE ... RETURNING (the lock counters, the audit head)


def _recent_enough_sqlite(uri: str) -> None:
    """Refuse to start on a SQLite too old for our statements, rather than fail a code check."""
    if make_url(uri).get_backend_name() != "sqlite":
        return
    if sqlite3.sqlite_version_info < SQLITE_NEEDED:
        raise ConfigError(
            f"WIZARD_DATABASE_URL: SQLite {'.'.join(map(str, SQLITE_NEEDED))} or later is "
            f"needed, and this Python has {sqlite3.sqlite_version}; use PostgreSQL or a newer "
            "Python build."
        )


def _private_sqlite_file(uri: str) -> None:
    """A SQLite database file readable by its owner only (0600), made so before SQLite first
    opens it: SQLite gives its -wal and -shm files the database file's permissions."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if not path.parent.is_dir():
        return  # SQLite will refuse it with its own message
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another worker made it first
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if stat.S_IMODE(each.stat().st_mode) & 0o077:
                each.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on, and WAL so readers don't block the writer."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Whether WAL took (a file system without shared memory refuses it): only in WAL mode may
    # a session be saved without waiting for the disk (wizard/store/sessions.py).
    mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    connection_record.info[WAL] = str(mode).lower() == "wal"
    cursor.close()
