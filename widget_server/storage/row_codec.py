"""A table's rows converted exactly as SQLAlchemy converts them for one dialect, for statements run on the driver.

The SQLite writer's group commit runs its statements straight on the `sqlite3` cursor (message_writer.py): through
Core, each statement cost its execution context, a parameter dict per row and a processor call per value, about
half of the writer's CPU per message (bench/notes.md). The values must still be the ones Core would have written
and read (a datetime's text form, a JSON column's `null`), so the conversions come from the column types
themselves: a column added later, or a type changed, converts the same on both paths without anyone listing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import NamedColumn


class RowCodec:
    def __init__(self, columns: Iterable[NamedColumn[Any]], dialect: Dialect) -> None:
        columns = list(columns)
        self.names: tuple[str, ...] = tuple(c.name for c in columns)
        impls = [c.type.dialect_impl(dialect) for c in columns]
        self._binds = tuple(zip(self.names, [impl.bind_processor(dialect) for impl in impls], strict=True))
        self._reads = tuple(impl.result_processor(dialect, None) for impl in impls)

    @property
    def column_list(self) -> str:
        return ", ".join(self.names)

    def params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's values in column order, as the driver takes them (a missing key is NULL)."""
        get = row.get
        return tuple([get(name) if bind is None else bind(get(name)) for name, bind in self._binds])

    def read(self, values: Sequence[Any]) -> dict[str, Any]:
        """A driver row (selected with `column_list`) as the dict Core's `mappings()` would give."""
        converted = [
            value if read is None or value is None else read(value)
            for read, value in zip(self._reads, values, strict=True)
        ]
        return dict(zip(self.names, converted, strict=True))
