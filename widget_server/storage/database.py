"""The database of the app: its parts, held together, and the ways in that the services use.

The parts, one concept each: the engines and how their connections are set up (engines.py; four on SQLite, one
on PostgreSQL), SQLite's writer and reader threads (sqlite_threads.py), the queue of SQLite's writers
(writer_queue.py), and the coalescers that do many callers' small reads and writes in one trip (coalescer.py).

SQLite allows one writer at a time. Rather than let concurrent writers collide and retry on "database is
locked", the process queues them (the process owns the file). PostgreSQL needs no such queue: row locks order
the writers that touch the same rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from widget_server.storage.console_beats import ConsoleBeats
from widget_server.storage.engines import Engines, SqliteSync
from widget_server.storage.message_writer import message_batcher
from widget_server.storage.sqlite_threads import SQLITE_READERS, SqliteThreads
from widget_server.storage.visitor_emails import VisitorEmails
from widget_server.storage.visitor_seen import VisitorSeen
from widget_server.storage.writer_queue import WriterQueue

T = TypeVar("T")


class Database:
    def __init__(self, url: str, sqlite_synchronous: SqliteSync = "full") -> None:
        self.url = url
        self.engines = Engines(url, sqlite_synchronous, SQLITE_READERS)
        self.is_sqlite = self.engines.is_sqlite
        self.engine = self.engines.main
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self.engines.writer, expire_on_commit=False)
        self._writers: WriterQueue | None = None
        self._threads: SqliteThreads | None = None
        if self.engines.sync_writer is not None and self.engines.sync_reader is not None:
            self._writers = WriterQueue()
            self._threads = SqliteThreads(self.engines.sync_writer, self.engines.sync_reader, self._writers)
        # The coalescers are given the trips they make, not the database (nor do they import this module).
        # The one writer of messages, group-committing (see message_writer.py): the fast path of a chat under load.
        self.messages = message_batcher(self.run_write)
        # Group commit for the visitors' "last seen" of every hello (see visitor_seen.py).
        self.visitors_seen = VisitorSeen(self.run_write)
        # The heartbeats of every console of this process, one write per period (see console_beats.py).
        self.consoles = ConsoleBeats(self.run_write)
        # Grouped reads of whether a visitor who closed a page has an e-mail address (see visitor_emails.py).
        self.visitor_emails = VisitorEmails(self.run_read)

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
        async with self.write_lock(), self.engines.writer.begin() as conn:
            yield conn

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)`, plain synchronous Core, in one write transaction in the queue of writers: on
        SQLite one trip to the writer thread (sqlite_threads.py)."""
        if self._threads is not None:
            return await self._threads.run_write(work, *args)
        async with self.write_core() as conn:
            return await conn.run_sync(work, *args)

    async def run_read(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)`, plain synchronous Core, in one read transaction: on SQLite one trip to a reader
        thread (sqlite_threads.py).

        The hot reads (a visitor's welcome) take this rather than a session: no ORM instances, whose building cost
        more than the queries.
        """
        if self._threads is not None:
            return await self._threads.run_read(work, *args)
        async with self.engine.connect() as conn:
            return await conn.run_sync(work, *args)

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
        """Stop the coalescers, then close every connection. The object stays usable: the server seeds its database on
        one event loop and serves on another."""
        await self.messages.close()
        await self.visitors_seen.close()
        await self.consoles.stop()
        await self.visitor_emails.close()
        if self._threads is not None:
            self._threads.close()
        await self.engines.dispose()
