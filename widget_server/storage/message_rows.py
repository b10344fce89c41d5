"""The statements of one message batch (message_batch.py), in two forms: SQLAlchemy Core, and straight on sqlite3.

PostgreSQL takes the Core statements (row locks, `IN` lists with expanding parameters). SQLite takes the same
statements written for its driver and run on the connection's own cursor, in the same transaction: the writer
thread is SQLite's only writer and, at 2,000 messages a second, was 40 % of the server's one core, half of it
SQLAlchemy's per-statement and per-value work (bench/notes.md). Lists travel as one JSON array (`json_each`), so
every statement's text is fixed and sqlite3's statement cache prepares it once; values convert through the
columns' own types (row_codec.py), so both forms read and write the same values.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Protocol

from sqlalchemy import Select, and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection, Dialect

from widget_server.storage.row_codec import RowCodec
from widget_server.storage.tables import Dialog, Message, Visitor

_dialogs = Dialog.__table__  # type: ignore[attr-defined]
_messages = Message.__table__  # type: ignore[attr-defined]
_visitors = Visitor.__table__  # type: ignore[attr-defined]

# The columns the batch moves on a dialog, besides its id.
DIALOG_CHANGES = ("last_seq", "updated_at", "waiting_since", "page_url", "page_title")


class MessageRows(Protocol):
    def dialogs(self, ids: list[int], visitors: list[int]) -> dict[int, dict[str, Any]]:
        """Dialogs by id and all dialogs of these visitors, locked (row locks on PostgreSQL, in id order)."""
        ...

    def visitors_with_email(self, visitor_ids: list[int]) -> set[int]: ...

    def stored(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
        """Messages already stored under these (dialog id, client_msg_id) pairs, without their `id`."""
        ...

    def insert(self, messages: list[dict[str, Any]]) -> None: ...

    def move_dialogs(self, dialogs: list[dict[str, Any]]) -> None:
        """Write each dialog's `DIALOG_CHANGES`."""
        ...


def rows_for(conn: Connection) -> MessageRows:
    if conn.dialect.name == "sqlite":
        return SqliteRows(conn.connection.driver_connection, _codecs(conn.dialect))
    return CoreRows(conn)


class CoreRows:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def dialogs(self, ids: list[int], visitors: list[int]) -> dict[int, dict[str, Any]]:
        params: dict[str, Any] = {}
        if ids:
            params["ids"] = ids
        if visitors:
            params["visitors"] = visitors
        rows = self._conn.execute(_LOCK[(bool(ids), bool(visitors))], params)
        return {row["id"]: dict(row) for row in rows.mappings()}

    def visitors_with_email(self, visitor_ids: list[int]) -> set[int]:
        return {row[0] for row in self._conn.execute(_WITH_EMAIL, {"ids": visitor_ids})}

    def stored(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
        found = {}
        # At most 256 pairs a statement: an OR chain is parsed as a tree as deep as the chain is long.
        for start in range(0, len(keys), 256):
            chunk = keys[start : start + 256]
            size = 1 << (len(chunk) - 1).bit_length()
            padded = chunk + [chunk[-1]] * (size - len(chunk))
            params = {f"d{i}": d for i, (d, _) in enumerate(padded)} | {f"c{i}": c for i, (_, c) in enumerate(padded)}
            for row in self._conn.execute(_stored_query(size), params).mappings():
                found[(row["dialog_id"], row["client_msg_id"])] = {k: v for k, v in row.items() if k != "id"}
        return found

    def insert(self, messages: list[dict[str, Any]]) -> None:
        self._conn.execute(_INSERT, messages)

    def move_dialogs(self, dialogs: list[dict[str, Any]]) -> None:
        self._conn.execute(_UPDATE, [{"b_id": d["id"], **{f"b_{c}": d[c] for c in DIALOG_CHANGES}} for d in dialogs])


# Built once: statements with expanding parameters hit SQLAlchemy's compiled cache instead of being rebuilt.
_BY_ID = _dialogs.c.id.in_(bindparam("ids", expanding=True))
# All of the visitors' dialogs, whatever their status (the caller picks the open ones): with a status condition
# here, SQLite's planner chose the status index and read every open dialog of the installation for each batch.
_BY_VISITOR = _dialogs.c.visitor_id.in_(bindparam("visitors", expanding=True))
_LOCK = {
    (True, False): select(_dialogs).where(_BY_ID),
    (False, True): select(_dialogs).where(_BY_VISITOR),
    (True, True): select(_dialogs).where(_BY_ID | _BY_VISITOR),
}
_LOCK = {k: q.order_by(_dialogs.c.id).with_for_update() for k, q in _LOCK.items()}


@functools.cache
def _stored_query(size: int) -> Select[Any]:
    """Messages with any of `size` (dialog, client_msg_id) pairs: one index lookup per pair.

    `dialog_id IN (...) AND client_msg_id IN (...)` looks up every combination (a batch of 300 is 90,000 lookups),
    and a row value `IN` scanned the table on SQLite. Sizes are powers of two, so a handful is ever compiled.
    """
    pairs = [
        and_(_messages.c.dialog_id == bindparam(f"d{i}"), _messages.c.client_msg_id == bindparam(f"c{i}"))
        for i in range(size)
    ]
    return select(_messages).where(or_(*pairs))


_WITH_EMAIL = select(_visitors.c.id).where(
    _visitors.c.id.in_(bindparam("ids", expanding=True)), _visitors.c.email.is_not(None), _visitors.c.email != ""
)
_INSERT = _messages.insert()
_UPDATE = (
    update(_dialogs)
    .where(_dialogs.c.id == bindparam("b_id"))
    .values(**{c: bindparam(f"b_{c}") for c in DIALOG_CHANGES})
)


class _Codecs:
    def __init__(self, dialect: Dialect) -> None:
        self.dialog = RowCodec(_dialogs.columns, dialect)
        self.message = RowCodec((c for c in _messages.columns if c.name != "id"), dialect)
        self.change = RowCodec((_dialogs.c[name] for name in DIALOG_CHANGES), dialect)
        d, m = self.dialog.column_list, self.message.column_list
        self.select_dialogs = (
            f"SELECT {d} FROM dialogs WHERE id IN (SELECT value FROM json_each(?1)) "
            "OR visitor_id IN (SELECT value FROM json_each(?2)) ORDER BY id"
        )
        self.select_stored = (
            f"SELECT {', '.join(f'm.{n}' for n in self.message.names)} FROM json_each(?) AS k JOIN messages AS m "
            "ON m.dialog_id = json_extract(k.value, '$[0]') AND m.client_msg_id = json_extract(k.value, '$[1]')"
        )
        self.insert = f"INSERT INTO messages ({m}) VALUES ({', '.join('?' * len(self.message.names))})"
        self.move = f"UPDATE dialogs SET {', '.join(f'{c} = ?' for c in DIALOG_CHANGES)} WHERE id = ?"


@functools.cache
def _codecs(dialect: Dialect) -> _Codecs:
    return _Codecs(dialect)


class SqliteRows:
    """The batch's statements on the sqlite3 connection under the SQLAlchemy one (same transaction)."""

    def __init__(self, driver: Any, codecs: _Codecs) -> None:
        self._driver = driver
        self._codecs = codecs

    def dialogs(self, ids: list[int], visitors: list[int]) -> dict[int, dict[str, Any]]:
        # No lock to take: this thread is SQLite's one writer (the writer queue), so nothing moves these rows
        # between this read and the commit.
        rows = self._driver.execute(self._codecs.select_dialogs, (json.dumps(ids), json.dumps(visitors)))
        read = self._codecs.dialog.read
        return {dialog["id"]: dialog for dialog in map(read, rows)}

    def visitors_with_email(self, visitor_ids: list[int]) -> set[int]:
        rows = self._driver.execute(_SQLITE_WITH_EMAIL, (json.dumps(visitor_ids),))
        return {row[0] for row in rows}

    def stored(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
        read = self._codecs.message.read
        found = map(read, self._driver.execute(self._codecs.select_stored, (json.dumps(keys),)))
        return {(m["dialog_id"], m["client_msg_id"]): m for m in found}

    def insert(self, messages: list[dict[str, Any]]) -> None:
        self._driver.executemany(self._codecs.insert, map(self._codecs.message.params, messages))

    def move_dialogs(self, dialogs: list[dict[str, Any]]) -> None:
        params = self._codecs.change.params
        self._driver.executemany(self._codecs.move, [(*params(d), d["id"]) for d in dialogs])


_SQLITE_WITH_EMAIL = (
    "SELECT id FROM visitors WHERE id IN (SELECT value FROM json_each(?)) AND email IS NOT NULL AND email != ''"
)
