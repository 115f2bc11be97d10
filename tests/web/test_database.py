"""Issue 2: the health check, init-db, and what the database itself enforces and keeps."""

import base64

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from wizard.extensions import db
from wizard.store.models import OathCredential, Prescriber, Token

# --- /healthz --------------------------------------------------------------------------------


def test_should_answer_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_should_answer_503_when_the_database_is_unreachable(make_app, database):
    app = make_app()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200

    with database.gone(app.config["SQLALCHEMY_DATABASE_URI"]):
        with app.app_context():
            db.engine.dispose()  # no pooled connection keeps the old one open
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["status"] != "ok"

    assert client.get("/healthz").status_code == 200, "healthy again once the database answers"


def test_should_replace_a_pooled_connection_the_database_server_ended(make_app, database):
    """Even one used a moment ago: a restart, a failover or pg_terminate_backend."""
    if database.backend == "sqlite":
        pytest.skip("a file has no server to end a connection")
    app = make_app()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # its connection now waits in the pool

    database.ended(app.config["SQLALCHEMY_DATABASE_URI"])

    assert client.get("/healthz").status_code == 200, "checked, found ended, replaced"
    assert client.get("/healthz").status_code == 200


def test_should_not_check_a_connection_the_server_has_said_nothing_on(
    make_app, database, monkeypatch
):
    """A round trip saved on each request: a silent socket is a live connection."""
    if database.backend == "sqlite":
        pytest.skip("a file has no server to end a connection")
    app = make_app()
    client = app.test_client()
    client.get("/healthz")
    with app.app_context():
        dialect = db.engine.dialect
    pings = []
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))

    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    assert pings == []


def test_should_start_and_answer_503_when_the_database_is_unreachable_from_the_start(
    make_app, database
):
    app = make_app(schema=False, WIZARD_DATABASE_URL=database.unreachable())

    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] != "ok"


# --- init-db ---------------------------------------------------------------------------------


def test_should_create_the_schema_and_be_safe_to_run_again(make_app, flask_cli):
    app = make_app(schema=False)

    first = flask_cli(app, "init-db")
    seeded = flask_cli(app, "sandbox", "seed")
    second = flask_cli(app, "init-db")

    assert first.exit_code == 0, first.output
    assert "Created" in first.output
    assert seeded.exit_code == 0, seeded.output
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "prescribers",
            "tokens",
            "audit_events",
            "oath_credentials",
            "invitations",
        } <= tables
        assert db.session.scalar(select(Prescriber.npi)) == "1234567893", "data survives"
        assert len(db.session.scalars(select(Token)).all()) == 2


# --- Credential IDs are unique among live tokens, across accounts ------------------------------


def add_prescriber(npi: str, name: str) -> Prescriber:
    prescriber = Prescriber(npi=npi, name=name, passphrase_hash=None)
    db.session.add(prescriber)
    db.session.flush()
    return prescriber


def add_token(prescriber: Prescriber, credential_id: str, nickname: str, status: str = "Active"):
    db.session.add(
        Token(
            prescriber_id=prescriber.id,
            nickname=nickname,
            nickname_key=nickname.casefold(),
            credential_id=credential_id,
            manufacturer="SYMANTEC",
            token_type="OTP SOFT TOKEN",
            model="VIP",
            status=status,
        )
    )
    db.session.commit()


@pytest.mark.parametrize("first_status", ["Active", "Inactive", "Lost"])
def test_cant_store_a_credential_id_twice_across_accounts(app, first_status):
    with app.app_context():
        alex = add_prescriber("1234567893", "Dr. Alex Demo")
        jordan = add_prescriber("1245319599", "Dr. Jordan Other")
        add_token(alex, "SYMC26070843", "Alex phone", first_status)

        with pytest.raises(IntegrityError):
            add_token(jordan, "SYMC26070843", "Jordan phone")
        db.session.rollback()

        assert len(db.session.scalars(select(Token)).all()) == 1


def test_cant_store_a_credential_id_twice_on_one_account(app):
    with app.app_context():
        alex = add_prescriber("1234567893", "Dr. Alex Demo")
        add_token(alex, "SYMC26070843", "Phone")
        with pytest.raises(IntegrityError):
            add_token(alex, "SYMC26070843", "Phone again")


def test_should_allow_a_credential_id_again_once_its_token_is_deleted(app):
    with app.app_context():
        alex = add_prescriber("1234567893", "Dr. Alex Demo")
        jordan = add_prescriber("1245319599", "Dr. Jordan Other")
        add_token(alex, "SYMC26070843", "Alex phone", "Deleted")
        add_token(jordan, "SYMC26070843", "Jordan phone", "Deleted")

        add_token(alex, "SYMC26070843", "Alex phone")

        statuses = sorted(
            db.session.scalars(
                select(Token.status).where(Token.credential_id == "SYMC26070843")
            ).all()
        )
        assert statuses == ["Active", "Deleted", "Deleted"]


def test_cant_revive_a_deleted_token_while_its_credential_is_live_elsewhere(app):
    with app.app_context():
        alex = add_prescriber("1234567893", "Dr. Alex Demo")
        jordan = add_prescriber("1245319599", "Dr. Jordan Other")
        add_token(alex, "SYMC26070843", "Alex phone", "Deleted")
        add_token(jordan, "SYMC26070843", "Jordan phone")

        old = db.session.scalar(select(Token).where(Token.status == "Deleted"))
        old.status = "Active"
        with pytest.raises(IntegrityError):
            db.session.commit()


# --- Seeds are encrypted at rest -------------------------------------------------------------


def database_bytes(app, database) -> bytes:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # SQLite: checkpoints the write-ahead log into the file
    return database.stored_bytes(app.config["SQLALCHEMY_DATABASE_URI"])


def test_should_store_token_seeds_encrypted(app, vip, database):
    credential = vip.issue()
    raw_secret = base64.b32decode(credential.secret)

    with app.app_context():
        row = db.session.execute(
            select(OathCredential.__table__).where(
                OathCredential.credential_id == credential.credential_id
            )
        ).one()
    for value in row:
        as_bytes = value if isinstance(value, bytes) else str(value).encode()
        assert credential.secret.encode() not in as_bytes
        assert credential.secret.lower().encode() not in as_bytes
        assert raw_secret not in as_bytes

    stored = database_bytes(app, database)
    assert credential.credential_id.encode() in stored
    assert credential.secret.encode() not in stored
    assert raw_secret not in stored


def test_cant_read_a_seed_with_another_key_or_on_another_row(app, vip):
    from cryptography.exceptions import InvalidTag

    from wizard.store.crypto import SeedCipher

    first, second = vip.issue(), vip.issue()
    with app.app_context():
        rows = {
            r.credential_id: r.sealed_secret
            for r in db.session.scalars(select(OathCredential)).all()
        }
    cipher = app.extensions["seed_cipher"]
    assert cipher.open(rows[first.credential_id], first.credential_id) == first.secret
    with pytest.raises(InvalidTag):
        SeedCipher.from_text(SeedCipher.new_key_text()).open(
            rows[first.credential_id], first.credential_id
        )
    with pytest.raises(InvalidTag):
        cipher.open(rows[first.credential_id], second.credential_id)


# --- Times are UTC, whatever the database server's zone ----------------------------------------


def test_should_store_times_as_utc_and_read_them_back_as_utc(app):
    """The tests' PostgreSQL server runs on America/Chicago: a time zone of the server must
    change neither what is stored nor what is read."""
    from datetime import UTC, datetime, timedelta, timezone

    eastern_afternoon = datetime(2025, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    with app.app_context():
        alex = add_prescriber("1234567893", "Dr. Alex Demo")
        alex.created_at = eastern_afternoon
        db.session.commit()
        stored = db.session.execute(
            text("SELECT created_at FROM prescribers WHERE id = :id"), {"id": alex.id}
        ).scalar_one()
        db.session.expire_all()
        read = db.session.get(Prescriber, alex.id).created_at

    assert str(stored).startswith("2025-03-03 15:00:00"), "stored as naive UTC"
    assert read == datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    assert read.tzinfo is UTC
