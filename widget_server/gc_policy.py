"""How the server process uses Python's cyclic garbage collector.

A chat server's heap is mostly long-lived: about a hundred container objects per open connection (coroutines,
their frames' dicts and cells, the protocol, the session), so a million at 10,000 visitors. A pass of the
collector over the whole heap held the event loop for 0.3 to 1 s on the benchmark machine, and with Python's
default thresholds (700, 10, 10) such passes came every few seconds while visitors connected, and again during
the message steps: each one put every message in flight a second late (bench/notes.md, 2026-11-30).

Two changes, measured there: the objects made while starting (modules, classes, the app, the SQL it compiled)
are frozen, so no pass looks at them again; and the youngest generation is collected after 20,000 net
allocations instead of 700, by which time the objects of the messages being handled have died by reference
counting and are not promoted to the old generations that cost more to collect. Python's own rule still bounds
what cyclic garbage can pile up: a full pass when the old generation has grown by a quarter.
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLDS = (20_000, 20, 10)


def parse_thresholds(text: str) -> tuple[int, int, int] | None:
    """`"20000,20,10"` → (20000, 20, 10); an empty string → None (leave Python's own). ValueError when malformed."""
    if not text.strip():
        return None
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError("must be three whole numbers, like 20000,20,10 (or empty for Python's defaults)")
    young, middle, old = (int(part) for part in parts)
    if young < 1 or middle < 1 or old < 1:
        raise ValueError("each threshold must be at least 1")
    return young, middle, old


def apply(thresholds: tuple[int, int, int] | None) -> None:
    """Call once the app is built, just before serving: freezes what startup made and sets the thresholds."""
    gc.collect()
    gc.freeze()
    if thresholds is not None:
        gc.set_threshold(*thresholds)
