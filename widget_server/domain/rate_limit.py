"""A token bucket: a steady rate with room for bursts (a visitor pasting three lines is not an attack)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: int, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=float(burst), updated=now)

    def take(self, now: float) -> bool:
        """Spend one token if there is one; `now` is a monotonic time in seconds."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class KeyedBuckets:
    """A bucket per key (a visitor, an address), `per_minute` takes a minute with as many at once.

    A bucket that has refilled says nothing a fresh one would not, so such buckets are forgotten when the table
    is full: memory stays bounded however many keys come by.
    """

    per_minute: int
    max_keys: int = 50_000
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def take(self, key: str, now: float) -> bool:
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.max_keys:
                self._forget_refilled(now)
            bucket = self.buckets[key] = TokenBucket.full(self.per_minute / 60.0, self.per_minute, now)
        return bucket.take(now)

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has a token again (at least 1)."""
        bucket = self.buckets.get(key)
        if bucket is None:
            return 1
        return max(1, math.ceil((1.0 - bucket.tokens) / bucket.rate))

    def _forget_refilled(self, now: float) -> None:
        refill = 60.0
        self.buckets = {k: b for k, b in self.buckets.items() if now - b.updated < refill}
        if len(self.buckets) >= self.max_keys:  # all busy at once: start over rather than grow without end
            self.buckets.clear()
