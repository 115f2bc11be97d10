"""The stand-in's own database (SQLite): VIP users, credentials with their seeds, bindings.

Kept apart from the wizard's database on purpose: in production the seeds of VIP Access
credentials exist only at Symantec, and the stand-in plays that part.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY COLLATE NOCASE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    credential_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    algorithm TEXT NOT NULL DEFAULT 'totp',
    last_step INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bindings (
    user_id TEXT NOT NULL COLLATE NOCASE REFERENCES users (user_id),
    credential_id TEXT NOT NULL REFERENCES credentials (credential_id),
    friendly_name TEXT NOT NULL DEFAULT '',
    bound_at TEXT NOT NULL,
    last_authn_at TEXT,
    PRIMARY KEY (user_id, credential_id)
);
"""


class StandinStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        try:
            db.executescript(SCHEMA)
        finally:
            db.close()
        self.path.chmod(0o600)  # it holds seeds

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One connection per call, holding the write lock from the start (BEGIN IMMEDIATE),
        so that two requests with one code cannot both consume it."""
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # Reads for tests and the sandbox: what does the stand-in hold?

    def binding(self, user_id: str, credential_id: str) -> sqlite3.Row | None:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM bindings WHERE user_id = ? AND credential_id = ?",
                (user_id, credential_id),
            ).fetchone()

    def bindings_of(self, credential_id: str) -> list[sqlite3.Row]:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM bindings WHERE credential_id = ?", (credential_id,)
            ).fetchall()
