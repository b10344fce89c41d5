"""Peer 1, the ceiling: a relay on the `websockets` library that stores nothing.

It speaks the Openline frames the load generator uses (hello/welcome, open, send/ack/message, auth/ready,
join/joined, typing, ping/pong), numbers each dialog's messages in memory, acknowledges a `send` at once and
relays the message to the dialog's visitor and the line's operators with `websockets.broadcast()`. No
validation beyond JSON, no database, no durability: what Python on this machine can do at best.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.accounts import line_of_token
from widget_server.gc_policy import DEFAULT_THRESHOLDS

_ids = itertools.count(1)
_dialog_line: dict[int, str] = {}
_dialog_seq: dict[int, int] = {}
_dialog_visitors: dict[int, set[ServerConnection]] = {}
_line_operators: dict[str, set[ServerConnection]] = {}


def _dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _relay(dialog_id: int, frame: dict[str, Any]) -> None:
    audience = _dialog_visitors.get(dialog_id, set()) | _line_operators.get(_dialog_line[dialog_id], set())
    broadcast(audience, _dumps(frame))


def _message(dialog_id: int, author: str, client_msg_id: str | None, text: str) -> tuple[int, dict[str, Any]]:
    seq = _dialog_seq[dialog_id] = _dialog_seq[dialog_id] + 1
    return seq, {
        "type": "message",
        "dialog_id": dialog_id,
        "seq": seq,
        "kind": "text",
        "code": None,
        "author": {"type": author, "name": None},
        "text": text,
        "client_msg_id": client_msg_id,
        "created_at": _now(),
    }


def _new_dialog(line: str, ws: ServerConnection) -> int:
    dialog_id = next(_ids)
    _dialog_line[dialog_id] = line
    _dialog_seq[dialog_id] = 0
    _dialog_visitors[dialog_id] = {ws}
    return dialog_id


async def _visitor(ws: ServerConnection, line: str) -> None:
    visitor_id = next(_ids)
    dialog_id: int | None = None
    try:
        async for raw in ws:
            frame = orjson.loads(raw)
            kind = frame.get("type")
            if kind == "send":
                if dialog_id is None:
                    dialog_id = _new_dialog(line, ws)
                seq, message = _message(dialog_id, "visitor", frame["client_msg_id"], frame["text"])
                ack = {"type": "ack", "ref": frame["client_msg_id"], "dialog_id": dialog_id, "seq": seq}
                await ws.send(_dumps(ack | {"duplicate": False}))
                _relay(dialog_id, message)
            elif kind == "hello":
                resume = frame.get("resume") or {}
                resumed = resume.get("dialog_id") in _dialog_line
                if resumed:
                    dialog_id = resume["dialog_id"]
                    _dialog_visitors[dialog_id].add(ws)
                dialog = None if dialog_id is None else {"id": dialog_id, "last_seq": _dialog_seq[dialog_id]}
                welcome = {"visitor": {"id": visitor_id, "token": str(visitor_id)}, "line": {"id": line}}
                # Nothing is stored, so nothing can be replayed: a resumed client gets no missed messages.
                await ws.send(
                    _dumps({"type": "welcome", **welcome, "dialog": dialog, "messages": [], "resumed": resumed})
                )
            elif kind == "open":
                created = dialog_id is None
                if dialog_id is None:
                    dialog_id = _new_dialog(line, ws)
                    _relay(dialog_id, _message(dialog_id, "bot", None, "Hello! How can we help?")[1])
                ack = {"type": "ack", "ref": frame.get("ref"), "dialog_id": dialog_id, "seq": None}
                await ws.send(_dumps(ack | {"duplicate": not created}))
            elif kind == "typing" and dialog_id is not None:
                typing = {"type": "typing", "dialog_id": dialog_id, "from": "visitor", "active": frame.get("active")}
                broadcast(_line_operators.get(line, set()), _dumps(typing))
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
    finally:
        if dialog_id is not None:
            _dialog_visitors[dialog_id].discard(ws)


async def _operator(ws: ServerConnection) -> None:
    line: str | None = None
    try:
        async for raw in ws:
            frame = orjson.loads(raw)
            kind = frame.get("type")
            if kind == "send" and line is not None:
                dialog_id = frame["dialog_id"]
                seq, message = _message(dialog_id, "operator", frame["client_msg_id"], frame["text"])
                ack = {"type": "ack", "ref": frame["client_msg_id"], "dialog_id": dialog_id, "seq": seq}
                await ws.send(_dumps(ack | {"duplicate": False}))
                _relay(dialog_id, message)
            elif kind == "auth":
                line = line_of_token(frame["token"])
                _line_operators.setdefault(line, set()).add(ws)
                operator = {"id": 1, "name": "Operator", "email": "op@bench.local", "role": "operator"}
                await ws.send(_dumps({"type": "ready", "operator": operator, "dialogs": []}))
            elif kind == "join":
                dialog_id = frame["dialog_id"]
                summary = {"id": dialog_id, "last_seq": _dialog_seq.get(dialog_id, 0)}
                await ws.send(_dumps({"type": "joined", "dialog": summary, "messages": []}))
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
    finally:
        if line is not None:
            _line_operators[line].discard(ws)


async def _handler(ws: ServerConnection) -> None:
    assert ws.request is not None
    url = urlsplit(ws.request.path)
    if url.path == "/ws/visitor":
        await _visitor(ws, parse_qs(url.query).get("line", [""])[0])
    elif url.path == "/ws/operator":
        await _operator(ws)


async def _serve(host: str, port: int) -> None:
    # The same frame cap as Openline's default, compression off: the cheapest correct configuration.
    async with serve(_handler, host, port, compression=None, max_size=16 * 1024, backlog=4096) as server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The collector settings `openline serve` uses (widget_server/gc_policy.py): the ceiling gets every tuning
    # Openline has, or its full collections over 10,000 connections would decide its latency, not its design.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*DEFAULT_THRESHOLDS)
    try:
        import uvloop

        uvloop.run(_serve(args.host, args.port))
    except ImportError:
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
