"""Starting and stopping the servers under test, pinned to CPU 0, and reading their CPU time and memory.

Every server process runs under `taskset -c 0`; the load generator pins itself to CPU 1. CPU time and resident
memory come from /proc, summed over the target's processes (PostgreSQL and Redis are shared services of the
machine and are not counted: see RESULTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Target
from bench.seed import seed_openline

SERVER_CPU = "0"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
REPO = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")

# Openline under test: limits meant to stop abuse would otherwise throttle the load generator, which sends
# from a handful of addresses far faster than any person types. Everything else stays at its default.
OPENLINE_ENV = {
    "RATE_LIMIT_PER_SEC": "1000000",
    "RATE_LIMIT_BURST": "1000000",
    "HELLO_TIMEOUT": "120",
    "DEMO": "false",
    "LOG_LEVEL": "warning",
    "SECRET_KEY": "bench-secret-key-not-for-production",
}
PEERS = ("raw-relay", "naive-stack", "openline-sqlite", "openline-pg-redis")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def generator_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_open_files() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin_generator() -> str:
    """Pin this process (the load generator) to CPU 1 and lift its open-files limit to the hard one."""
    _raise_open_files()
    cpus = os.sched_getaffinity(0)
    if 1 in cpus and len(cpus) > 1:
        os.sched_setaffinity(0, {1})
    return ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))


def redis_bus_available() -> bool:
    return importlib.util.find_spec("widget_server.realtime.redis_bus") is not None


@dataclass
class Launched:
    target: Target
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    notes: list[str]


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    pinned = (["taskset", "-c", SERVER_CPU] if shutil.which("taskset") else []) + command
    with log.open("wb") as out:
        return subprocess.Popen(
            pinned,
            env=os.environ | env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            preexec_fn=_raise_open_files,
        )


async def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, limit: float = 240) -> None:
    # Generous: a server pinned to one core that a test suite also uses can take a minute just to import.
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text()[-2000:]}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _openline_command(port: int) -> list[str]:
    return [sys.executable, "-m", "widget_server", "serve", "--host", "127.0.0.1", "--port", str(port)]


def _migrate(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "widget_server", "migrate"],
            env=os.environ | env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


async def _pg_database(action: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        if action == "create":
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def launch(name: str, workdir: Path, line_ids: list[str]) -> AsyncIterator[Launched]:
    """Start peer `name` with the accounts for `line_ids`; stop it (and drop its database) afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    notes: list[str] = []
    pg_name: str | None = None
    try:
        if name == "raw-relay":
            logs.append(workdir / "raw-relay.log")
            processes.append(_spawn([sys.executable, "-m", "bench.peers.raw_relay", "--port", str(port)], {}, logs[-1]))
            ports = [port]
        elif name == "naive-stack":
            logs.append(workdir / "naive-stack.log")
            env = {"NAIVE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'naive.db'}"}
            command = [sys.executable, "-m", "uvicorn", "bench.peers.naive_stack:app", "--port", str(port)]
            processes.append(_spawn([*command, "--log-level", "warning"], env, logs[-1]))
            ports = [port]
        elif name == "openline-sqlite":
            logs.append(workdir / "openline.log")
            env = OPENLINE_ENV | {
                "DATA_DIR": str(workdir / "data"),
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'openline.db'}",
                "PUBLIC_URL": f"http://127.0.0.1:{port}",
            }
            _migrate(env, logs[-1])
            await seed_openline(env["DATABASE_URL"], line_ids)
            processes.append(_spawn(_openline_command(port), env, logs[-1]))
            ports = [port]
        elif name == "openline-pg-redis":
            pg_name = f"openline_bench_{uuid.uuid4().hex[:8]}"
            await _pg_database("create", pg_name)
            second = free_port()
            env = OPENLINE_ENV | {
                "DATA_DIR": str(workdir / "data"),
                "DATABASE_URL": f"{PG}/{pg_name}",
                "REDIS_URL": REDIS,
                "REDIS_PREFIX": f"bench-{pg_name}",  # the Redis server is shared with the test suites
                # Both processes are one installation: the console's origin is the first one's.
                "PUBLIC_URL": f"http://127.0.0.1:{port}",
            }
            logs += [workdir / "openline-1.log", workdir / "openline-2.log"]
            _migrate(env, logs[0])
            await seed_openline(env["DATABASE_URL"], line_ids)
            processes.append(_spawn(_openline_command(port), env, logs[0]))
            processes.append(_spawn(_openline_command(second), env, logs[1]))
            ports = [port, second]
            notes.append("visitors connect to process 1 and operators to process 2, so every message crosses Redis")
        else:
            raise ValueError(f"unknown peer {name}")
        for p, process, log in zip(ports, processes, logs, strict=True):
            await _wait_listening(p, process, log)
        target = Target(
            name=name,
            visitor_ports=ports[:1],
            operator_ports=ports[-1:],
            pids=[p.pid for p in processes],
            public_url=f"http://127.0.0.1:{port}",
            stores_messages=name != "raw-relay",
        )
        yield Launched(target, processes, logs, notes)
    finally:
        _stop(processes)
        if pg_name:
            await _pg_database("drop", pg_name)
