"""Which bus an installation runs: in the process by default, Redis pub/sub when `REDIS_URL` is set."""

from __future__ import annotations

from widget_server.realtime.bus import Bus, MemoryBus


def make_bus(redis_url: str | None, redis_prefix: str = "openline") -> Bus:
    if redis_url:
        # Imported only here: redis-py is an optional extra, and a one-process installation never loads it.
        from widget_server.realtime.redis_bus import RedisBus

        return RedisBus(redis_url, prefix=redis_prefix)
    return MemoryBus()
