"""The engines of one database URL and how their connections are set up.

SQLite gets four, one per way the server uses the file: `main` (async, pooled: ORM sessions and Core reads),
`writer` (async, a pool of one: the write sessions, so the writer never waits behind readers for a connection),
`sync_writer` (plain sqlite3 for the writer thread, a transaction per trip) and `sync_reader` (plain sqlite3 with
real read transactions for the reader threads). PostgreSQL gets one, `main`, which is also `writer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SqliteSync = Literal["normal", "full"]


def _sqlite_pragmas(synchronous: SqliteSync) -> Callable[[Any, Any], None]:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        # WAL lets readers go on while one connection writes. FULL (the default, SQLITE_SYNCHRONOUS) flushes the log
        # at every commit, so nothing acknowledged is lost to a power cut: one flush per group commit, not per
        # message, measured at no loss of capacity (bench/notes.md). NORMAL survives a crash of the process only.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Reads (the inbox list, history) touch pages all over the file: keep 64 MiB of them per connection
        # and map the file, rather than copy every page in from the OS on each read.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    return apply


def make_engine(url: str, pool_size: int = 32, synchronous: SqliteSync = "full") -> AsyncEngine:
    if url.startswith("sqlite"):
        # A fixed pool: with overflow, every burst past the pool opened and closed aiosqlite connections, each a
        # new thread, a file open and four PRAGMAs (measured: 10,000 visitors connecting took minutes).
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=0, pool_timeout=60
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(synchronous))
        return engine
    # Every query here serves someone waiting on a screen: no parallel workers (their start-up costs more than they
    # save on an inbox page, and they race the other sessions for the same cores) and no JIT compilation.
    settings = {"max_parallel_workers_per_gather": "0", "jit": "off"}
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args={"server_settings": settings}
    )


def make_sync_sqlite_engine(url: str, pool_size: int = 5, synchronous: SqliteSync = "full") -> Engine:
    """A plain sqlite3 engine on the same file, for work done whole in a thread (the message batcher)."""
    engine = create_engine(
        url.replace("sqlite+aiosqlite", "sqlite+pysqlite", 1),
        # Made in the batcher's thread, closed from the event loop's at shutdown.
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=pool_size,
    )
    event.listen(engine, "connect", _sqlite_pragmas(synchronous))
    return engine


def make_sqlite_reader_engine(url: str, pool_size: int, synchronous: SqliteSync = "full") -> Engine:
    """Sync sqlite3 connections whose transactions are real ones, for reads that must see one snapshot.

    Python's sqlite3 opens a transaction only before a write, so the SELECTs of a "transaction" each saw the
    database as it was at that statement. Here the driver's own handling is off and `BEGIN` is sent when the
    transaction starts (the recipe of SQLAlchemy's pysqlite notes), so every read in it sees the same snapshot.
    """
    engine = make_sync_sqlite_engine(url, pool_size, synchronous)

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Straight to the driver: through `exec_driver_sql` this cost more than the reads it opens.
        conn.connection.driver_connection.execute("BEGIN")

    return engine


class Engines:
    def __init__(self, url: str, sqlite_synchronous: SqliteSync, sqlite_readers: int) -> None:
        """`sqlite_readers`: connections in the reader engine's pool, one per reader thread."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.main = make_engine(url, synchronous=sqlite_synchronous)
        self.sync_writer: Engine | None = None
        self.sync_reader: Engine | None = None
        if self.is_sqlite:
            # The one writer (who holds the lock) has a connection of its own. Taken from the readers' pool, it
            # waited behind every reader for a connection while holding the lock, and so did every writer queued
            # behind it (measured: the job runner's claim held the lock for 23 s while 200 consoles read).
            self.writer = make_engine(url, 1, sqlite_synchronous)
            self.sync_writer = make_sync_sqlite_engine(url, synchronous=sqlite_synchronous)
            self.sync_reader = make_sqlite_reader_engine(url, sqlite_readers, sqlite_synchronous)
        else:
            self.writer = self.main

    async def dispose(self) -> None:
        """Close every pooled connection; the engines stay usable (they connect again when next used)."""
        await self.main.dispose()
        if self.writer is not self.main:
            await self.writer.dispose()
        for engine in (self.sync_writer, self.sync_reader):
            if engine is not None:
                engine.dispose()
