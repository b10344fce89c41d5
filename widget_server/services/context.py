"""What every use case needs, handed around as one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from widget_server.clock import Clock
from widget_server.config import Settings
from widget_server.realtime.events import Event
from widget_server.services.line_cache import LineCache
from widget_server.storage.database import Database
from widget_server.storage.file_store import FileStore


class EventSink(Protocol):
    def publish(self, topic: str, event: Event) -> None: ...


@dataclass
class Context:
    settings: Settings
    db: Database
    events: EventSink
    clock: Clock
    # Wakes the job runner for a job due now; the app sets it, tests without a runner leave it as is.
    kick_jobs: Callable[[], None] = field(default=lambda: None)
    # Attached files; the local disk under DATA_DIR unless the app is given another store.
    files: FileStore | None = None
    # The lines visitors' connections read, shared and kept fresh (line_cache.py).
    lines: LineCache = field(default_factory=LineCache)
