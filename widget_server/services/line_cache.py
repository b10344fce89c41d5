"""The lines this process has read lately, shared by every visitor connection of a line.

Every visitor socket needs its line before the handshake (the origin check) and for its whole life. Read per
connection, 5,000 visitors reconnecting at once made 5,000 reads of one row, and each connection kept its own
copy of it (about 1.5 KB as an ORM instance). A line is read again after `FRESH_SECONDS` in any case and at once
when this process changes it; another process's change reaches new connections here within that time (an open
connection keeps the line it started with, as before).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from widget_server.storage.snapshots import LineSnapshot

FRESH_SECONDS = 1.0


class LineCache:
    def __init__(self, fresh_seconds: float = FRESH_SECONDS) -> None:
        self._fresh = fresh_seconds
        self._lines: dict[str, tuple[float, LineSnapshot]] = {}

    async def get(self, line_id: str, load: Callable[[str], Awaitable[LineSnapshot | None]]) -> LineSnapshot | None:
        now = time.monotonic()
        cached = self._lines.get(line_id)
        if cached is not None and now - cached[0] < self._fresh:
            return cached[1]
        line = await load(line_id)
        if line is None:
            self._lines.pop(line_id, None)
        else:
            self._lines[line_id] = (now, line)
        return line

    def forget(self, line_id: str) -> None:
        self._lines.pop(line_id, None)
