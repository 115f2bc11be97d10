"""The reads made before every page without SQLAlchemy's Connection or ORM (wizard.store.direct):
the same values as through the ORM, the same errors, and connections given back clean."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from signing import sign_in
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.exc import OperationalError
from support.accounts import account_maker

from wizard.extensions import db
from wizard.services import accounts
from wizard.store.direct import DirectRead
from wizard.store.models import Prescriber, Token, count_held_tokens
from wizard.store.sessions import DatabaseSessionStore


def test_should_read_what_the_orm_reads(app, make_account):
    account = make_account(("Active", "Inactive", "Deleted", "Lost"))
    with app.app_context():
        row = accounts.by_id(account.id)
        read = accounts.signed_in(account.id)
    assert read == accounts.SignedIn(
        id=row.id,
        name=row.name,
        npi=row.npi,
        session_generation=row.session_generation,
        held_tokens=3,  # a deleted token is not counted
    )


def test_should_find_nothing_for_an_unknown_prescriber(app):
    with app.app_context():
        assert accounts.signed_in(987654) is None


def test_should_convert_values_both_ways_as_sqlalchemy_does(app):
    """A datetime bound (a session's expiry) and bytes read back: a session saved through
    SQLAlchemy is found until the moment it expires, and read back byte for byte."""
    store = DatabaseSessionStore()
    at = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)  # a whole second: no microseconds
    with app.app_context():
        store.save("k" * 64, b"\x00\xffdata", at, timedelta(minutes=5))
        assert store.load("k" * 64, at + timedelta(minutes=4, seconds=59)).data == b"\x00\xffdata"
        assert store.load("k" * 64, at + timedelta(minutes=5)).data is None
        assert store.load("k" * 64, at + timedelta(minutes=5, microseconds=1)).data is None


def test_should_raise_sqlalchemys_error_when_the_database_is_away(make_app, database):
    app = make_app()
    with app.app_context():
        db.engine.dispose()
        with database.gone(app.config["SQLALCHEMY_DATABASE_URI"]):
            with pytest.raises(OperationalError):
                accounts.signed_in(1)
        db.engine.dispose()
        assert accounts.signed_in(987654) is None, "reads again once the database is back"


def test_should_show_the_outage_page_to_a_signed_in_prescriber(make_app, database, clock):
    app = make_app()
    client = app.test_client()
    sign_in(client, account_maker(app, clock)(), clock())
    assert client.get("/enroll/get-app").status_code == 200
    with app.app_context():
        db.engine.dispose()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an error becomes a page
    with database.gone(app.config["SQLALCHEMY_DATABASE_URI"]):
        response = client.get("/enroll/get-app")
        assert response.status_code == 503
        assert "cannot reach our database" in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
    assert client.get("/enroll/get-app").status_code == 200, "and the session is still there"


def test_should_take_a_new_connection_after_the_server_ended_the_pooled_one(make_app, database):
    if database.backend == "sqlite":
        pytest.skip("a file has no server to end a connection")
    app = make_app()
    with app.app_context():
        assert accounts.signed_in(987654) is None
        database.ended(app.config["SQLALCHEMY_DATABASE_URI"])
        assert accounts.signed_in(987654) is None


def test_should_give_the_connection_back_ready_for_a_transaction(app, make_account):
    """On PostgreSQL the read runs in autocommit: a connection left so would commit each
    statement of the next request at once, and a rollback would undo nothing."""
    account = make_account(("Active",))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # one connection in the pool, used by both below
        accounts.signed_in(account.id)
        db.session.execute(
            update(Prescriber).where(Prescriber.id == account.id).values(name="Changed")
        )
        db.session.rollback()
        assert db.session.scalar(select(Prescriber.name).where(Prescriber.id == account.id)) != (
            "Changed"
        )
        connection = db.session.connection().connection.driver_connection
        if db.engine.dialect.name == "postgresql":
            assert connection.autocommit is False


def test_should_run_on_the_driver_not_through_sqlalchemy(app, make_account):
    account = make_account(("Active",))
    ran = []
    read = DirectRead(select(Token.nickname, Token.status).where(Token.prescriber_id == -1))
    mine = DirectRead(select(Token.nickname).where(Token.prescriber_id == account.id))
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: ran.append(a))
        assert read.row(db.engine) is None
        assert mine.row(db.engine) == ("Token 1",)
        assert mine.row(db.engine) == ("Token 1",), "compiled once, run again"
    assert ran == []


def test_should_write_the_deleted_status_into_the_statement_not_bind_it(app):
    """SQLite plans a statement again at each run when a bound value decides whether a
    partial index applies; the token count is read before nearly every page."""
    with app.app_context():
        dialect = db.engine.dialect
    compiled = count_held_tokens(bindparam("id")).compile(dialect=dialect)
    assert "tokens.status != 'Deleted'" in compiled.string
    assert list(compiled.binds) == ["id"]


def test_should_keep_sql_parameters_out_of_the_error(make_app, database):
    """Errors reach the logs: a session id's hash or a prescriber id must not ride along."""
    app = make_app()
    with app.app_context():
        db.engine.dispose()
        with database.gone(app.config["SQLALCHEMY_DATABASE_URI"]):
            with pytest.raises(OperationalError) as raised:
                DatabaseSessionStore().load("s" * 64, datetime.now(UTC))
        db.engine.dispose()
    assert "s" * 64 not in str(raised.value)
    assert "[SQL parameters hidden" in str(raised.value)


def test_should_drop_a_connection_lost_during_the_read_and_report_why(make_app, database):
    if database.backend == "sqlite":
        pytest.skip("a file has no server to end a connection")
    app = make_app()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    armed = []

    def end_it(*_args):
        if armed:
            armed.clear()
            database.ended(url)  # after the pool's own check: the read meets a dead socket

    with app.app_context():
        assert accounts.signed_in(987654) is None
        event.listen(db.engine, "checkout", end_it)
        armed.append(True)
        with pytest.raises(OperationalError) as raised:
            accounts.signed_in(987654)
        event.remove(db.engine, "checkout", end_it)
        assert raised.value.connection_invalidated
        assert "the connection is lost" not in str(raised.value.orig), "the server's reason"
        assert accounts.signed_in(987654) is None, "a new connection for the next read"


def test_should_not_hand_one_prescribers_row_to_the_next_request_in_the_same_context(app, clock):
    """Requests made inside an app context already pushed share flask.g."""
    make = account_maker(app, clock)
    alice, bob = make(), make()
    first, second = app.test_client(), app.test_client()
    sign_in(first, alice, clock())
    sign_in(second, bob, clock())
    with app.app_context():
        assert alice.npi in first.get("/").get_data(as_text=True)
        page = second.get("/").get_data(as_text=True)
        db.session.remove()
    assert alice.npi not in page
    assert bob.npi in page


def test_should_read_the_prescriber_once_per_request(app, client, make_account, clock, monkeypatch):
    """A GET reads the snapshot directly; a POST loads the row it works on and takes the
    snapshot from it, never both."""
    sign_in(client, make_account(("Active",)), clock())
    client.get("/enroll/get-app")
    direct, rows = [], []
    real_direct, real_row = accounts.signed_in, accounts.by_id
    monkeypatch.setattr(
        accounts, "signed_in", lambda i, *mark: direct.append(i) or real_direct(i, *mark)
    )
    monkeypatch.setattr(accounts, "by_id", lambda i: rows.append(i) or real_row(i))

    assert client.get("/enroll/get-app").status_code == 200
    assert (len(direct), len(rows)) == (1, 0)
    direct.clear()
    page = client.get("/enroll/get-app").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    direct.clear()
    posted = client.post(
        "/enroll/get-app", data={"csrf_token": token, "platform": "iphone", "different_device": "y"}
    )
    assert posted.status_code == 303
    assert (len(direct), len(rows)) == (0, 1)
