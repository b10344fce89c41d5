"""The full-text index behind the inbox search: message texts and client names, in each database's own engine.

- SQLite: FTS5 tables kept in step by triggers on insert, update and delete. `messages_fts` is contentless (the
  text lives only in `messages`) and its rowid *is* the message's place, `dialog_id * 2**24 + seq`: a match names
  its dialog without reading a single message row, and one dialog's matches are one rowid range. `visitors_fts`
  indexes client names over `visitors` (external content).
- PostgreSQL: `messages.body_tsv`, a stored generated `tsvector` column with a GIN index (a prefix query makes
  PostgreSQL re-check every hit; reading the stored vector is far cheaper than re-computing it from the text), and
  a GIN index on `to_tsvector('simple', name)` of visitors (queries repeat that expression, so the index is used).

The `simple` configuration and FTS5's `unicode61` tokenizer both lower-case and split on non-letters without
stemming: one behaviour for every language a line may speak.

These objects are not in the models' metadata (SQLAlchemy has no words for virtual tables or triggers). They are
created by migration 0005 through `install()`, and `include_name`/`include_object` keep Alembic's autogenerate
and the schema test from reporting them as strays. A later migration that recreates `messages` or `visitors` on
SQLite (batch mode copies the table and drops the old one, and its triggers with it) must call `install()` again;
`ensure()` runs at every start and repairs a missing piece anyway, rebuilding the index from the tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

SQLITE_TABLES = ("messages_fts", "visitors_fts")
PG_INDEXES = ("ix_messages_body_fts", "ix_visitors_name_fts")
PG_COLUMNS = ("body_tsv",)

# What a query must say, word for word, for PostgreSQL to use the indexes.
PG_MESSAGE_VECTOR = "messages.body_tsv"
PG_VISITOR_VECTOR = "to_tsvector('simple'::regconfig, coalesce(visitors.name, ''))"

# A dialog's messages are rowids dialog_id << 24 .. (dialog_id << 24) + 2**24 - 1: 16 million entries per dialog.
MESSAGE_KEY_BITS = 24
MESSAGE_KEY = f"(dialog_id * {2**MESSAGE_KEY_BITS} + seq)"


def _sqlite_messages() -> list[str]:
    tokenize = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"
    new_key, old_key = (
        f"(new.dialog_id * {2**MESSAGE_KEY_BITS} + new.seq)",
        f"(old.dialog_id * {2**MESSAGE_KEY_BITS} + old.seq)",
    )
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, content='', {tokenize})",
        "CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN "
        f"INSERT INTO messages_fts(rowid, body) VALUES ({new_key}, new.body); END",
        # A contentless index forgets an entry only when told the exact text it indexed.
        "CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN "
        f"INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', {old_key}, old.body); END",
        "CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF body, seq, dialog_id ON messages BEGIN "
        f"INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', {old_key}, old.body); "
        f"INSERT INTO messages_fts(rowid, body) VALUES ({new_key}, new.body); END",
    ]


def _sqlite_visitors() -> list[str]:
    fts, table, column = "visitors_fts", "visitors", "name"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
    ]


_PG_STATEMENTS = [
    "ALTER TABLE messages ADD COLUMN IF NOT EXISTS body_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_messages_body_fts ON messages USING gin (body_tsv)",
    "CREATE INDEX IF NOT EXISTS ix_visitors_name_fts ON visitors "
    "USING gin (to_tsvector('simple'::regconfig, coalesce(name, '')))",
]


def install(connection: Connection) -> None:
    """Create the index for this connection's database and fill it from the rows already there."""
    if connection.dialect.name == "sqlite":
        for statement in [*_sqlite_messages(), *_sqlite_visitors()]:
            connection.execute(text(statement))
        connection.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')"))
        connection.execute(text(f"INSERT INTO messages_fts(rowid, body) SELECT {MESSAGE_KEY}, body FROM messages"))
        connection.execute(text("INSERT INTO visitors_fts(visitors_fts) VALUES ('rebuild')"))
    else:
        for statement in _PG_STATEMENTS:
            connection.execute(text(statement))


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for fts in SQLITE_TABLES:
            for suffix in ("ai", "ad", "au"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {fts}_{suffix}"))
            connection.execute(text(f"DROP TABLE IF EXISTS {fts}"))
    else:
        for name in PG_INDEXES:
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        connection.execute(text("ALTER TABLE messages DROP COLUMN IF EXISTS body_tsv"))


def missing(connection: Connection) -> list[str]:
    """The pieces of the index that are not in the database."""
    if connection.dialect.name == "sqlite":
        wanted = [*SQLITE_TABLES, *(f"{fts}_{s}" for fts in SQLITE_TABLES for s in ("ai", "ad", "au"))]
        present = set(connection.execute(text("SELECT name FROM sqlite_master")).scalars())
    else:
        wanted = [*PG_INDEXES, *PG_COLUMNS]
        present = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        present |= set(
            connection.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'messages'")
            ).scalars()
        )
    return [name for name in wanted if name not in present]


def ensure(connection: Connection) -> bool:
    """Repair a partly missing index (see the module's note) by building it anew; True when it had to."""
    if not missing(connection):
        return False
    uninstall(connection)
    install(connection)
    return True


def is_fulltext_name(name: str | None) -> bool:
    if not name:
        return False
    # FTS5 keeps its data in shadow tables named after the virtual table (messages_fts_data, ...).
    return name.startswith(SQLITE_TABLES) or name in PG_INDEXES or name in PG_COLUMNS


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic hook: leave the full-text objects out of schema comparisons (before they are reflected)."""
    return not is_fulltext_name(name)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not is_fulltext_name(name)
