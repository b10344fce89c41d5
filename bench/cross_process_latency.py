"""What the Redis hop costs: visitor -> operator latency with both on one process vs. on two.

    .venv/bin/python bench/cross_process_latency.py [--messages 300]

Needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), like the tests. It creates a database of its own,
starts real server processes (`python -m widget_server serve`) and measures, one message at a time, the time from
the visitor's `send` to the operator's `message` frame (a committed message), and from the visitor's `typing` to
the operator's `typing` frame (no write: nearer to the bus's own cost), in three set-ups:
- `one process, no Redis`: PostgreSQL and the in-process bus;
- `Redis, same process`: PostgreSQL and the Redis bus, visitor and operator on process A;
- `Redis, A -> B`: the visitor on process A, the operator on process B.
The rate limits are raised so that the limiter does not pace the messages.
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

FAST = {"RATE_LIMIT_PER_SEC": "100000", "RATE_LIMIT_BURST": "100000"}


Samples = dict[str, list[float]]


async def measure(visitor_on: ServerProcess, operator_on: ServerProcess, messages: int, warmup: int) -> Samples:
    token = login(visitor_on)
    line = make_line(visitor_on, token, allowed_origins=[visitor_on.url, operator_on.url])
    operator = await OperatorClient.connect(operator_on, token)
    visitor = await Visitor.connect(visitor_on, line=line["id"])
    first = await visitor.say("hello")
    await operator.join(first["dialog_id"])
    samples: Samples = {"message": [], "typing": []}
    for n in range(warmup + messages):
        text = f"ping {n} {new_id()}"
        started = time.perf_counter()
        await visitor.send({"type": "send", "client_msg_id": new_id(), "text": text})
        await operator.expect("message", text=text)
        if n >= warmup:
            samples["message"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await visitor.send({"type": "typing", "active": n % 2 == 0})
        await operator.expect("typing", active=n % 2 == 0)
        if n >= warmup:
            samples["typing"].append((time.perf_counter() - started) * 1000)
        visitor.pending.clear()  # the acks: not measured, and they would pile up
    await visitor.close()
    await operator.close()
    return samples


def row(name: str, what: str, samples: list[float]) -> str:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return (
        f"| {name} | {what} | {len(samples)} | {statistics.mean(samples):.2f} | {pct(50):.2f} | {pct(90):.2f} "
        f"| {pct(99):.2f} | {max(samples):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    database = create_pg_database()
    redis = redis_settings()
    redis_env = {"REDIS_URL": str(redis["redis_url"]), "REDIS_PREFIX": str(redis["redis_prefix"])}
    results: list[tuple[str, Samples]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            alone = ServerProcess("alone", root / "alone", pg_url(database), None, FAST).start()
            try:
                samples = asyncio.run(measure(alone, alone, args.messages, args.warmup))
                results.append(("one process, no Redis", samples))
            finally:
                alone.stop()
            a = ServerProcess("a", root / "a", pg_url(database), None, FAST | redis_env).start()
            b = ServerProcess("b", root / "b", pg_url(database), None, FAST | redis_env).start()
            try:
                results.append(("Redis, same process", asyncio.run(measure(a, a, args.messages, args.warmup))))
                results.append(("Redis, A -> B", asyncio.run(measure(a, b, args.messages, args.warmup))))
            finally:
                a.stop()
                b.stop()
        finally:
            drop_pg_database(database)
    print("visitor -> operator, milliseconds\n")
    print("| set-up | frame | samples | mean | p50 | p90 | p99 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for what in ("message", "typing"):
        for name, samples in results:
            print(row(name, what, samples[what]))


if __name__ == "__main__":
    main()
