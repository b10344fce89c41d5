"""The load generator's clients: visitors and operators that speak docs/protocol.md and check every `seq`.

Each connection remembers, per dialog, the highest `seq` it has seen. A message frame must carry exactly the
next one: a lower or equal `seq` is a duplicate, a higher one a gap (a lost message). Workloads hang a `hook` on
connections to time deliveries; `expect()` waits for a frame during set-up.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.accounts import VISITOR_ORIGIN, operator_token
from bench.wsclient import SourceAddresses, WsClient, connect

T = TypeVar("T")
Hook = Callable[["Conn", dict[str, Any]], None]
_ids = itertools.count(1)


def new_id(prefix: str = "r") -> str:
    return f"{prefix}{next(_ids):09d}"


@dataclass
class Tally:
    """What went wrong, counted over a phase."""

    duplicates: int = 0
    gaps: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    dropped_by_server: int = 0

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.duplicates, self.gaps, sum(self.errors.values()), self.dropped_by_server


@dataclass
class Target:
    """A running server under test, as the load generator sees it."""

    name: str
    visitor_ports: list[int]
    operator_ports: list[int]
    pids: list[int]
    public_url: str
    stores_messages: bool
    host: str = "127.0.0.1"


class Conn(WsClient):
    def __init__(self, host: str, port: int, path: str, origin: str, role: str, tally: Tally) -> None:
        super().__init__(host, port, path, origin)
        self.role = role
        self.tally = tally
        self.last: dict[int, int] = {}
        self.hook: Hook | None = None
        self.token: str | None = None
        self.dialog_id: int | None = None
        self._waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[dict[str, Any]]]] = []
        self._backlog: collections.deque[dict[str, Any]] = collections.deque(maxlen=64)

    def track(self, message: dict[str, Any]) -> None:
        dialog_id, seq = message.get("dialog_id"), message.get("seq")
        if dialog_id is None or seq is None:
            return
        last = self.last.get(dialog_id)
        if last is None or seq == last + 1:
            self.last[dialog_id] = seq
        elif seq <= last:
            self.tally.duplicates += 1
        else:
            self.tally.gaps += 1
            self.last[dialog_id] = seq

    def on_message(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            self.track(frame)
        elif kind == "welcome" or kind == "joined":
            for message in frame.get("messages") or ():
                self.track(message)
        elif kind == "error":
            self.tally.errors[str(frame.get("code"))] += 1
        if self.hook is not None:
            self.hook(self, frame)
        for index, (matches, future) in enumerate(self._waiters):
            if matches(frame):
                del self._waiters[index]
                if not future.done():
                    future.set_result(frame)
                return
        if self.hook is None:
            self._backlog.append(frame)

    def on_lost(self) -> None:
        if not self.closing:
            self.tally.dropped_by_server += 1
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(ConnectionError("the server closed the connection"))
        self._waiters.clear()

    async def expect(self, kind: str, wait: float = 60.0, **match: Any) -> dict[str, Any]:
        def matches(frame: dict[str, Any]) -> bool:
            return frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items())

        for frame in self._backlog:
            if matches(frame):
                self._backlog.remove(frame)
                return frame
        if self.lost:
            raise ConnectionError("the connection is closed")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((matches, future))
        return await asyncio.wait_for(future, wait)


class Clients:
    """Opens visitor and operator connections to a target, spread over source addresses."""

    def __init__(self, target: Target, sources: SourceAddresses) -> None:
        self.target = target
        self.sources = sources
        self._rr = itertools.count()

    def _port(self, ports: list[int]) -> int:
        return ports[next(self._rr) % len(ports)]

    async def visitor(
        self,
        line: str,
        tally: Tally,
        token: str | None = None,
        resume: dict[str, int] | None = None,
        last: dict[int, int] | None = None,
    ) -> tuple[Conn, dict[str, Any]]:
        t = self.target
        port = self._port(t.visitor_ports)
        conn = await connect(
            lambda: Conn(t.host, port, f"/ws/visitor?line={line}", VISITOR_ORIGIN, "visitor", tally),
            t.host,
            port,
            self.sources.take(),
        )
        assert isinstance(conn, Conn)
        if last:
            conn.last.update(last)
        hello: dict[str, Any] = {"type": "hello", "token": token, "page": {"url": f"{VISITOR_ORIGIN}/shop"}}
        if resume:
            hello["resume"] = resume
        conn.send(hello)
        welcome = await conn.expect("welcome")
        conn.token = welcome["visitor"]["token"]
        if welcome.get("dialog"):
            conn.dialog_id = welcome["dialog"]["id"]
        return conn, welcome

    async def open_dialog(self, conn: Conn) -> int:
        ref = new_id()
        conn.send({"type": "open", "ref": ref})
        ack = await conn.expect("ack", ref=ref)
        conn.dialog_id = int(ack["dialog_id"])
        return conn.dialog_id

    async def operator(self, line: str, tally: Tally, ports: list[int] | None = None) -> Conn:
        t = self.target
        port = self._port(ports or t.operator_ports)
        conn = await connect(
            lambda: Conn(t.host, port, "/ws/operator", t.public_url, "operator", tally),
            t.host,
            port,
            self.sources.take(),
        )
        assert isinstance(conn, Conn)
        conn.send({"type": "auth", "token": operator_token(line)})
        await conn.expect("ready")
        return conn

    async def join(self, conn: Conn, dialog_id: int) -> None:
        conn.send({"type": "join", "dialog_id": dialog_id, "last_seq": 0})
        await conn.expect("joined")


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most `limit` at a time; results in the jobs' order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def close_all(conns: Iterable[Conn]) -> None:
    for conn in conns:
        conn.abort()


async def wait_until(condition: Callable[[], bool], limit: float, poll: float = 0.01) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll)
    return True
