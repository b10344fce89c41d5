"""`python -m bench [--quick] [--peers a,b] [--out DIR]`: run every workload against every peer, write the report.

The full run writes `bench/results/<date>.json` and `bench/RESULTS.md`. `--quick` runs the same code on tiny
sizes (CI runs it as a test: it proves the harness works and fills every field; its numbers mean nothing) and
writes into `bench/results/tmp/quick/` unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from bench import report, workloads
from bench.loadgen import Clients, Tally, close_all
from bench.targets import PEERS, REPO, launch, pin_generator, redis_bus_available
from bench.wsclient import SourceAddresses

PACKAGES = (
    "websockets",
    "uvicorn",
    "starlette",
    "sqlalchemy",
    "sqlmodel",
    "aiosqlite",
    "asyncpg",
    "redis",
    "orjson",
    "uvloop",
    "httptools",
    "pydantic",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


async def _postgres_version() -> str | None:
    try:
        import asyncpg

        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=3)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()
    except Exception:
        return None


async def _workload(result: dict[str, Any], key: str, coro: Any) -> Any:
    started = time.monotonic()
    print(f"   {key} ({time.strftime('%H:%M:%S')})", flush=True)
    try:
        value = await coro
    except Exception as exc:
        result[key] = {"failed": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=5)}
        return None
    if isinstance(value, tuple):
        result[key] = value[0]
    else:
        result[key] = value
    result[key]["seconds"] = round(time.monotonic() - started, 1)
    return value


@contextlib.contextmanager
def _profiled(pids: list[int], path: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (collapsed stacks, for flame graphs or grep)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if path is None or not Path(spy).exists():
        yield
        return
    process = subprocess.Popen(
        [spy, "record", "--pid", str(pids[0]), "--format", "raw", "--rate", "100", "--nonblocking", "-o", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


async def run_peer(
    name: str,
    sizes: workloads.Sizes,
    workdir: Path,
    sources: SourceAddresses,
    profile: bool = False,
    only: set[str] | None = None,
) -> dict[str, Any]:
    def wanted(key: str) -> bool:
        return only is None or key in only

    result: dict[str, Any] = {"peer": name}
    async with launch(name, workdir / name, workloads.lines_needed(sizes)) as launched:
        result["processes"] = len(launched.processes)
        result["notes"] = launched.notes
        clients = Clients(launched.target, sources)
        tally = Tally()
        idle = await _workload(result, "idle", workloads.idle(clients, sizes, tally))
        try:
            profile_path = workdir / f"{name}-dialogs.profile.txt" if profile else None
            profiler = _profiled(launched.target.pids, profile_path)
            if wanted("dialogs"):
                await _workload(result, "dialogs", workloads.dialogs(clients, sizes, tally, profiler))
        finally:
            if idle is not None:
                await idle[2].stop()
                close_all(idle[1])
        await asyncio.sleep(1.0)
        if wanted("fanout"):
            await _workload(result, "fanout", workloads.fanout(clients, sizes, tally))
            await asyncio.sleep(1.0)
        if wanted("storm"):
            storm_profile = workdir / f"{name}-storm.profile.txt" if profile else None
            profiler = _profiled(launched.target.pids, storm_profile)
            await _workload(result, "storm", workloads.storm(clients, sizes, tally, profiler))
        result["error_frames"] = dict(tally.errors)
        alive = [p.poll() is None for p in launched.processes]
        result["server_survived"] = all(alive)
        tails = [log.read_text(errors="replace")[-1500:] for log in launched.logs]
        if any("Traceback" in t or "ERROR" in t for t in tails):
            result["server_log_tail"] = tails
    return result


async def main_async(args: argparse.Namespace) -> int:
    sizes = workloads.QUICK if args.quick else workloads.FULL
    if args.steps:
        sizes = dataclasses.replace(sizes, steps=[int(x) for x in args.steps.split(",")])
    if args.step_seconds:
        sizes = dataclasses.replace(sizes, step_seconds=args.step_seconds)
    for pair in args.set or []:
        key, _, value = pair.partition("=")
        sizes = dataclasses.replace(sizes, **{key: type(getattr(sizes, key))(value)})
    only = set(args.only.split(",")) if args.only else None
    cpus = pin_generator()
    sources = SourceAddresses()
    peers = [p.strip() for p in args.peers.split(",")] if args.peers else list(PEERS)
    out = Path(args.out) if args.out else (REPO / "bench/results/tmp/quick" if args.quick else REPO / "bench")
    workdir = Path(args.workdir) if args.workdir else REPO / "bench/results/tmp/work"
    shutil.rmtree(workdir, ignore_errors=True)
    started = dt.datetime.now(dt.UTC)
    run: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "server_cpu": "0 (taskset -c 0)",
            "generator_cpu": cpus,
            "postgresql": await _postgres_version(),
        },
        "versions": {name: _version(name) for name in PACKAGES},
        "commit": _git_commit(),
        "sizes": sizes.__dict__,
        "peers": {},
        "skipped_peers": {},
    }
    for name in peers:
        if name == "openline-pg-redis" and not redis_bus_available():
            run["skipped_peers"][name] = (
                "the Redis bus (widget_server/realtime/redis_bus.py, issue 6) is not in this tree yet; "
                "the peer is wired in bench/targets.py and runs as soon as it lands"
            )
            continue
        print(f"== {name}", flush=True)
        peer_started = time.monotonic()
        try:
            run["peers"][name] = await run_peer(name, sizes, workdir, sources, args.profile, only)
        except Exception as exc:
            run["peers"][name] = {"peer": name, "failed": f"{type(exc).__name__}: {exc}"}
        run["peers"][name]["seconds"] = round(time.monotonic() - peer_started, 1)
        print(report.peer_line(run["peers"][name]), flush=True)
    run["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    run["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    run["ratios"] = report.ratios(run)
    run["targets"] = report.targets(run)
    results = out / "results" if out == REPO / "bench" else out
    results.mkdir(parents=True, exist_ok=True)
    json_path = results / f"{started.date().isoformat()}.json"
    json_path.write_bytes(orjson.dumps(run, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    md_path = out / "RESULTS.md"
    md_path.write_text(report.markdown(run, json_path.relative_to(out) if json_path.is_relative_to(out) else json_path))
    print(f"wrote {json_path} and {md_path}")
    failed = report.failures(run)
    for failure in failed:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness, not the speed")
    parser.add_argument("--peers", help=f"comma-separated subset of {', '.join(PEERS)}")
    parser.add_argument("--out", help="where RESULTS.md and the JSON go")
    parser.add_argument("--workdir", help="scratch space for databases and logs")
    parser.add_argument("--steps", help="offered loads of the dialogs workload, e.g. 500,1000")
    parser.add_argument("--step-seconds", type=float, help="how long each offered load is held")
    parser.add_argument("--profile", action="store_true", help="py-spy the servers in the dialog steps and the storm")
    parser.add_argument("--set", action="append", metavar="SIZE=N", help="override one size, e.g. idle=2000")
    parser.add_argument("--only", help="comma-separated workloads to run after idle: dialogs, fanout, storm")
    parser.add_argument("--render", metavar="JSON", help="only rewrite RESULTS.md from a results file")
    args = parser.parse_args(argv)
    if args.render:
        path = Path(args.render).resolve()
        run = orjson.loads(path.read_bytes())
        out = Path(args.out) if args.out else REPO / "bench"
        (out / "RESULTS.md").write_text(
            report.markdown(run, path.relative_to(out) if path.is_relative_to(out) else path)
        )
        return
    try:
        import uvloop

        code = uvloop.run(main_async(args))
    except ImportError:
        code = asyncio.run(main_async(args))
    raise SystemExit(code)
