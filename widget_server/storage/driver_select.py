"""Core statements compiled once, then run straight on the `sqlite3` connection under the SQLAlchemy one.

Every visitor's `hello` reads five or six rows by index (welcome_read.py). Through `Connection.execute` each
read cost SQLAlchemy's execution context, parameter processing and result machinery: about 700 µs of CPU for
the whole welcome on the benchmark machine, of which SQLite's own work was under 100. When 5,000 widgets come
back at once that was most of the storm (bench/notes.md). Here the statement is compiled for the dialect once
(once per length of each `IN` list), and each call is one `execute` on the driver, in the same transaction, with
values converted through the statement's own bound and selected types (row_codec.py), so the rows are the dicts
Core's `mappings()` would give. Other drivers (PostgreSQL's, aiosqlite) run the statement through Core as before.

`DriverWrite` does the same for an INSERT or UPDATE run over many rows at once (the message writer's group
commit): one `executemany` on the driver, each value converted by its bound type, as Core would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import ColumnElement, NamedColumn

from widget_server.storage.row_codec import RowCodec

Row = dict[str, Any]
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Bind:
    name: str  # the caller's parameter
    index: int | None  # the item of a list parameter (an expanded `IN`), or None
    default: Any  # a literal's value (`LIMIT 1`), or _REQUIRED
    process: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    binds: tuple[_Bind, ...]
    codec: RowCodec | None

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for bind in self.binds:
            if bind.index is not None:
                value = params[bind.name][bind.index]
            elif bind.default is _REQUIRED:
                value = params[bind.name]
            else:
                value = params.get(bind.name, bind.default)
            values.append(value if bind.process is None else bind.process(value))
        return values


class DriverSelect:
    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        names = [column.name for column in statement.selected_columns]
        if len(set(names)) != len(names):
            raise ValueError(f"selected column names must be unique, got {names}")
        self._plans: dict[tuple[Any, ...], _Plan] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Row]:
        if not _on_sqlite3(conn):
            return [dict(row._mapping) for row in conn.execute(self.statement, params)]
        plan = self._plan(conn.dialect, params)
        cursor = _sqlite3(conn).execute(plan.sql, plan.values(params))
        assert plan.codec is not None
        return [plan.codec.read(values) for values in cursor]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Row | None:
        if not _on_sqlite3(conn):
            row = conn.execute(self.statement, params).first()
            return dict(row._mapping) if row is not None else None
        plan = self._plan(conn.dialect, params)
        cursor = _sqlite3(conn).execute(plan.sql, plan.values(params))
        values = cursor.fetchone()
        cursor.close()  # rather than leave the statement open until the next one
        assert plan.codec is not None
        return plan.codec.read(values) if values is not None else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        row = self.first(conn, params)
        return next(iter(row.values())) if row is not None else None

    def scalars(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return [next(iter(row.values())) for row in self.rows(conn, params)]

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        # The SQL differs only by how many items each list (an expanded `IN`) has.
        lists = tuple(sorted((name, len(value)) for name, value in params.items() if isinstance(value, list | tuple)))
        key = (id(dialect), lists)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _compile(self.statement, dialect, params)
        return plan


class DriverWrite:
    """An INSERT, UPDATE or DELETE compiled once, run for many rows in one `executemany` on sqlite3."""

    def __init__(self, statement: Insert | Update | Delete, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._keys = list(keys) if keys is not None else None  # an INSERT's columns (else: every column)
        self._plans: dict[int, _Plan] = {}

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if not _on_sqlite3(conn):
            conn.execute(self.statement, list(rows))
            return
        plan = self._plans.get(id(conn.dialect))
        if plan is None:
            plan = self._plans[id(conn.dialect)] = _compile(self.statement, conn.dialect, rows[0], self._keys)
        _sqlite3(conn).executemany(plan.sql, [plan.values(row) for row in rows])


def _on_sqlite3(conn: Connection) -> bool:
    # The plain sqlite3 driver only (the reader and writer threads' engines): under aiosqlite, `execute` is async.
    return conn.dialect.driver == "pysqlite"


def _sqlite3(conn: Connection) -> sqlite3.Connection:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)  # where _on_sqlite3(conn)
    return driver


def _named(columns: Iterable[ColumnElement[Any]]) -> list[NamedColumn[Any]]:
    """The selected columns, each a table's column or a labelled expression: a row's values are read by name."""
    named = []
    for column in columns:
        if not isinstance(column, NamedColumn):
            raise ValueError(f"{column}: label an expression selected here")
        named.append(column)
    return named


def _compile(
    statement: Select[Any] | Insert | Update | Delete,
    dialect: Dialect,
    params: Mapping[str, Any],
    column_keys: list[str] | None = None,
) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    for bind in compiled.post_compile_params:
        if not bind.expanding:
            raise ValueError(f"{bind.key}: a literal rendered into the SQL is not supported here")
    expanded = compiled.construct_expanded_state(dict(params))
    origin: dict[str, tuple[str, int | None]] = {
        item: (name, index) for name, items in expanded.parameter_expansion.items() for index, item in enumerate(items)
    }
    binds = []
    for positional in expanded.positiontup or ():
        name, index = origin.get(positional, (positional, None))
        declared = compiled.binds.get(name)
        default = _REQUIRED if declared is None or declared.required else declared.effective_value
        # The expanded state holds the processors of expanded items only; every other bind converts by its type.
        process = expanded.processors.get(positional)
        if process is None and declared is not None:
            process = declared.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append(_Bind(name, index, default, process))
    codec = RowCodec(_named(statement.selected_columns), dialect) if isinstance(statement, Select) else None
    return _Plan(expanded.statement, tuple(binds), codec)
