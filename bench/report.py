"""From the figures of a run to ratios, the targets of issue 7, and `RESULTS.md`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPENLINE = ("openline-sqlite", "openline-pg-redis")
# The reading of the figures, written by hand after a full run and appended to RESULTS.md.
NOTES = Path(__file__).parent / "notes.md"


def _get(run: dict[str, Any], peer: str, *path: str) -> Any:
    value: Any = run["peers"].get(peer)
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def ratios(run: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for peer in OPENLINE:
        if peer not in run["peers"]:
            continue
        cap = _get(run, peer, "dialogs", "capacity_per_sec")
        naive = _get(run, "naive-stack", "dialogs", "capacity_per_sec")
        lowest_step = min(run.get("sizes", {}).get("steps") or [0])
        out[peer] = {
            "capacity_vs_raw_relay": _ratio(cap, _get(run, "raw-relay", "dialogs", "capacity_per_sec")),
            "capacity_vs_naive_stack": _ratio(cap, naive),
            # The naive stack failed even the lowest step: its capacity is below that step, so the ratio is above
            # capacity / lowest step (a bound, not a figure).
            "capacity_vs_naive_stack_above": _ratio(cap, lowest_step) if naive == 0 and cap else None,
            "cpu_bound_estimate_vs_raw_relay": _ratio(
                _get(run, peer, "dialogs", "cpu_bound_estimate_per_sec"),
                _get(run, "raw-relay", "dialogs", "cpu_bound_estimate_per_sec"),
            ),
            "cpu_bound_estimate_vs_naive_stack": _ratio(
                _get(run, peer, "dialogs", "cpu_bound_estimate_per_sec"),
                _get(run, "naive-stack", "dialogs", "cpu_bound_estimate_per_sec"),
            ),
            "memory_per_connection_vs_naive_stack": _ratio(
                _get(run, peer, "idle", "kib_per_connection"), _get(run, "naive-stack", "idle", "kib_per_connection")
            ),
            "memory_per_connection_vs_raw_relay": _ratio(
                _get(run, peer, "idle", "kib_per_connection"), _get(run, "raw-relay", "idle", "kib_per_connection")
            ),
            "fanout_cpu_per_delivery_vs_websockets_broadcast": _ratio(
                _get(run, peer, "fanout", "server_cpu_us_per_delivery"),
                _get(run, "raw-relay", "fanout", "server_cpu_us_per_delivery"),
            ),
        }
    return out


def targets(run: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for peer in OPENLINE:
        if peer not in run["peers"]:
            continue
        r = run.get("ratios", {}).get(peer) or ratios(run)[peer]
        p99 = _get(run, peer, "dialogs", "p99_ms_at_2000")
        kib = _get(run, peer, "idle", "kib_per_connection")
        fan = r["fanout_cpu_per_delivery_vs_websockets_broadcast"]
        caught = _get(run, peer, "storm", "caught_up_seconds")
        lost = _get(run, peer, "storm", "lost")
        clean = (_get(run, peer, "storm", "duplicates"), _get(run, peer, "storm", "gaps"))

        def row(name: str, value: Any, met: bool | None) -> dict[str, Any]:
            return {"target": name, "value": value, "met": met}

        vs_relay, vs_naive = r["capacity_vs_raw_relay"], r["capacity_vs_naive_stack"]
        above = r.get("capacity_vs_naive_stack_above")
        out[peer] = [
            row("dialog capacity >= 0.6 x raw relay", vs_relay, None if vs_relay is None else vs_relay >= 0.6),
            row("dialog capacity >= 10 x naive stack", vs_naive, None if vs_naive is None else vs_naive >= 10)
            if above is None
            else row("dialog capacity >= 10 x naive stack", f"> {_fmt(above)}", True if above >= 10 else None),
            row(
                "(CPU-bound estimate >= 0.6 x raw relay)",
                r["cpu_bound_estimate_vs_raw_relay"],
                None if r["cpu_bound_estimate_vs_raw_relay"] is None else r["cpu_bound_estimate_vs_raw_relay"] >= 0.6,
            ),
            row(
                "(CPU-bound estimate >= 10 x naive stack)",
                r["cpu_bound_estimate_vs_naive_stack"],
                None
                if r["cpu_bound_estimate_vs_naive_stack"] is None
                else r["cpu_bound_estimate_vs_naive_stack"] >= 10,
            ),
            row("p99 < 5 ms at 2,000 messages/s", p99, None if p99 is None else p99 < 5),
            row("idle memory <= 16 KiB per connection", kib, None if kib is None else kib <= 16),
            row("fan-out CPU per delivery <= websockets.broadcast()", fan, None if fan is None else fan <= 1.0),
            row(
                "storm caught up within 10 s, nothing lost",
                caught,
                None if lost is None else (caught is not None and caught <= 10 and lost == 0 and clean == (0, 0)),
            ),
        ]
    return out


def failures(run: dict[str, Any]) -> list[str]:
    """Faults of the harness or of a server (a crash), not slowness: the quick mode fails on these."""
    problems = []
    for name, peer in run["peers"].items():
        if "failed" in peer:
            problems.append(f"{name}: {peer['failed']}")
        for key in ("idle", "dialogs", "fanout", "storm"):
            if isinstance(peer.get(key), dict) and "failed" in peer[key]:
                problems.append(f"{name} {key}: {peer[key]['failed']}")
        if peer.get("server_survived") is False:
            problems.append(f"{name}: the server died")
    return problems


def peer_line(peer: dict[str, Any]) -> str:
    if "failed" in peer:
        return f"   failed: {peer['failed']}"
    idle, dialogs, fan, storm = (peer.get(k) or {} for k in ("idle", "dialogs", "fanout", "storm"))
    return (
        f"   idle {idle.get('kib_per_connection')} KiB/conn, {idle.get('idle_cpu_percent')}% CPU | "
        f"capacity {dialogs.get('capacity_per_sec')}/s, p99@2k {dialogs.get('p99_ms_at_2000')} ms | "
        f"fan-out {fan.get('server_cpu_us_per_delivery')} us/delivery | "
        f"storm {storm.get('caught_up_seconds', storm.get('skipped', storm.get('failed')))}"
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(run: dict[str, Any], json_path: Path | str) -> str:
    m, peers = run["machine"], run["peers"]
    names = list(peers)
    parts = [
        "# Benchmark results",
        "",
        f"Run `{run['mode']}` of {run['started_at']} (commit {run.get('commit') or '?'}), written by `make bench`; "
        f"every figure is in [`{json_path}`]({json_path}). How to read and repeat it: `bench/README.md`.",
        "",
        "## Machine",
        _table(
            ["cpu", "cores", "memory", "kernel", "python", "PostgreSQL", "load avg before → after"],
            [
                [
                    m["cpu"],
                    m["cores"],
                    f"{m['memory_gib']} GiB",
                    m["kernel"],
                    m["python"],
                    m.get("postgresql"),
                    f"{m['load_average_before']} → {m.get('load_average_after')}",
                ]
            ],
        ),
        "",
        f"Servers pinned to CPU {m['server_cpu']}, the load generator to CPU {m['generator_cpu']}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v)
        + ".",
    ]
    if run.get("skipped_peers"):
        parts += ["", "Not run: " + "; ".join(f"**{k}**: {v}" for k, v in run["skipped_peers"].items()) + "."]
    parts += ["", "## Targets (issue 7)"]
    for peer, rows in run.get("targets", {}).items():
        parts += [
            "",
            f"**{peer}**",
            "",
            _table(["target", "measured", "met"], [[r["target"], r["value"], r["met"]] for r in rows]),
        ]
    parts += [
        "",
        "## Idle: connected visitors with heartbeats",
        _table(
            ["peer", "connections", "KiB per connection", "idle CPU %", "connect time s", "pongs", "generator CPU %"],
            [
                [
                    n,
                    _get(run, n, "idle", "connections"),
                    _get(run, n, "idle", "kib_per_connection"),
                    _get(run, n, "idle", "idle_cpu_percent"),
                    _get(run, n, "idle", "connect_seconds"),
                    _get(run, n, "idle", "pongs"),
                    _get(run, n, "idle", "generator_cpu_percent"),
                ]
                for n in names
            ],
        ),
        "",
        "## Dialogs: stepped offered load, send → delivery to the other side",
    ]
    capacity_rows = [
        [
            n,
            _get(run, n, "dialogs", "dialogs"),
            _get(run, n, "dialogs", "capacity_per_sec"),
            _get(run, n, "dialogs", "cpu_bound_estimate_per_sec"),
            _get(run, n, "dialogs", "p99_ms_at_2000"),
            _get(run, n, "dialogs", "generator_saturated"),
        ]
        for n in names
    ]
    parts += [
        _table(
            ["peer", "dialogs", "capacity msg/s", "CPU-bound estimate msg/s", "p99 at 2k/s ms", "generator saturated"],
            capacity_rows,
        )
    ]
    step_rows = []
    for n in names:
        for s in _get(run, n, "dialogs", "steps") or []:
            step_rows.append(
                [
                    n,
                    s["offered_per_sec"],
                    s["achieved_per_sec"],
                    s["p50_ms"],
                    s["p99_ms"],
                    s["p999_ms"],
                    f"{s['lost']}/{s['duplicates']}/{s['gaps']}/{s['errors']}",
                    s["server_cpu_percent"],
                    s["server_cpu_ms_per_message"],
                    s["generator_cpu_percent"],
                    s["passed"],
                ]
            )
    parts += [
        "",
        _table(
            [
                "peer",
                "offered/s",
                "delivered/s",
                "p50 ms",
                "p99 ms",
                "p99.9 ms",
                "lost/dup/gap/err",
                "server CPU %",
                "server CPU ms/msg",
                "generator CPU %",
                "passed",
            ],
            step_rows,
        ),
        "",
        "## Fan-out: one event to every operator of a line",
        _table(
            [
                "peer",
                "operators",
                "events",
                "time to last ms (median)",
                "max ms",
                "server CPU µs/delivery",
                "generator CPU µs/delivery",
            ],
            [
                [
                    n,
                    _get(run, n, "fanout", "operators"),
                    _get(run, n, "fanout", "events"),
                    _get(run, n, "fanout", "time_to_last_ms_median"),
                    _get(run, n, "fanout", "time_to_last_ms_max"),
                    _get(run, n, "fanout", "server_cpu_us_per_delivery"),
                    _get(run, n, "fanout", "generator_cpu_us_per_delivery"),
                ]
                for n in names
            ],
        ),
        "",
        "## Reconnect storm: visitors drop at once and resume from their last seq while messages flow",
        _table(
            ["peer", "visitors", "all back s", "caught up s", "lost", "dup", "gaps", "not resumed", "flow msgs"],
            [
                [
                    n,
                    _get(run, n, "storm", "visitors"),
                    _get(run, n, "storm", "all_reconnected_seconds"),
                    _get(run, n, "storm", "caught_up_seconds"),
                    _get(run, n, "storm", "lost"),
                    _get(run, n, "storm", "duplicates"),
                    _get(run, n, "storm", "gaps"),
                    _get(run, n, "storm", "not_resumed"),
                    _get(run, n, "storm", "flow_messages"),
                ]
                if not _get(run, n, "storm", "skipped")
                else [n, "skipped: " + _get(run, n, "storm", "skipped"), *[None] * 7]
                for n in names
            ],
        ),
    ]
    notes = NOTES.read_text() if NOTES.exists() else ""
    if notes:
        parts += ["", notes]
    return "\n".join(parts) + "\n"
