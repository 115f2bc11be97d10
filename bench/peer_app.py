"""The peer, for the bench only: Flask-Security-Too with two-factor sign-in by an
authenticator app, set up as its documentation's basic SQLAlchemy application shows, with
its defaults otherwise (its password hashing, Flask's cookie sessions), over SQLite.

Served by `python -m bench` under the same gunicorn settings as the wizard, from a virtual
environment of its own (bench/peer-requirements.txt): never a dependency of the wizard.

    PEER_DATABASE=/tmp/peer.sqlite3 python bench/peer_app.py seed 8   # users, once
    gunicorn --chdir bench 'peer_app:create_app()'
"""

from __future__ import annotations

import os
import sys

from flask import Flask
from flask_security import Security, SQLAlchemyUserDatastore, hash_password
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy

PASSWORD = "peer bench lantern 73"  # noqa: S105 - the bench users' password
db = SQLAlchemy()
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    pass


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["PEER_SECRET_KEY"],
        SECURITY_PASSWORD_SALT=os.environ["PEER_SALT"],
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.environ['PEER_DATABASE']}",
        SECURITY_TWO_FACTOR=True,
        SECURITY_TWO_FACTOR_ENABLED_METHODS=["authenticator"],
        SECURITY_TOTP_SECRETS={"1": os.environ["PEER_TOTP_SECRET"]},
        SECURITY_TOTP_ISSUER="Peer bench",
    )
    db.init_app(app)
    app.security = Security(app, SQLAlchemyUserDatastore(db, User, Role))

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def seed(count: int) -> None:
    app = create_app()
    with app.app_context():
        db.create_all()
        password = hash_password(PASSWORD)  # hashed once, shared: as the wizard's bench does
        for n in range(count):
            app.security.datastore.create_user(email=f"peer{n}@example.org", password=password)
        db.session.commit()


if __name__ == "__main__" and sys.argv[1:2] == ["seed"]:
    seed(int(sys.argv[2]))
