"""The four workloads: idle connections, dialogs under stepped load, fan-out, and a reconnect storm.

Each returns a plain dict of figures for the JSON report. Times are taken in this one process, so a message's
send time travels in its text ("b<monotonic ns>") and its delivery is timed when the other side receives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.loadgen import Clients, Conn, Tally, bounded, close_all, new_id, wait_until
from bench.targets import cpu_seconds, generator_cpu, rss_bytes

HEARTBEAT_SECONDS = 25.0  # the widget's ping period (widget_js PING_MS)
P99_LIMIT_MS = 50.0


@dataclass
class Sizes:
    idle: int
    dialogs: int
    steps: list[int]
    step_seconds: float
    idle_window: float
    fanout: int
    fanout_events: int
    storm: int
    storm_flow: int
    storm_jitter: float
    connect_parallel: int = 200


FULL = Sizes(
    idle=10_000,
    dialogs=1_000,
    # The steps, and 100 and 250 below them to place a slow peer (the naive stack fails 250).
    steps=[100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000],
    step_seconds=5.0,
    idle_window=10.0,
    fanout=5_000,
    fanout_events=10,
    storm=5_000,
    storm_flow=500,
    storm_jitter=1.0,
)
QUICK = Sizes(
    idle=100,
    dialogs=10,
    steps=[100, 200],
    step_seconds=1.0,
    idle_window=0.5,
    fanout=50,
    fanout_events=2,
    storm=30,
    storm_flow=30,
    storm_jitter=0.2,
    connect_parallel=50,
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def lines_needed(sizes: Sizes) -> list[str]:
    return ["bidle", "bfan", "bstorm"] + [f"bl{i}" for i in range(sizes.dialogs)]


class Heartbeats:
    """Every idle connection sends `ping` once per HEARTBEAT_SECONDS, spread evenly over the period."""

    def __init__(self, conns: list[Conn]) -> None:
        self.conns = conns
        self.pongs = 0
        self._task: asyncio.Task[None] | None = None
        for conn in conns:
            conn.hook = self._on_frame

    def _on_frame(self, _conn: Conn, frame: dict[str, Any]) -> None:
        if frame.get("type") == "pong":
            self.pongs += 1

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        n = len(self.conns)
        if not n:
            return
        start = time.monotonic()
        sent = 0
        ping = b'{"type":"ping"}'
        while True:
            await asyncio.sleep(0.1)
            due = int((time.monotonic() - start) / HEARTBEAT_SECONDS * n)
            while sent < due:
                self.conns[sent % n].send_raw(ping)
                sent += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def idle(clients: Clients, sizes: Sizes, tally: Tally) -> tuple[dict[str, Any], list[Conn], Heartbeats]:
    pids = clients.target.pids
    await asyncio.sleep(0.5)
    rss_before = rss_bytes(pids)
    started = time.monotonic()
    results = await bounded(
        sizes.connect_parallel, [lambda: clients.visitor("bidle", tally) for _ in range(sizes.idle)]
    )
    connect_seconds = time.monotonic() - started
    conns = [conn for conn, _ in results]
    await asyncio.sleep(2.0 if sizes.idle >= 1000 else 0.5)
    rss_after = rss_bytes(pids)
    beats = Heartbeats(conns)
    beats.start()
    cpu0, gen0, t0 = cpu_seconds(pids), generator_cpu(), time.monotonic()
    await asyncio.sleep(sizes.idle_window)
    cpu1, gen1, t1 = cpu_seconds(pids), generator_cpu(), time.monotonic()
    return (
        {
            "connections": len(conns),
            "connect_seconds": round(connect_seconds, 2),
            "rss_before_mib": round(rss_before / 2**20, 1),
            "rss_after_mib": round(rss_after / 2**20, 1),
            "kib_per_connection": round((rss_after - rss_before) / len(conns) / 1024, 2),
            "idle_cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 2),
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "window_seconds": sizes.idle_window,
            "pongs": beats.pongs,
            "generator_cpu_percent": round(100 * (gen1 - gen0) / (t1 - t0), 1),
        },
        conns,
        beats,
    )


@dataclass
class Step:
    """Deliveries during one offered-load step."""

    latencies_ns: list[int] = field(default_factory=list)
    delivered: int = 0
    acks: int = 0

    def on_frame(self, conn: Conn, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            author = frame["author"]["type"]
            if author != conn.role and author in ("visitor", "operator"):
                text = frame["text"]
                if text[:1] == "b":
                    self.latencies_ns.append(time.monotonic_ns() - int(text[1:]))
                    self.delivered += 1
        elif kind == "ack":
            self.acks += 1


async def _open_pair(clients: Clients, index: int, tally: Tally) -> tuple[Conn, Conn, int]:
    line = f"bl{index}"
    visitor, _ = await clients.visitor(line, tally)
    dialog_id = await clients.open_dialog(visitor)
    operator = await clients.operator(line, tally)
    await clients.join(operator, dialog_id)
    # The operator greets, as one does, and so takes the chat (reading it assigns nothing): the steps measure the
    # conversation that follows, not the first answer of a thousand chats at once.
    greeting = new_id("g")
    operator.send({"type": "send", "dialog_id": dialog_id, "client_msg_id": greeting, "text": "Hello, how can I help?"})
    await operator.expect("ack", ref=greeting)
    await visitor.expect("message", dialog_id=dialog_id, text="Hello, how can I help?")
    return visitor, operator, dialog_id


async def _run_step(
    pairs: list[tuple[Conn, Conn, int]], rate: int, seconds: float, tally: Tally, pids: list[int], idle_cpu_share: float
) -> dict[str, Any]:
    step = Step()
    for visitor, operator, _ in pairs:
        visitor.hook = operator.hook = step.on_frame
    before = tally.snapshot()
    total = max(1, int(rate * seconds))
    d = len(pairs)
    tag = new_id("s")
    cpu0, gen0 = cpu_seconds(pids), generator_cpu()
    t0 = time.monotonic()
    k = 0
    dumps, now_ns = orjson.dumps, time.monotonic_ns
    while k < total:
        due = min(total, int((time.monotonic() - t0) * rate) + 1)
        while k < due:
            visitor, operator, dialog_id = pairs[k % d]
            cid = f"{tag}m{k:08d}"
            if (k // d) % 2 == 0:
                visitor.send_raw(dumps({"type": "send", "client_msg_id": cid, "text": f"b{now_ns()}"}))
            else:
                operator.send_raw(
                    dumps({"type": "send", "dialog_id": dialog_id, "client_msg_id": cid, "text": f"b{now_ns()}"})
                )
            k += 1
        await asyncio.sleep(0.001)
    send_seconds = time.monotonic() - t0
    # Offered load ends here; now let the server drain what it has (anything still missing after this is lost).
    drained = await wait_until(lambda: step.delivered >= total and step.acks >= total, limit=max(10.0, seconds * 2))
    elapsed = time.monotonic() - t0
    cpu1, gen1 = cpu_seconds(pids), generator_cpu()
    after = tally.snapshot()
    lat_ms = [ns / 1e6 for ns in step.latencies_ns]
    # CPU spent on these messages: the step's CPU less what the idle connections cost over the same time.
    busy = max(0.0, (cpu1 - cpu0) - idle_cpu_share * elapsed)
    p99 = percentile(lat_ms, 99)
    lost = max(0, total - step.delivered)
    duplicates, gaps, errors, dropped = (a - b for a, b in zip(after, before, strict=True))
    ok = drained and p99 is not None and p99 < P99_LIMIT_MS and lost == 0 and duplicates == gaps == errors == 0
    return {
        "offered_per_sec": rate,
        "sent": total,
        "delivered": step.delivered,
        "acked": step.acks,
        "achieved_per_sec": round(step.delivered / elapsed, 1),
        "p50_ms": _r(percentile(lat_ms, 50)),
        "p99_ms": _r(p99),
        "p999_ms": _r(percentile(lat_ms, 99.9)),
        "max_ms": _r(max(lat_ms) if lat_ms else None),
        "lost": lost,
        "duplicates": duplicates,
        "gaps": gaps,
        "errors": errors,
        "dropped_connections": dropped,
        "server_cpu_percent": round(100 * (cpu1 - cpu0) / elapsed, 1),
        # CPU time per delivered message: less at the mercy of other processes on the machine than latency.
        "server_cpu_ms_per_message": _r(1000 * busy / step.delivered) if step.delivered else None,
        "cpu_bound_estimate_per_sec": round(step.delivered / busy) if busy > 0 else None,
        "generator_cpu_percent": round(100 * (gen1 - gen0) / elapsed, 1),
        "generator_kept_pace": send_seconds < seconds * 1.1,
        "passed": ok,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def _settle(pids: list[int], at_least: float, quiet_share: float = 0.25, limit: float = 60.0) -> None:
    """Wait `at_least` seconds, then until the server uses less than `quiet_share` of a core for a second."""
    await asyncio.sleep(at_least)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu0, t0 = cpu_seconds(pids), time.monotonic()
        await asyncio.sleep(1.0)
        if (cpu_seconds(pids) - cpu0) / (time.monotonic() - t0) < quiet_share:
            return


async def dialogs(
    clients: Clients, sizes: Sizes, tally: Tally, around_steps: contextlib.AbstractContextManager[Any] | None = None
) -> dict[str, Any]:
    pairs = await bounded(
        min(50, sizes.connect_parallel), [lambda i=i: _open_pair(clients, i, tally) for i in range(sizes.dialogs)]
    )
    # Each new chat has work of its own due a few seconds after it starts (Openline's intro form, 5 s): let it
    # pass, or the steps would be measured against it and the idle cost below would count it as idle.
    await _settle(clients.target.pids, 6.0 if sizes.dialogs >= 100 else 0.5)
    # What the connections cost doing nothing (heartbeats), to take out of the CPU per message.
    cpu0, t0 = cpu_seconds(clients.target.pids), time.monotonic()
    await asyncio.sleep(2.0 if sizes.dialogs >= 100 else 0.5)
    idle_cpu = (cpu_seconds(clients.target.pids) - cpu0) / (time.monotonic() - t0)
    steps: list[dict[str, Any]] = []
    try:
        with around_steps or contextlib.nullcontext():
            for rate in sizes.steps:
                result = await _run_step(pairs, rate, sizes.step_seconds, tally, clients.target.pids, idle_cpu)
                steps.append(result)
                if result["lost"] or result["achieved_per_sec"] < 0.9 * rate:
                    break  # the server no longer keeps up: higher steps only take longer to fail
                await asyncio.sleep(0.5)
    finally:
        close_all(c for v, o, _ in pairs for c in (v, o))
    passed = [s["offered_per_sec"] for s in steps if s["passed"]]
    at_2k = next((s for s in steps if s["offered_per_sec"] == 2000), None)
    return {
        "dialogs": len(pairs),
        "step_seconds": sizes.step_seconds,
        "steps": steps,
        "capacity_per_sec": max(passed) if passed else 0,
        "idle_cpu_percent_before_steps": round(100 * idle_cpu, 1),
        # Messages per second one full core would carry at the CPU cost per message measured in the steps (the
        # best of them): a figure that other processes on the machine disturb far less than latency.
        "cpu_bound_estimate_per_sec": max((s["cpu_bound_estimate_per_sec"] or 0 for s in steps), default=None),
        "capacity_rule": f"highest step with p99 < {P99_LIMIT_MS:g} ms, nothing lost, duplicated or out of order",
        "p99_ms_at_2000": at_2k["p99_ms"] if at_2k else None,
        "generator_saturated": any(not s["generator_kept_pace"] or s["generator_cpu_percent"] > 90 for s in steps),
    }


async def fanout(clients: Clients, sizes: Sizes, tally: Tally) -> dict[str, Any]:
    target = clients.target
    ports = sorted(set(target.visitor_ports + target.operator_ports))
    operators = await bounded(
        sizes.connect_parallel, [lambda: clients.operator("bfan", tally, ports) for _ in range(sizes.fanout)]
    )
    visitor, _ = await clients.visitor("bfan", tally)
    await clients.open_dialog(visitor)
    # Let the consoles' connecting pass, then take what the open connections cost doing nothing (keepalives, the
    # idle visitors' pings) out of the CPU per delivery, as the dialog steps do for theirs: the same for every peer.
    await _settle(target.pids, 1.0)
    cpu0, t0 = cpu_seconds(target.pids), time.monotonic()
    await asyncio.sleep(2.0 if sizes.fanout >= 1000 else 0.5)
    idle_cpu = (cpu_seconds(target.pids) - cpu0) / (time.monotonic() - t0)
    received = 0
    done: asyncio.Future[float] | None = None

    def on_frame(_conn: Conn, frame: dict[str, Any]) -> None:
        nonlocal received
        if frame.get("type") == "typing":
            received += 1
            if received == len(operators) and done is not None and not done.done():
                done.set_result(time.monotonic())

    for op in operators:
        op.hook = on_frame
    times: list[float] = []
    cpu_total = gen_total = event_seconds = 0.0
    incomplete = 0
    try:
        for event in range(sizes.fanout_events):
            received = 0
            done = asyncio.get_running_loop().create_future()
            cpu0, gen0 = cpu_seconds(target.pids), generator_cpu()
            t0 = time.monotonic()
            visitor.send({"type": "typing", "active": event % 2 == 0})
            try:
                t1 = await asyncio.wait_for(done, 30)
                times.append(t1 - t0)
            except TimeoutError:
                incomplete += 1
            cpu_total += cpu_seconds(target.pids) - cpu0
            gen_total += generator_cpu() - gen0
            event_seconds += time.monotonic() - t0
            await asyncio.sleep(0.3)
    finally:
        close_all([*operators, visitor])
    deliveries = sizes.fanout_events * len(operators)
    return {
        "operators": len(operators),
        "events": sizes.fanout_events,
        "event": "a visitor's typing notice, published to every operator of the line",
        "time_to_last_ms_median": _r(statistics.median(times) * 1000 if times else None),
        "time_to_last_ms_max": _r(max(times) * 1000 if times else None),
        "server_cpu_us_per_delivery": _r(max(0.0, cpu_total - idle_cpu * event_seconds) / deliveries * 1e6),
        "server_cpu_us_per_delivery_with_idle": _r(cpu_total / deliveries * 1e6),
        "idle_cpu_percent_before_events": round(100 * idle_cpu, 1),
        "generator_cpu_us_per_delivery": _r(gen_total / deliveries * 1e6),
        "incomplete_events": incomplete,
        "cpu_resolution_ms": 10,
    }


async def storm(
    clients: Clients, sizes: Sizes, tally: Tally, around_storm: contextlib.AbstractContextManager[Any] | None = None
) -> dict[str, Any]:
    """`around_storm` wraps the drop and the catching up only (a profiler), not the setup before them."""
    target = clients.target
    if not target.stores_messages:
        return {"skipped": "stores nothing, so a dropped client cannot resume: every message sent meanwhile is lost"}
    operator = await clients.operator("bstorm", tally)
    opened = await bounded(
        sizes.connect_parallel, [lambda: clients.visitor("bstorm", tally) for _ in range(sizes.storm)]
    )
    visitors = [conn for conn, _ in opened]
    await bounded(50, [lambda v=v: clients.open_dialog(v) for v in visitors])
    final: dict[int, int] = {}
    acks = 0

    def on_operator(_conn: Conn, frame: dict[str, Any]) -> None:
        nonlocal acks
        if frame.get("type") == "ack" and frame.get("seq") is not None:
            acks += 1
            dialog_id = frame["dialog_id"]
            final[dialog_id] = max(final.get(dialog_id, 0), frame["seq"])

    operator.hook = on_operator
    dialog_ids = [v.dialog_id for v in visitors]
    # The operator answers every dialog once first, so the storm's messages take the steady path.
    sent = 0
    for dialog_id in dialog_ids:
        operator.send({"type": "send", "dialog_id": dialog_id, "client_msg_id": new_id("w"), "text": "Hi, I'm here."})
        sent += 1
        if sent % 200 == 0:
            await wait_until(lambda n=sent: acks >= n - 100, 60)
    if not await wait_until(lambda: acks >= sent, 60):
        # Said plainly: without every answer's seq, the check below failed with a KeyError on a dialog id.
        raise RuntimeError(f"storm setup: {acks} of {sent} first answers acknowledged within 60 s")
    await wait_until(lambda: all(v.last.get(v.dialog_id or 0, 0) >= final[v.dialog_id or 0] for v in visitors), 30)

    flow_seconds = 1.0 + sizes.storm_jitter + 1.0

    async def flow() -> None:
        nonlocal sent
        start, k = time.monotonic(), 0
        while (elapsed := time.monotonic() - start) < flow_seconds:
            due = int(elapsed * sizes.storm_flow)
            while k < due:
                dialog_id = dialog_ids[k % len(dialog_ids)]
                operator.send({"type": "send", "dialog_id": dialog_id, "client_msg_id": new_id("f"), "text": "flow"})
                k += 1
                sent += 1
            await asyncio.sleep(0.005)

    reconnected: list[Conn] = []
    not_resumed = 0
    failed = 0
    last_welcome = 0.0

    async def come_back(old: Conn, delay: float) -> None:
        nonlocal not_resumed, failed, last_welcome
        await asyncio.sleep(delay)
        assert old.dialog_id is not None
        resume = {"dialog_id": old.dialog_id, "last_seq": old.last.get(old.dialog_id, 0)}
        try:
            conn, welcome = await clients.visitor("bstorm", tally, token=old.token, resume=resume, last=old.last)
        except (OSError, TimeoutError, ConnectionError):
            failed += 1
            return
        conn.dialog_id = old.dialog_id
        if not welcome.get("resumed"):
            not_resumed += 1
        last_welcome = time.monotonic()
        reconnected.append(conn)

    def caught_up() -> bool:
        return all(c.last.get(c.dialog_id or 0, 0) >= final[c.dialog_id or 0] for c in reconnected)

    before = tally.snapshot()
    with around_storm or contextlib.nullcontext():
        flow_task = asyncio.get_running_loop().create_task(flow())
        await asyncio.sleep(1.0)
        t_drop = time.monotonic()
        close_all(visitors)
        await asyncio.gather(*(come_back(v, random.uniform(0, sizes.storm_jitter)) for v in visitors))
        await flow_task
        await wait_until(lambda: acks >= sent, 60)
        all_caught = await wait_until(caught_up, 60)
        t_caught = time.monotonic()
    behind = sum(1 for c in reconnected if c.last.get(c.dialog_id or 0, 0) < final[c.dialog_id or 0])
    after = tally.snapshot()
    close_all([operator, *reconnected])
    duplicates, gaps, errors, _dropped = (a - b for a, b in zip(after, before, strict=True))
    return {
        "visitors": len(visitors),
        "reconnect_jitter_seconds": sizes.storm_jitter,
        "flow_per_sec": sizes.storm_flow,
        "flow_messages": sent - len(dialog_ids),
        "all_reconnected_seconds": _r(last_welcome - t_drop if reconnected else None),
        "caught_up_seconds": _r(t_caught - t_drop) if all_caught else None,
        "reconnect_failures": failed,
        "not_resumed": not_resumed,
        "still_behind": behind,
        "lost": behind + failed,
        "duplicates": duplicates,
        "gaps": gaps,
        "errors": errors,
    }
