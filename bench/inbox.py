"""The inbox list under load: 100,000 dialogs and 1,000,000 messages, every filter and a keyword search.

    .venv/bin/python -m bench.inbox                 # both databases, full size
    .venv/bin/python -m bench.inbox --db sqlite --dialogs 10000 --runs 50    # a quick look

What is timed is the service call behind `GET /api/dialogs` (`services.inbox.list_dialogs`): the filtered, ordered
page of 50 dialogs *and* its summaries (last message, unread count, added operators), on a warm database, one call
at a time. Each case runs `--runs` times after a warm-up; the table gives p50/p95/p99 in milliseconds. Results are
written to `bench/results/inbox-<database>.json` and summed up in `bench/INBOX.md` by hand.

The data is made to look like a shop's year: 10 lines, 30 operators (each on 2 to 4 lines), 80,000 visitors
(a third of them named), dialogs over 365 days of which about 8 % are still open (new, in progress, waiting),
10 messages per dialog on average (2 to 18), texts drawn from a 3,000-word vocabulary with a Zipf-like skew,
plus order numbers and product names, and a note in one dialog in twenty. It is loaded with the full-text index
switched off and the index built afterwards, as anyone importing a history would.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from widget_server.clock import SystemClock
from widget_server.config import Settings
from widget_server.domain.inbox_filter import parse_filter
from widget_server.services import inbox
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.storage import fulltext
from widget_server.storage.database import Database
from widget_server.storage.migrate import upgrade

RESULTS = Path(__file__).parent / "results"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
LINES = [f"line-{n:02d}" for n in range(10)]
FIRST = ["Anna", "Boris", "Carmen", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Katya", "Luis"]
LAST = ["Lopez", "Ivanova", "Schmidt", "Rossi", "Novak", "Silva", "Dubois", "Kowalski", "Moreau", "Petrov"]
PRODUCTS = ["kettle", "grinder", "espresso", "sencha", "dripper", "teapot", "giftbox", "filter", "beans", "scale"]
RARE_WORD = "zeppelin"  # put in ~60 messages
MEDIUM_WORD = "refund"  # in ~1 % of messages


@dataclass
class Seeded:
    dialogs: int
    messages: int
    operator_lines: dict[int, list[str]]
    sample_name: str
    sample_number: int


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3200)}
    return sorted(words)[:3000]


def sentence(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    n = rng.randint(4, 16)
    chosen = rng.choices(words, cum_weights=cumulative, k=n)
    roll = rng.random()
    if roll < 0.01:
        chosen.append(MEDIUM_WORD)
    if roll < 0.3:
        chosen.append(rng.choice(PRODUCTS))
    if roll > 0.97:
        chosen.append(f"#{rng.randint(10000, 99999)}")
    return " ".join(chosen).capitalize() + rng.choice([".", "?", "!"])


def generate(n_dialogs: int, seed: int = 7) -> tuple[dict[str, list[tuple[Any, ...]]], Seeded]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("lines", "operators", "op_lines", "visitors", "dialogs")}
    rows["messages"] = []
    rows["dialog_operators"] = []
    for line in LINES:
        rows["lines"].append((line, f"Shop {line}", "Hello!", "en", "[]", "s" * 32, "{}", NOW))
    operator_lines: dict[int, list[str]] = {}
    for op in range(1, 31):
        mine = rng.sample(LINES, rng.randint(2, 4))
        operator_lines[op] = mine
        rows["operators"].append((op, f"op{op}@bench.example", f"Operator {op}", "x", "operator", True, NOW))
        rows["op_lines"] += [(op, line) for line in mine]
    n_visitors = max(10, n_dialogs * 4 // 5)
    for v in range(1, n_visitors + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.33 else None
        rows["visitors"].append((v, f"{v:064x}", name, "en-US", "Mozilla/5.0 Chrome/131.0", None, NOW, NOW))
    line_ops = {line: [op for op, lines in operator_lines.items() if line in lines] for line in LINES}
    message_id = 0
    rare_left = 60
    sample_name = next(r[2] for r in rows["visitors"] if r[2])
    for d in range(1, n_dialogs + 1):
        line = rng.choice(LINES)
        age = timedelta(seconds=rng.randint(0, 365 * 86400))
        roll = rng.random()
        if roll < 0.92:
            status = "finished"
        else:
            status = rng.choice(["new", "in_progress", "waiting"])
            age = timedelta(seconds=rng.randint(0, 3 * 86400))  # open dialogs are recent
        created = NOW - age
        operator = None if status == "new" else rng.choice(line_ops[line] or [1])
        n_messages = rng.randint(2, 18)
        updated = created + timedelta(minutes=n_messages * 2)
        unanswered = status == "new" or (status == "in_progress" and rng.random() < 0.4)
        waiting_since = updated if unanswered else None
        visitor = rng.randint(1, n_visitors)
        rows["dialogs"].append(
            (
                d,
                d,
                line,
                visitor,
                status,
                "website",
                operator,
                waiting_since,
                n_messages,
                n_messages,
                n_messages,
                "https://shop.example/p",
                "Product page",
                created,
                updated,
                updated if status == "finished" else None,
            )
        )
        if operator and rng.random() < 0.05:
            helper = rng.choice(line_ops[line] or [1])
            if helper != operator:
                rows["dialog_operators"].append((d, helper, created))
        for seq in range(1, n_messages + 1):
            message_id += 1
            at = created + timedelta(minutes=seq * 2)
            if seq == 1:
                kind, author, body = "text", "bot", "Hello! How can we help?"
            elif seq == 3 and operator and d % 20 == 0:
                kind, author, body = "note", "operator", "Note: " + sentence(rng, words, weights)
            else:
                kind = "text"
                author = "visitor" if (seq % 2 == 0 or operator is None) else "operator"
                body = sentence(rng, words, weights)
                if rare_left and rng.random() < 60 / (n_dialogs * 10) * 2:
                    body += f" {RARE_WORD}"
                    rare_left -= 1
            op_id = operator if author == "operator" else None
            rows["messages"].append((message_id, d, seq, kind, author, op_id, None, body, None, at))
    sample_number = rows["dialogs"][len(rows["dialogs"]) // 2][1]
    return rows, Seeded(n_dialogs, message_id, operator_lines, sample_name, sample_number)


COLUMNS = {
    "open_lines": "id, name, greeting, language, allowed_origins, secret, settings, created_at",
    "operators": "id, email, name, password_hash, role, is_active, created_at",
    "operator_lines": "operator_id, line_id",
    "visitors": "id, token_hash, name, language, user_agent, location, created_at, last_seen_at",
    "dialogs": "id, number, line_id, visitor_id, status, channel, operator_id, waiting_since, last_seq, "
    "visitor_seen_seq, operator_seen_seq, page_url, page_title, created_at, updated_at, closed_at",
    "dialog_operators": "dialog_id, operator_id, added_at",
    "messages": "id, dialog_id, seq, kind, author_type, operator_id, code, body, client_msg_id, created_at",
}
SOURCES = {
    "open_lines": "lines",
    "operators": "operators",
    "operator_lines": "op_lines",
    "visitors": "visitors",
    "dialogs": "dialogs",
    "dialog_operators": "dialog_operators",
    "messages": "messages",
}


def load_sqlite(path: Path, rows: dict[str, list[tuple[Any, ...]]], seeded: Seeded) -> None:
    import sqlite3

    def naive(value: Any) -> Any:
        # The text form SQLAlchemy writes for a DateTime on SQLite (so that comparisons order correctly).
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA foreign_keys=OFF")
    for fts in fulltext.SQLITE_TABLES:
        for suffix in ("ai", "ad", "au"):
            db.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        db.execute(f"DROP TABLE IF EXISTS {fts}")
    for table, columns in COLUMNS.items():
        data = rows[SOURCES[table]]
        marks = ", ".join("?" for _ in columns.split(","))
        db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", ([naive(v) for v in r] for r in data))
    db.execute("UPDATE counters SET value = ? WHERE name = 'dialog_number'", (seeded.dialogs,))
    db.commit()
    db.close()


async def load_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]], seeded: Seeded) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in fulltext.PG_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS {name}")
        for table, columns in COLUMNS.items():
            data = rows[SOURCES[table]]
            if table == "open_lines":  # JSON columns: COPY's binary format has no encoder for them; ten rows anyway
                await conn.executemany(
                    f"INSERT INTO open_lines ({columns}) VALUES ($1, $2, $3, $4, '[]', $5, '{{}}', $6)",
                    [(*r[:4], r[5], r[7]) for r in data],
                )
                continue
            await conn.copy_records_to_table(table, records=data, columns=[c.strip() for c in columns.split(",")])
        await conn.execute("UPDATE counters SET value = $1 WHERE name = 'dialog_number'", seeded.dialogs)
        for table in ("dialogs", "messages", "visitors", "operators"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    finally:
        await conn.close()


async def build_index(url: str) -> float:
    started = time.perf_counter()
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(fulltext.install)
        if connection.dialect.name == "postgresql":
            await connection.execute(text("ANALYZE"))
        else:
            await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


def cases(seeded: Seeded, me: int, other: int) -> list[tuple[str, dict[str, list[str]], bool]]:
    return [
        ("open chats (default)", {}, False),
        ("all statuses", {"status": ["all"]}, False),
        ("status: finished", {"status": ["finished"]}, False),
        ("status: new + waiting", {"status": ["new", "waiting"]}, False),
        ("channel: website", {"channel": ["website"]}, False),
        ("type: unassigned", {"type": ["unassigned"]}, False),
        ("type: assigned to me", {"type": ["mine"]}, False),
        ("type: assigned to me, all statuses", {"type": ["mine"], "status": ["all"]}, False),
        ("type: unanswered", {"type": ["unanswered"]}, False),
        ("operator: one, all statuses", {"operator": [str(other)], "status": ["all"]}, False),
        ("operators: two, open", {"operator": [str(other), str(me)]}, False),
        ("unanswered + mine + website", {"type": ["unanswered", "mine"], "channel": ["website"]}, False),
        ("finished + one operator + page 5", {"status": ["finished"], "operator": [str(other)]}, True),
        (f"search: rare word ({RARE_WORD})", {"q": [RARE_WORD], "status": ["all"]}, False),
        (f"search: 1% word ({MEDIUM_WORD})", {"q": [MEDIUM_WORD], "status": ["all"]}, False),
        ("search: product + 1% word", {"q": [f"kettle {MEDIUM_WORD}"], "status": ["all"]}, False),
        ("search: common prefix (2 letters)", {"q": ["re"], "status": ["all"]}, False),
        ("search: client name", {"q": [seeded.sample_name], "status": ["all"]}, False),
        ("search: dialog number", {"q": [f"#{seeded.sample_number}"], "status": ["all"]}, False),
        ("search: word, open chats only", {"q": [MEDIUM_WORD]}, False),
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, seeded: Seeded, runs: int) -> list[dict[str, Any]]:
    settings = Settings(database_url=url, secret_key="bench", data_dir=Path(tempfile.gettempdir()))
    db = Database(url)
    ctx = Context(settings=settings, db=db, events=_NoEvents(), clock=SystemClock())
    # An operator of four lines (about 40 % of all dialogs), and a colleague to filter by.
    me = max(seeded.operator_lines, key=lambda op: len(seeded.operator_lines[op]))
    lines = frozenset(seeded.operator_lines[me])
    other = next(op for op, ls in seeded.operator_lines.items() if op != me and set(ls) & lines)
    who = OperatorIdentity(me, "me@bench.example", "Me", "operator", lines)
    results = []
    for name, params, paged in cases(seeded, me, other):
        f = parse_filter(params)
        cursor = None
        if paged:
            for _ in range(4):
                cursor = (await inbox.list_dialogs(ctx, who, f, cursor))["next_cursor"]
        for _ in range(max(3, runs // 10)):  # warm-up
            page = await inbox.list_dialogs(ctx, who, f, cursor)
        timings, cpu = [], []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            page = await inbox.list_dialogs(ctx, who, f, cursor)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        results.append(
            {
                "case": name,
                "params": params,
                "items": len(page["items"]),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 95), 2),
                "p99_ms": round(percentile(timings, 99), 2),
                "max_ms": round(max(timings), 2),
                # CPU of this process (SQLite works in its thread; PostgreSQL's work is in the server, not here).
                "cpu_p50_ms": round(statistics.median(cpu), 2),
                "cpu_p95_ms": round(percentile(cpu, 95), 2),
            }
        )
        r = results[-1]
        print(
            f"  {name:<40} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['cpu_p50_ms']:>8.2f} {r['cpu_p95_ms']:>8.2f}"
            f"  ({len(page['items'])} items)"
        )
    await db.dispose()
    return results


class _NoEvents:
    def publish(self, topic: str, event: object) -> None:
        pass


async def run_one(kind: str, n_dialogs: int, runs: int, keep: bool) -> dict[str, Any]:
    print(f"\n== {kind}: generating {n_dialogs:,} dialogs")
    started = time.perf_counter()
    rows, seeded = generate(n_dialogs)
    print(f"   {seeded.messages:,} messages generated in {time.perf_counter() - started:.1f} s")
    pg_name = None
    workdir = Path(tempfile.mkdtemp(prefix="openline-bench-"))
    try:
        if kind == "sqlite":
            path = workdir / "inbox.db"
            url = f"sqlite+aiosqlite:///{path}"
            upgrade(url)
            started = time.perf_counter()
            load_sqlite(path, rows, seeded)
        else:
            from tests.support.services import create_pg_database, pg_url

            pg_name = create_pg_database()
            url = pg_url(pg_name)
            print(f"   PostgreSQL database {pg_name}")
            upgrade(url)
            started = time.perf_counter()
            await load_postgres(url, rows, seeded)
        loaded = time.perf_counter() - started
        del rows
        indexed = await build_index(url)
        print(f"   loaded in {loaded:.1f} s, full-text index built in {indexed:.1f} s")
        print(f"  {'case':<40} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
        load_before = os.getloadavg()
        results = await measure(url, seeded, runs)
        size = _disk_bytes(workdir) if kind == "sqlite" else None
    finally:
        if keep:
            print(f"   kept: {workdir}" + (f" and PostgreSQL database {pg_name}" if pg_name else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if pg_name:
                from tests.support.services import drop_pg_database

                drop_pg_database(pg_name)
    return {
        "database": kind,
        "dialogs": seeded.dialogs,
        "messages": seeded.messages,
        "runs_per_case": runs,
        "load_seconds": round(loaded, 1),
        "index_seconds": round(indexed, 1),
        "sqlite_file_bytes": size,
        # Others share this machine: the 1-, 5- and 15-minute load averages when the timing started.
        "load_average": [round(x, 2) for x in load_before],
        "cases": results,
        "worst_p95_ms": max(r["p95_ms"] for r in results),
        "worst_cpu_p95_ms": max(r["cpu_p95_ms"] for r in results),
    }


async def seeded_from(url: str) -> Seeded:
    """What the cases need to know of a database loaded before (`--reuse`)."""
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        operator_lines: dict[int, list[str]] = {}
        for op, line in (await conn.execute(text("SELECT operator_id, line_id FROM operator_lines"))).all():
            operator_lines.setdefault(op, []).append(line)
        dialogs = (await conn.execute(text("SELECT count(*) FROM dialogs"))).scalar_one()
        messages = (await conn.execute(text("SELECT count(*) FROM messages"))).scalar_one()
        name = (await conn.execute(text("SELECT name FROM visitors WHERE name IS NOT NULL LIMIT 1"))).scalar_one()
    await engine.dispose()
    return Seeded(dialogs, messages, operator_lines, name, dialogs // 2 + 1)


async def rerun(url: str, runs: int) -> dict[str, Any]:
    seeded = await seeded_from(url)
    print(f"\n== {url.split('+')[0]}: {seeded.dialogs:,} dialogs, {seeded.messages:,} messages (reused)")
    print(f"  {'case':<40} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    load_before = os.getloadavg()
    results = await measure(url, seeded, runs)
    return {
        "database": "sqlite" if url.startswith("sqlite") else "postgres",
        "dialogs": seeded.dialogs,
        "messages": seeded.messages,
        "runs_per_case": runs,
        "load_average": [round(x, 2) for x in load_before],
        "cases": results,
        "worst_p95_ms": max(r["p95_ms"] for r in results),
        "worst_cpu_p95_ms": max(r["cpu_p95_ms"] for r in results),
    }


def _disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--dialogs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the databases (SQLite file, PostgreSQL database)")
    parser.add_argument("--reuse", metavar="URL", help="time the cases on a database kept by --keep")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for kind in kinds if not args.reuse else ("reused",):
        report = asyncio.run(
            rerun(args.reuse, args.runs) if args.reuse else run_one(kind, args.dialogs, args.runs, args.keep)
        )
        kind = report["database"]
        report["machine"] = {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        out = RESULTS / f"inbox-{kind}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        verdict = "under" if report["worst_p95_ms"] < 50 else "OVER"
        print(f"   worst p95 {report['worst_p95_ms']} ms: {verdict} the 50 ms target; written to {out}")


if __name__ == "__main__":
    main()
