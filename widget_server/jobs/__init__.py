"""Durable timers: rows in `jobs` with a due time, claimed and run exactly once by any process."""
