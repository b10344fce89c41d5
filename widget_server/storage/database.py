"""The database handle: one async engine, sessions for reading and for writing.

SQLite allows one writer at a time. Rather than let concurrent writers collide and retry on "database is
locked", the process queues them on an asyncio lock (the process owns the file). PostgreSQL needs no such
lock: row locks order the writers that touch the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from widget_server.storage.console_beats import ConsoleBeats
from widget_server.storage.message_writer import MessageBatcher
from widget_server.storage.thread_connections import ThreadConnections
from widget_server.storage.visitor_emails import VisitorEmails
from widget_server.storage.visitor_seen import VisitorSeen
from widget_server.storage.writer_queue import WriterQueue

T = TypeVar("T")


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


# Threads (each with its connection) for `Database.run_read` on SQLite. A read is one trip there and back, so a
# few are enough to keep the file busy; more would only queue on the GIL beside the event loop.
SQLITE_READERS = 4


class Database:
    def __init__(self, url: str, sqlite_synchronous: SqliteSync = "full") -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = make_engine(url, synchronous=sqlite_synchronous)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writers: WriterQueue | None = WriterQueue() if self.is_sqlite else None
        # SQLite: the one writer (who holds the lock) has a connection of its own. Taken from the readers' pool,
        # it waited behind every reader for a connection while holding the lock, and so did every writer queued
        # behind it (measured: the job runner's claim held the lock for 23 s while 200 consoles read).
        self._writer_engine = make_engine(url, 1, sqlite_synchronous) if self.is_sqlite else self.engine
        self._write_sessions = async_sessionmaker(self._writer_engine, expire_on_commit=False)
        self.sync_engine: Engine | None = (
            make_sync_sqlite_engine(url, synchronous=sqlite_synchronous) if self.is_sqlite else None
        )
        self._executor: ThreadPoolExecutor | None = None
        self._writer_connections = ThreadConnections(self.sync_engine) if self.sync_engine is not None else None
        self._reader_engine: Engine | None = (
            make_sqlite_reader_engine(url, SQLITE_READERS, sqlite_synchronous) if self.is_sqlite else None
        )
        self._readers: ThreadPoolExecutor | None = None
        self._reader_connections = ThreadConnections(self._reader_engine) if self._reader_engine is not None else None
        # Group commit for messages (see message_writer.py): the fast path of a chat under load.
        self.messages = MessageBatcher(self.run_write)
        # Group commit for the visitors' "last seen" of every hello (see visitor_seen.py).
        self.visitors_seen = VisitorSeen(self)
        # The heartbeats of every console of this process, one write per period (see console_beats.py).
        self.consoles = ConsoleBeats(self)
        # Grouped reads of whether a visitor who closed a page has an e-mail address (see visitor_emails.py).
        self.visitor_emails = VisitorEmails(self)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success and rolls back on any error."""
        async with self.write_lock(), self._write_sessions() as session, session.begin():
            yield session

    def write_lock(self, quick: bool = False) -> contextlib.AbstractAsyncContextManager[Any]:
        """A turn in the queue of writers (SQLite's single writer; `quick` for one-trip group commits, which go
        first: writer_queue.py); a no-op on PostgreSQL."""
        return self._writers.turn(quick) if self._writers is not None else contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def write_core(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction, in the same queue of writers as `write()`."""
        async with self.write_lock(), self._writer_engine.begin() as conn:
            yield conn

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)`, plain synchronous Core, in one write transaction in the queue of writers.

        On SQLite the whole transaction is one trip to a thread of our own. Through aiosqlite each statement is a
        trip to its thread and back, and each return waits for the busy event loop to hand over the GIL (up to the
        5 ms switch interval): a transaction of five statements took tens of milliseconds, holding the lock.
        """
        if self._writer_connections is None:
            async with self.write_core() as conn:
                return await conn.run_sync(work, *args)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        async with self.write_lock(quick=True):
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, self._writer_connections.run, work, *args
            )

    async def run_read(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)`, plain synchronous Core, in one read transaction.

        The hot reads (a visitor's welcome) take this rather than a session: on SQLite the whole transaction is one
        trip to a reader thread, where through aiosqlite each statement was a trip to its thread whose answer then
        waited for the busy event loop, and 5,000 visitors coming back at once ran the pool of 32 connections dry
        (pool timeouts, refused handshakes). No ORM instances either: building them cost more than the queries.
        """
        if self._reader_connections is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(work, *args)
        if self._readers is None:
            self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="sqlite-reader")
        read = self._reader_connections.run
        return await asyncio.get_running_loop().run_in_executor(self._readers, read, work, *args)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A bare connection for hot reads in SQLAlchemy Core (no ORM session around it)."""
        async with self.engine.connect() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[None]:
        """One holder at a time across the processes of an installation (a PostgreSQL advisory lock).

        For work that every process does at start, such as seeding: they must not do it twice. SQLite has one
        process per installation, so there it is a no-op.
        """
        if self.is_sqlite:
            yield
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})

    async def dispose(self) -> None:
        await self.messages.close()
        await self.visitors_seen.close()
        await self.consoles.stop()
        await self.visitor_emails.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        for connections in (self._writer_connections, self._reader_connections):
            if connections is not None:
                connections.close()
        await self.engine.dispose()
        if self._writer_engine is not self.engine:
            await self._writer_engine.dispose()
        if self.sync_engine is not None:
            self.sync_engine.dispose()
        if self._reader_engine is not None:
            self._reader_engine.dispose()
