"""Time as a dependency: the server reads the wall clock, tests inject their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class FileClock:
    """For tests with several server processes only (`TEST_CLOCK_FILE`): a FakeClock shared through a file.

    The file holds the seconds by which the test has advanced time; every process reads it on each call, so one
    write moves the clock of all of them. A missing or empty file means no time has passed.
    """

    def __init__(self, path: Path, start: datetime | None = None) -> None:
        self.path = path
        self._start = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def offset(self) -> float:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0.0
        return float(text) if text else 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.offset())

    def monotonic(self) -> float:
        return 1000.0 + self.offset()

    def advance(self, seconds: float) -> None:
        # Write then rename: a reader never sees a half-written number.
        scratch = self.path.with_name(self.path.name + ".new")
        scratch.write_text(repr(self.offset() + seconds))
        scratch.replace(self.path)
