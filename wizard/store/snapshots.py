"""The signed-in prescriber's snapshot (wizard.services.accounts.SignedIn) kept in each
process's memory between changes, when sessions are in Redis.

Every signed-in page reads the snapshot (name, NPI, session generation, token count): on
PostgreSQL a round trip of its own, after the session's round trip to Redis. Instead, the
session's read also fetches the *change mark*, a random value that every commit changing what
a snapshot holds replaces after that commit (a token added, deleted or moved to another status;
a prescriber's name, NPI or session generation changed, or the prescriber deleted). A snapshot
read from the database is kept with the mark read *before* it, and serves a later request only
while that request reads the same mark. A change committed after the read replaces the mark
after its commit, before its response: a request that begins after a change's answer never
sees the state before it, on any app server.

The mark is random, not a counter: a Redis that restarted empty cannot bring back the value an
old snapshot was kept with. While Redis holds no mark, nothing is kept. A kept snapshot is read
again after MAX_AGE seconds whatever the mark, which bounds how long one outlives a change whose
mark could not be replaced (Redis out of reach at that moment), a change made outside the app
(SQL typed by hand) or an old mark brought back (Redis restored from a snapshot). No one is
signed out on a kept snapshot: wizard.web.session reads the database again first.

Changes are seen at the ORM session (wizard's writes all go through it): its flushes, and the
statements run by Session.execute; a migration replaces the mark when it ends. A statement
whose effect cannot be told counts as a change.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Delete, Insert, TextClause, Update, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

MARK_KEY = "prescribers:change-mark"
MAX_AGE = 60.0  # seconds
MAX_KEPT = 4096  # snapshots per process (about 0.45 KB each: 1.8 MB when full)

# What a snapshot is made of, by table. A change to any other column (a failure count, a
# replay floor, a passphrase hash) leaves every snapshot true.
HELD = {
    "prescribers": frozenset({"id", "name", "npi", "session_generation"}),
    "tokens": frozenset({"id", "prescriber_id", "status"}),
}
# SQL written out: any that names a table above and writes anything counts (a CTE, a schema
# prefix, MERGE, TRUNCATE...).
_NAMES_HELD = re.compile(r"\b(" + "|".join(HELD) + r")\b", re.IGNORECASE)
_WRITES = re.compile(r"\b(UPDATE|INSERT|DELETE|MERGE|TRUNCATE|REPLACE|COPY)\b", re.IGNORECASE)
_CHANGED = "wizard.snapshots_changed"  # in the ORM session's info until its commit

log = logging.getLogger(__name__)


def new_mark() -> str:
    return secrets.token_hex(16)


class SnapshotCache:
    """Snapshots by prescriber id, each with the mark it was read under and when."""

    def __init__(
        self,
        client,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = MAX_AGE,
        max_kept: int = MAX_KEPT,
    ) -> None:
        self.client = client  # redis.Redis: the sessions' own
        self.clock = clock
        self.max_age = max_age
        self.max_kept = max_kept
        self._kept: OrderedDict[int, tuple[str, float, Any]] = OrderedDict()
        self._lock = threading.Lock()  # `flask run` serves requests in threads

    def get(self, key: int, mark: str | None) -> Any | None:
        """The snapshot kept under mark, while young enough; None otherwise."""
        if mark is None:
            return None
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            kept_mark, at, value = found
            if kept_mark != mark or self.clock() - at > self.max_age:
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return value

    def keep(self, key: int, mark: str | None, value: Any) -> None:
        """Keep value, read from the database after mark was read."""
        if mark is None or value is None:
            return
        with self._lock:
            self._kept[key] = (mark, self.clock(), value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.max_kept:
                self._kept.popitem(last=False)

    def replace_mark(self) -> None:
        """After a commit that changed a snapshot: every process's kept ones stop serving."""
        with self._lock:
            self._kept.clear()
        from redis.exceptions import RedisError

        try:
            self.client.set(MARK_KEY, new_mark())
        except RedisError as error:
            # Committed already: the change stands. Other processes' snapshots serve until
            # MAX_AGE, and sign no one out (wizard.web.session reads the database first).
            log.warning("the change mark could not be replaced: %s", type(error).__name__)


def cache() -> SnapshotCache | None:
    """The app's cache; None when sessions are in the database (then every page reads the
    snapshot from it: no mark to read it under)."""
    return current_app.extensions.get("snapshots") if has_app_context() else None


# --- Which writes change a snapshot -------------------------------------------------------


def _name(column) -> str:
    return column if isinstance(column, str) else column.key


def _set_columns(statement: Update, parameters) -> set[str] | None:
    """The columns an UPDATE may set: those of its values() and every parameter's name (a
    parameter named after a column is added to the SET; its WHERE's names only add more).
    None when neither names any. (`_values` is SQLAlchemy's own: were it renamed, the
    parameters alone would decide, and an UPDATE without them would count as a change.)"""
    named = {_name(column) for column in getattr(statement, "_values", None) or ()}
    if isinstance(parameters, Mapping):
        named |= set(parameters)
    elif isinstance(parameters, Sequence) and parameters and isinstance(parameters[0], Mapping):
        named = named.union(*parameters)
    return named or None


def changes_snapshots(statement, parameters=None) -> bool:
    """Whether running statement may change what a snapshot holds."""
    if isinstance(statement, TextClause):
        text = statement.text
        return bool(_NAMES_HELD.search(text) and _WRITES.search(text))
    if not isinstance(statement, Insert | Update | Delete):
        return False
    table = statement.table.name
    if table not in HELD:
        return False
    if isinstance(statement, Insert):
        return table == "tokens"  # a new prescriber has no snapshot yet
    if isinstance(statement, Delete):
        return True
    columns = _set_columns(statement, parameters)
    return columns is None or bool(columns & HELD[table])


def flush_changes_snapshots(session: Session) -> bool:
    """Whether the flush about to be written (session.new, dirty, deleted) changes one."""
    for instance in session.new:
        if inspect(instance).mapper.local_table.name == "tokens":
            return True
    for instance in session.deleted:
        if inspect(instance).mapper.local_table.name in HELD:
            return True
    for instance in session.dirty:
        state = inspect(instance)
        table = state.mapper.local_table.name
        if table not in HELD:
            continue
        # A relationship too: a token moved with `token.prescriber = other` changes its
        # prescriber_id only when the flush writes it.
        names = [*HELD[table], *state.mapper.relationships.keys()]
        if any(state.attrs[name].history.has_changes() for name in names):
            return True
    return False


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select or cache() is None:  # nothing kept anywhere without Redis sessions
        return
    if changes_snapshots(state.statement, state.parameters):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context, _instances) -> None:
    if cache() is not None and flush_changes_snapshots(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the changes commit with the transaction around it
    if session.info.pop(_CHANGED, False):
        replace_mark()


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's keeps what came before it
        session.info.pop(_CHANGED, None)


def replace_mark() -> None:
    """After a change made beside the ORM's events (a migration): every kept snapshot is read
    again. Nothing to do without the cache."""
    kept = cache()
    if kept is not None:
        kept.replace_mark()
