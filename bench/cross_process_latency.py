"""What the Redis hop costs: visitor -> operator latency with both on one process vs. on two.

    .venv/bin/python bench/cross_process_latency.py [--messages 500]

Needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), like the tests. It creates a database of its own
and starts real server processes (`python -m widget_server serve`), with the rate limits raised so that the
limiter does not pace the test. One at a time, the visitor sends a message (committed, then published) and a
`typing` frame (no write: nearer to the bus's own cost), and the time until an operator receives it is taken.

- Paired, the main result: the visitor on process A, one operator on A and another on B, both in the dialog.
  Every frame reaches both, so each sample gives the same-process time and the cross-process time *of the same
  frame*; their difference is the Redis path's cost, free of the drift of a shared, busy machine.
- Baseline: one process with the in-process bus (no Redis), visitor and operator on it.
- The Redis hop alone: two RedisBus instances in this process, one publishing, the other hearing (no server,
  no database).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.clients import OperatorClient, Visitor, login, make_line, new_id
from tests.support.processes import ServerProcess
from tests.support.services import create_pg_database, drop_pg_database, pg_url, redis_settings
from widget_server.realtime.events import Event
from widget_server.realtime.redis_bus import RedisBus

FAST = {"RATE_LIMIT_PER_SEC": "100000", "RATE_LIMIT_BURST": "100000"}

Samples = dict[str, list[float]]  # "<frame> <operator>" -> milliseconds


async def measure(
    visitor_on: ServerProcess, operators_on: dict[str, ServerProcess], count: int, warmup: int
) -> Samples:
    token = login(visitor_on)
    origins = [visitor_on.url, *(p.url for p in operators_on.values())]
    line = make_line(visitor_on, token, allowed_origins=origins)
    operators = {name: await OperatorClient.connect(p, token) for name, p in operators_on.items()}
    visitor = await Visitor.connect(visitor_on, line=line["id"])
    first = await visitor.say("hello")
    for operator in operators.values():
        await operator.join(first["dialog_id"])
    samples: Samples = {f"{frame} {name}": [] for frame in ("message", "typing") for name in operators}

    async def arrival(operator: OperatorClient, type_: str, **match: object) -> float:
        await operator.expect(type_, **match)
        return time.perf_counter()

    for n in range(warmup + count):
        text = f"ping {n} {new_id()}"
        for frame, payload, match in (
            ("message", {"type": "send", "client_msg_id": new_id(), "text": text}, {"text": text}),
            ("typing", {"type": "typing", "active": n % 2 == 0}, {"active": n % 2 == 0}),
        ):
            started = time.perf_counter()
            await visitor.send(payload)
            arrived = await asyncio.gather(*(arrival(o, frame, **match) for o in operators.values()))
            if n >= warmup:
                for name, at in zip(operators, arrived, strict=True):
                    samples[f"{frame} {name}"].append((at - started) * 1000)
        visitor.pending.clear()  # the acks: not measured, and they would pile up
        for operator in operators.values():
            operator.pending.clear()  # the other dialog frames (status, seen) likewise
    await visitor.close()
    for operator in operators.values():
        await operator.close()
    return samples


async def bus_hop(url: str, prefix: str, count: int, warmup: int) -> list[float]:
    one, two = RedisBus(url, prefix=prefix), RedisBus(url, prefix=prefix)
    await one.start()
    await two.start()
    arrived = asyncio.Event()
    two.subscribe("line:bench", lambda _event: arrived.set())
    await two.listening("line:bench")
    frame = '{"type":"message","dialog_id":1,"seq":1,"text":"' + "x" * 100 + '"}'
    samples = []
    try:
        for n in range(warmup + count):
            arrived.clear()
            started = time.perf_counter()
            one.publish("line:bench", Event(frame, 1, n + 1))
            await arrived.wait()
            if n >= warmup:
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await one.stop()
        await two.stop()
    return samples


def row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return (
        f"| {name} | {len(samples)} | {statistics.mean(samples):.2f} | {pct(50):.2f} | {pct(90):.2f} | {pct(99):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    database = create_pg_database()
    redis = redis_settings()
    redis_env = {"REDIS_URL": str(redis["redis_url"]), "REDIS_PREFIX": str(redis["redis_prefix"])}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            alone = ServerProcess("alone", root / "alone", pg_url(database), None, FAST).start()
            try:
                baseline = asyncio.run(measure(alone, {"same": alone}, args.messages, args.warmup))
            finally:
                alone.stop()
            a = ServerProcess("a", root / "a", pg_url(database), None, FAST | redis_env)
            b = ServerProcess("b", root / "b", pg_url(database), None, FAST | redis_env)
            for process in (a, b):
                process.launch()
            try:
                for process in (a, b):
                    process.wait_ready()
                paired = asyncio.run(measure(a, {"A": a, "B": b}, args.messages, args.warmup))
            finally:
                a.stop()
                b.stop()
        finally:
            drop_pg_database(database)
    hop = asyncio.run(bus_hop(str(redis["redis_url"]), str(redis["redis_prefix"]), args.messages * 3, args.warmup))

    print("visitor on A -> operator, milliseconds (PostgreSQL on this machine)\n")
    print("| set-up | samples | mean | p50 | p90 | p99 |")
    print("|---|---|---|---|---|---|")
    for frame in ("message", "typing"):
        print(row(f"{frame}: one process, in-process bus", baseline[f"{frame} same"]))
        print(row(f"{frame}: Redis bus, operator on A (same process)", paired[f"{frame} A"]))
        print(row(f"{frame}: Redis bus, operator on B (cross-process)", paired[f"{frame} B"]))
        added = [b - a for a, b in zip(paired[f"{frame} A"], paired[f"{frame} B"], strict=True)]
        print(row(f"{frame}: added by the cross-process path (B - A, same frame)", added))
    print(row("Redis hop alone (bus to bus, no server)", hop))


if __name__ == "__main__":
    main()
