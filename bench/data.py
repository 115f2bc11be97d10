"""The bench's databases: prescribers to sign in as, practice credentials used once each, and
other prescribers' tokens by the hundred thousand."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp

from bench.common import PASSPHRASE
from bench.servers import build_app, wizard_environ


@dataclass
class Account:
    npi: str
    token_id: int
    secret: str


@dataclass
class Pool:
    """Sandbox credentials bound to no one: (credential ID, base32 secret), used once each."""

    items: list[tuple[str, str]]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[str, str]:
        with self.lock:
            if not self.items:
                raise RuntimeError("the credential pool is empty: raise --credentials")
            return self.items.pop()


def prepare_database(app, accounts: int, credentials: int) -> tuple[list[Account], Pool]:
    """The schema, `accounts` prescribers with one Active sandbox token each, and a pool of
    unbound sandbox credentials. The passphrase is hashed once (the app's argon2id: 7 MiB and
    tens of milliseconds per hash) and the hash shared, as the demo seed does."""
    from wizard.cli import create_schema
    from wizard.extensions import db
    from wizard.services import accounts as account_service
    from wizard.store.models import OathCredential, Prescriber, Token

    cipher = app.extensions["seed_cipher"]
    now = datetime.now(UTC)
    made: list[Account] = []
    pool: list[tuple[str, str]] = []
    with app.app_context():
        create_schema()
        passphrase_hash = account_service.hash_passphrase(PASSPHRASE)
        ids = iter(secrets.SystemRandom().sample(range(10**8), accounts + credentials))

        def credential() -> tuple[str, str, OathCredential]:
            credential_id, secret = f"SYMC{next(ids):08d}", pyotp.random_base32(32)
            row = OathCredential(
                credential_id=credential_id,
                sealed_secret=cipher.seal(secret, credential_id),
                source="sandbox",
                created_at=now,
            )
            return credential_id, secret, row

        for n in range(accounts):
            prescriber = Prescriber(
                npi=valid_npi(f"18{n:07d}"),
                name=f"Dr. Bench {n}",
                passphrase_hash=passphrase_hash,
                identity_proofed=True,
                created_at=now,
            )
            credential_id, secret, row = credential()
            db.session.add_all([prescriber, row])
            db.session.flush()
            token = Token(
                prescriber_id=prescriber.id,
                nickname="Token 1",
                nickname_key="token 1",
                credential_id=credential_id,
                manufacturer="SYMANTEC",
                token_type="OTP SOFT TOKEN",  # noqa: S106 - a token type, not a password
                model="VIP",
                status="Active",
                created_at=now,
                updated_at=now,
            )
            db.session.add(token)
            db.session.flush()
            made.append(Account(prescriber.npi, token.id, secret))
        for _ in range(credentials):
            credential_id, secret, row = credential()
            db.session.add(row)
            pool.append((credential_id, secret))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return made, Pool(pool)


def valid_npi(first_nine: str) -> str:
    """An NPI the sign-in form accepts: its Luhn check digit computed over 80840 + NPI."""
    from wizard.domain.identifiers import npi_check_digit

    return first_nine + npi_check_digit(first_nine)


def count_tokens(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM tokens").fetchone()[0]


def add_tokens(app, up_to: int) -> int:
    """Bulk-insert other prescribers' tokens (5 each, with their credentials' sealed dummy
    seeds) through SQLAlchemy core until the tokens table holds up_to rows."""
    from sqlalchemy import func, insert, select

    from wizard.extensions import db
    from wizard.store.models import OathCredential, Prescriber, Token

    now = datetime.now(UTC)
    with app.app_context():
        have = db.session.scalar(select(func.count(Token.id)))
        first = db.session.scalar(select(func.coalesce(func.max(Prescriber.id), 0))) + 1
        need = max(0, up_to - have)
        chunk = 10_000
        for start in range(0, need, chunk):
            n = min(chunk, need - start)
            base = first + start // 5
            prescribers = [
                {
                    "id": base + i,
                    "npi": f"9{base + i:09d}",
                    "name": f"Dr. Filler {base + i}",
                    "email": "",
                    "passphrase_hash": None,
                    "identity_proofed": True,
                    "sign_in_failures": 0,
                    "code_failures": 0,
                    "backup_decision": "",
                    "created_at": now,
                }
                for i in range((n + 4) // 5)
            ]
            credential_ids = [f"FILL{have + start + i:012d}" for i in range(n)]
            credentials = [
                {
                    "credential_id": cid,
                    "algorithm": "totp",
                    "sealed_secret": secrets.token_bytes(60),  # dummy sealed bytes
                    "digits": 6,
                    "period": 30,
                    "manufacturer": "SYMANTEC",
                    "source": "import",
                    "created_at": now,
                }
                for cid in credential_ids
            ]
            tokens = [
                {
                    "prescriber_id": base + i // 5,
                    "nickname": f"Token {i % 5 + 1}",
                    "nickname_key": f"token {i % 5 + 1}",
                    "credential_id": cid,
                    "manufacturer": "SYMANTEC",
                    "issuer": "DRFIRST",
                    "token_type": "OTP SOFT TOKEN",
                    "model": "VIP",
                    "status": ("Active", "Active", "Inactive", "Deleted", "Lost")[i % 5],
                    "created_at": now,
                    "updated_at": now,
                }
                for i, cid in enumerate(credential_ids)
            ]
            db.session.execute(insert(Prescriber), prescribers)
            db.session.execute(insert(OathCredential), credentials)
            db.session.execute(insert(Token), tokens)
            db.session.commit()
        total = db.session.scalar(select(func.count(Token.id)))
        db.session.remove()
        db.engine.dispose()
    return total


def side_database(workdir: Path, name: str, tokens: int) -> tuple[dict, Path, Account, float]:
    """A database of its own for the token-count comparison: one prescriber to sign in as, and
    other prescribers' tokens up to `tokens` rows. Returns its environment, its path, the
    prescriber, and the bulk insert's seconds."""
    database = workdir / f"{name}.sqlite3"
    environ = wizard_environ(database)
    app = build_app(environ)
    accounts, _ = prepare_database(app, 1, credentials=0)
    started = time.perf_counter()
    add_tokens(app, tokens)
    return environ, database, accounts[0], time.perf_counter() - started
