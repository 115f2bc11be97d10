"""The database schema: Alembic revisions in migrations/, run through Flask-Migrate.

`flask --app wizard db upgrade` (or its older name `init-db`) brings any earlier database to
the newest revision. A database made by `init-db` before migrations existed has no
alembic_version table: it is recognized by its tables and recorded as BASELINE, the
revision whose schema it has, before the later revisions run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from wizard.extensions import db
from wizard.store import snapshots

log = logging.getLogger("wizard.schema")

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

BASELINE = "0001"  # the schema of the last release without migrations (commit 12be53a)
# Any number will do, as long as nothing else takes this PostgreSQL advisory lock.
_MIGRATION_LOCK = 0x77697A64


@dataclass(frozen=True)
class Upgrade:
    before: tuple[str, ...]  # the revisions the database had (none: new, or made by init-db)
    after: tuple[str, ...]
    new: bool  # the database held none of our tables

    @property
    def changed(self) -> bool:
        return self.before != self.after


def init_migrations(app: Flask) -> None:
    """Flask-Migrate (its `flask db` commands and our upgrade): loaded by the command line and
    by schema changes only, never in a web worker (with Alembic and Mako it weighs 12 MB)."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    # render_as_batch: SQLite alters a table by copying it, which Alembic's batch mode does.
    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)


def _config():
    init_migrations(current_app)
    return current_app.extensions["migrate"].migrate.get_config()


def current_revisions(connection: Connection | None = None) -> tuple[str, ...]:
    if connection is None:
        with db.engine.connect() as fresh:
            return current_revisions(fresh)
    return tuple(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(_config()).get_heads())


def upgrade(revision: str = "head") -> Upgrade:
    """Run the revisions up to revision (call inside an app context)."""
    with db.engine.connect() as connection:
        before = current_revisions(connection)
        new = not inspect(connection).has_table("prescribers")
    command.upgrade(_config(), revision)
    snapshots.replace_mark()  # a revision may change what the app servers keep in memory
    return Upgrade(before, current_revisions(), new)


def stamp(revision: str = "head") -> None:
    """Record revision without running anything: for a schema made from the models."""
    command.stamp(_config(), revision)


# --- Called from migrations/env.py ----------------------------------------------------------


def hold_migration_lock(connection: Connection) -> None:
    """On PostgreSQL, one migration at a time: two servers upgrading at once wait in turn
    (the lock ends with the transaction). SQLite locks the whole file on the first write."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def adopt_unversioned(migration_context: MigrationContext, script: ScriptDirectory) -> None:
    """A database made by init-db before migrations gets BASELINE recorded, so that only the
    revisions after it run."""
    if migration_context.as_sql or migration_context.get_current_heads():
        return
    if not inspect(migration_context.connection).has_table("prescribers"):
        return
    log.info("Database made before migrations: recording revision %s, the schema it has.", BASELINE)
    # Committed with the revisions that follow where DDL is transactional (PostgreSQL), at
    # once where it is not (SQLite).
    with migration_context.begin_transaction(_per_migration=True):
        migration_context.stamp(script, BASELINE)


def ignored(app: Flask, obj, name, type_, reflected, compare_to) -> bool:
    """What the comparison with the models leaves out: the session table when this app keeps
    its sessions in Redis (the table is then not among the models, yet stays in the schema)."""
    return (
        type_ == "table"
        and reflected
        and compare_to is None
        and name == app.config.get("SESSION_SQLALCHEMY_TABLE")
    )
