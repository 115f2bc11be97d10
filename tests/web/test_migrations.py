"""Migrations (issue 13): `flask --app wizard db upgrade` brings any earlier database to the
newest schema, and the schema the migrations build is the one the models describe.

The previous release (commit 12be53a, before migrations) is in tests/data/release-12be53a:
its database as SQL, made by its own init-db and routes (make_fixture.py says how), holding
the demo prescriber, a token added with the wizard, a deleted token, an invitation, a
help-desk agent, the audit events of all that and a signed-in session.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from signing import post
from sqlalchemy import create_engine, inspect, select, text, update
from support.pages import page_text

from wizard.extensions import db
from wizard.store import schema
from wizard.store.crypto import SeedCipher
from wizard.store.models import AuditEvent, Prescriber, Token

RELEASE = Path(__file__).resolve().parents[1] / "data" / "release-12be53a"


def load_previous_release(database, backend: str) -> tuple[str, dict]:
    """An empty database filled by the previous release's dump; its URL and facts."""
    url = database.empty()
    dump = (RELEASE / f"{backend}.sql").read_text()
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.executescript(dump)
        connection.close()
    else:
        import psycopg

        conninfo = database.provider.server.conninfo(url.rsplit("/", 1)[1])
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(dump)
    return url, json.loads((RELEASE / f"{backend}.json").read_text())


def release_app(make_app, url: str, facts: dict):
    return make_app(
        schema=False,
        WIZARD_DATABASE_URL=url,
        WIZARD_SECRET_KEY=facts["secret_key"],
        WIZARD_SEED_KEY=facts["seed_key"],
    )


def test_should_upgrade_a_database_of_the_previous_release_and_keep_its_data(
    database, make_app, flask_cli, clock
):
    url, facts = load_previous_release(database, database.backend)
    app = release_app(make_app, url, facts)
    with app.app_context():
        events_before = db.session.scalar(select(db.func.count(AuditEvent.id)))

    upgraded = flask_cli(app, "db", "upgrade")

    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context():
        assert schema.current_revisions() == schema.head_revisions()
        prescriber = db.session.scalar(select(Prescriber).where(Prescriber.npi == facts["npi"]))
        assert prescriber is not None and prescriber.name == "Dr. Alex Demo"
        tokens = {t.credential_id: (t.nickname, t.status) for t in prescriber.tokens}
        added = facts["added_token"]
        assert tokens[added["credential_id"]] == (added["nickname"], "Active")
        assert tokens[facts["deleted_token"]][1] == "Deleted"
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == events_before
    verified = flask_cli(app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"Checked {events_before} events in the audit log" in verified.output


def test_should_keep_a_session_and_sign_ins_working_after_the_upgrade(
    database, make_app, flask_cli, clock
):
    url, facts = load_previous_release(database, database.backend)
    app = release_app(make_app, url, facts)
    assert flask_cli(app, "db", "upgrade").exit_code == 0
    made_at = datetime.fromisoformat(facts["at"])
    clock.now = made_at + timedelta(minutes=2)
    with app.app_context():
        # The stored session's expiry is wall-clock time at the fixture's making: move it on.
        table = db.metadata.tables["server_sessions"]
        db.session.execute(update(table).values(expiry=datetime.now() + timedelta(hours=1)))
        db.session.commit()

    kept = app.test_client()
    kept.set_cookie("wizard_session", facts["session_id"])
    page = kept.get("/tokens")
    assert page.status_code == 200, "the session made before the upgrade is still signed in"
    assert facts["added_token"]["nickname"] in page_text(page)

    fresh = app.test_client()
    with app.app_context():
        token_id = db.session.scalar(
            select(Token.id).where(Token.credential_id == facts["sign_in_token"]["credential_id"])
        )
    first = post(fresh, "/sign-in", {"npi": facts["npi"], "passphrase": facts["passphrase"]})
    assert first.headers.get("Location") == "/sign-in/code", page_text(first)[:500]
    code = pyotp.TOTP(facts["sign_in_token"]["secret"]).at(clock())
    second = post(fresh, "/sign-in/code", {"token": token_id, "code": code})
    assert second.headers.get("Location") == "/", page_text(second)[:500]
    verified = flask_cli(app, "audit", "verify")
    assert verified.exit_code == 0, "events written after the upgrade continue the chain"


def test_should_run_only_the_missing_revisions_when_upgraded_again(database, make_app, flask_cli):
    url, facts = load_previous_release(database, database.backend)
    app = release_app(make_app, url, facts)
    assert flask_cli(app, "db", "upgrade").exit_code == 0

    again = flask_cli(app, "init-db")

    assert again.exit_code == 0, again.output
    assert "up to date" in again.output


# --- The schema itself ------------------------------------------------------------------------


def describe(url: str) -> dict:
    """A database's schema as comparable values: columns, keys, constraints, indexes (with a
    partial index's condition, read from the catalog)."""
    engine = create_engine(url)
    try:
        found = {}
        with engine.connect() as connection:
            found["index definitions"] = _index_definitions(connection)
            reader = inspect(connection)
            for table in sorted(set(reader.get_table_names()) - {"alembic_version"}):
                found[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in reader.get_columns(table)
                    ],
                    "primary key": reader.get_pk_constraint(table)["constrained_columns"],
                    "foreign keys": sorted(
                        (tuple(f["constrained_columns"]), f["referred_table"])
                        for f in reader.get_foreign_keys(table)
                    ),
                    "unique": sorted(
                        tuple(u["column_names"]) for u in reader.get_unique_constraints(table)
                    ),
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in reader.get_indexes(table)
                    ),
                }
        return found
    finally:
        engine.dispose()


def _index_definitions(connection) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        )
    else:
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        )
    return {name: re.sub(r"\s+", " ", sql) for name, sql in rows}


def test_should_build_with_the_first_revision_the_schema_of_the_previous_release(
    database, make_app
):
    previous, _ = load_previous_release(database, database.backend)
    app = make_app(schema=False)

    with app.app_context():
        schema.upgrade(schema.BASELINE)
        built = app.config["SQLALCHEMY_DATABASE_URI"]
        db.engine.dispose()

    assert describe(built) == describe(previous)


def test_should_build_with_the_migrations_the_schema_of_the_models(database, make_app):
    migrated = make_app(schema=False)
    from_models = make_app(schema=False)
    with migrated.app_context():
        schema.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_object": _include(migrated)},
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    with from_models.app_context():
        db.create_all()
        db.engine.dispose()

    assert differences == [], "a model changed without a migration: flask --app wizard db migrate"
    assert describe(migrated.config["SQLALCHEMY_DATABASE_URI"]) == describe(
        from_models.config["SQLALCHEMY_DATABASE_URI"]
    )


def _include(app):
    def include(obj, name, type_, reflected, compare_to) -> bool:
        return not schema.ignored(app, obj, name, type_, reflected, compare_to)

    return include


def test_should_downgrade_every_revision_and_upgrade_again(make_app, flask_cli):
    app = make_app(schema=False)
    assert flask_cli(app, "db", "upgrade").exit_code == 0

    down = flask_cli(app, "db", "downgrade", "base")

    assert down.exit_code == 0, down.output
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    up = flask_cli(app, "db", "upgrade")
    assert up.exit_code == 0, up.output
    with app.app_context():
        assert schema.current_revisions() == schema.head_revisions()


def test_two_servers_upgrading_one_database_at_once_both_succeed(database, make_app):
    if database.backend == "sqlite":
        pytest.skip("SQLite serves one app server; PostgreSQL is where several start at once")
    url = database.empty()
    environ = {
        **os.environ,
        "WIZARD_DATABASE_URL": url,
        "WIZARD_SECRET_KEY": "two-servers-upgrading-at-once",
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
    }
    command = [sys.executable, "-m", "flask", "--app", "wizard", "db", "upgrade"]
    runs = [
        subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Running upgrade  -> 0001" in output for output in outputs) == 1, outputs
    app = make_app(schema=False, WIZARD_DATABASE_URL=url)
    with app.app_context():
        assert schema.current_revisions() == schema.head_revisions()
        assert db.session.scalar(text("SELECT COUNT(*) FROM audit_head")) == 1
