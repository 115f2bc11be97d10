"""One-row reads made on nearly every request, run straight on a pooled driver connection.

The server-side session and the signed-in prescriber are read before every page. Through an
ORM session each read costs SQLAlchemy's connection, result and (for the prescriber) ORM
objects: about ten times the query itself on SQLite, and most of what a wizard step costs
(docs/PERFORMANCE.md). Here a statement is compiled once per dialect by SQLAlchemy, with its
column types' own conversions, and run on a connection taken from the engine's pool (its
checks at checkout included) and given straight back. On PostgreSQL the read runs in
autocommit, so the connection's return needs no ROLLBACK round trip.

A read takes a second pooled connection if the request already holds one; the two hot reads
run before a view touches the database, so a request never waits for a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bound parameters, in order when the dialect's style is positional
    positional: bool
    defaults: dict[str, Any]
    binds: dict[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]


def _compile(statement: Select, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or compiled.binds)
    binds = {}
    for name in names:
        convert = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            binds[name] = convert
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.selected_columns
    )
    return _Compiled(
        sql=compiled.string,
        names=names,
        positional=bool(compiled.positional),
        defaults=compiled.construct_params(_check=False),
        binds=binds,
        results=results,
    )


class DirectRead:
    """A SELECT of at most one row, run without SQLAlchemy's Connection or ORM."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return compiled

    def row(self, engine: Engine, **params) -> tuple | None:
        """The row's values, converted as SQLAlchemy would; None when there is none. A driver
        error is raised as SQLAlchemy's own."""
        dialect = engine.dialect
        compiled = self._compiled(dialect)
        values = {**compiled.defaults, **params}
        for name, convert in compiled.binds.items():
            values[name] = convert(values[name])
        bound = tuple(values[name] for name in compiled.names) if compiled.positional else values
        found = _fetch_one(engine, compiled.sql, bound)
        if found is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(found, compiled.results, strict=True)
        )


def _fetch_one(engine: Engine, sql: str, bound) -> tuple | None:
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(engine, sql, bound, error, invalidated=False) from error
    try:
        driver = pooled.driver_connection
        postgresql = dialect.name == "postgresql"
        if postgresql:
            driver.autocommit = True  # no transaction opened, so none to end at the return
        try:
            cursor = pooled.cursor()
            try:
                cursor.execute(sql, bound)
                return cursor.fetchone()
            finally:
                cursor.close()
        finally:
            if postgresql and not driver.closed:
                driver.autocommit = False  # a lost connection is dropped below, not reset
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, driver, None)
        if lost:
            pooled.invalidate(error)  # never pooled again; the next request takes a new one
        raise _as_sqlalchemy_error(engine, sql, bound, error, invalidated=lost) from error
    finally:
        pooled.close()


def _as_sqlalchemy_error(engine: Engine, sql: str, bound, error, invalidated: bool):
    """SQLAlchemy's own error for a driver's (an OperationalError when the database is away),
    so that callers handle it as any other; its parameters hidden as the engine hides them."""
    return exc.DBAPIError.instance(
        sql,
        bound,
        error,
        engine.dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,  # session ids and hashes stay out of logs
        connection_invalidated=invalidated,
        dialect=engine.dialect,
    )
