"""One SQLAlchemy connection per worker thread, kept for the thread's life (SQLite's reader and writer threads).

Taking a connection from the pool and giving it back around every transaction ran the pool's checkout and
checkin, a `Connection` object and its events each time: half of a welcome's reads once they ran on the driver
(driver_select.py). A thread that only ever runs one transaction at a time can keep its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")


class ThreadConnections:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._lock = threading.Lock()

    def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one transaction on this thread's connection: committed, or rolled back."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = self._engine.connect()
            with self._lock:
                self._opened.append(conn)
        with conn.begin():
            return work(conn, *args)

    def close(self) -> None:
        """Close every thread's connection; call once the threads have stopped."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
