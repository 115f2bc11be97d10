"""INSERT … ON CONFLICT, in the dialect the database speaks."""

from __future__ import annotations

from sqlalchemy.dialects import sqlite


def insert_for(dialect_name: str, table) -> sqlite.Insert:
    """The dialect's INSERT (both have on_conflict_do_update and on_conflict_do_nothing).
    PostgreSQL's is imported only where it is used: 2 MB that a worker on SQLite does without."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)
