"""SQLite's writer thread and reader threads: a whole transaction in one trip, on a connection the thread keeps.

Through aiosqlite each statement is a trip to its thread and back, and each return waits for the busy event loop
to hand over the GIL (up to the 5 ms switch interval): a write transaction of five statements took tens of
milliseconds, holding the lock, and 5,000 visitors coming back at once ran its pool of 32 connections dry (pool
timeouts, refused handshakes). Here `work(connection, *args)`, plain synchronous Core, runs whole in a thread of
ours. Writes take a turn in the queue of writers first (writer_queue.py): SQLite has one writer at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from widget_server.storage.thread_connections import ThreadConnections
from widget_server.storage.writer_queue import WriterQueue

T = TypeVar("T")

# Reader threads. A read is one trip there and back, so a few are enough to keep the file busy; more would only
# queue on the GIL beside the event loop.
SQLITE_READERS = 4


class TransactionThreads:
    """`threads` threads, started when first asked, each running one transaction at a time on its own connection."""

    def __init__(self, engine: Engine, threads: int, name: str) -> None:
        self._threads = threads
        self._name = name
        self._connections = ThreadConnections(engine)
        self._executor: ThreadPoolExecutor | None = None

    def run(self, work: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`work(connection, *args)` in one transaction: committed, or rolled back when it raises."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
        return asyncio.get_running_loop().run_in_executor(self._executor, self._connections.run, work, *args)

    def close(self) -> None:
        """Wait for the work under way, stop the threads and close their connections; asked again, it starts anew
        (the server seeds its database on one loop, then serves on another)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._connections.close()


class SqliteThreads:
    def __init__(self, writer: Engine, reader: Engine, writers: WriterQueue, readers: int = SQLITE_READERS) -> None:
        self._writers = writers
        self._writer = TransactionThreads(writer, 1, "sqlite-writer")
        self._readers = TransactionThreads(reader, readers, "sqlite-reader")

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        # `quick`: one trip holds the turn about a millisecond, so it goes ahead of ORM sessions (writer_queue.py).
        async with self._writers.turn(quick=True):
            return await self._writer.run(work, *args)

    def run_read(self, work: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return self._readers.run(work, *args)

    def close(self) -> None:
        self._writer.close()
        self._readers.close()
