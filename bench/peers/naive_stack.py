"""Peer 2: the stack a team would write by hand. Starlette + SQLModel on SQLite, one commit per message.

Every `send` opens an ORM session, reads the dialog, adds the message, commits, and only then acknowledges and
relays it (so it is as durable as Openline's). Connections sit in dicts; a broadcast is a loop of awaited sends.
Served by uvicorn with its defaults (per-message compression on), as such an app usually is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.accounts import line_of_token


class NaiveVisitor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    line: str


class NaiveDialog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    visitor_id: int = Field(index=True)
    line: str
    last_seq: int = 0


class NaiveMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dialog_id: int = Field(index=True)
    seq: int
    author: str
    client_msg_id: str | None = None
    text: str
    created_at: datetime


engine = create_async_engine(os.environ.get("NAIVE_DATABASE_URL", "sqlite+aiosqlite:///naive.db"))


@event.listens_for(engine.sync_engine, "connect")
def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The same durability as Openline's SQLite by default (WAL, synchronous=FULL: every commit flushed before the
    # acknowledgement), so the comparison is about the code.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


# SQLite takes one writer at a time; without this lock concurrent commits fail with "database is locked".
write_lock = asyncio.Lock()
visitors_of: dict[int, set[WebSocket]] = {}
operators_of: dict[str, set[WebSocket]] = {}


def message_frame(m: NaiveMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "dialog_id": m.dialog_id,
        "seq": m.seq,
        "kind": "text",
        "code": None,
        "author": {"type": m.author, "name": None},
        "text": m.text,
        "client_msg_id": m.client_msg_id,
        "created_at": m.created_at.isoformat(),
    }


async def broadcast(targets: set[WebSocket], frame: dict[str, Any]) -> None:
    text = json.dumps(frame)
    for ws in list(targets):
        try:
            await ws.send_text(text)
        except Exception:
            targets.discard(ws)


async def store_message(dialog_id: int, author: str, client_msg_id: str | None, text: str) -> NaiveMessage:
    async with write_lock, AsyncSession(engine, expire_on_commit=False) as session:
        dialog = await session.get(NaiveDialog, dialog_id)
        assert dialog is not None
        dialog.last_seq += 1
        message = NaiveMessage(
            dialog_id=dialog_id,
            seq=dialog.last_seq,
            author=author,
            client_msg_id=client_msg_id,
            text=text,
            created_at=datetime.now(UTC),
        )
        session.add(dialog)
        session.add(message)
        await session.commit()
        return message


async def relay(dialog_id: int, line: str, frame: dict[str, Any]) -> None:
    await broadcast(visitors_of.get(dialog_id, set()) | operators_of.get(line, set()), frame)


async def visitor_ws(ws: WebSocket) -> None:
    line = ws.query_params.get("line", "")
    await ws.accept()
    visitor_id: int | None = None
    dialog_id: int | None = None
    try:
        while True:
            frame = json.loads(await ws.receive_text())
            kind = frame.get("type")
            if kind == "hello":
                resume = frame.get("resume")
                messages: list[dict[str, Any]] = []
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    token = frame.get("token")
                    visitor = await session.get(NaiveVisitor, int(token)) if token else None
                    if visitor is None:
                        async with write_lock:
                            visitor = NaiveVisitor(line=line)
                            session.add(visitor)
                            await session.commit()
                    visitor_id = visitor.id
                    if resume:
                        dialog = await session.get(NaiveDialog, resume["dialog_id"])
                        if dialog is not None and dialog.visitor_id == visitor_id:
                            dialog_id = dialog.id
                            visitors_of.setdefault(dialog.id, set()).add(ws)  # type: ignore[arg-type]
                            rows = await session.exec(
                                select(NaiveMessage)
                                .where(NaiveMessage.dialog_id == dialog_id, NaiveMessage.seq > resume["last_seq"])
                                .order_by(NaiveMessage.seq)  # type: ignore[arg-type]
                            )
                            messages = [message_frame(m) for m in rows]
                await ws.send_text(
                    json.dumps(
                        {
                            "type": "welcome",
                            "visitor": {"id": visitor_id, "token": str(visitor_id)},
                            "line": {"id": line},
                            "dialog": None if dialog_id is None else {"id": dialog_id},
                            "messages": messages,
                            "resumed": bool(messages) or dialog_id is not None,
                        }
                    )
                )
            elif kind == "open":
                created = dialog_id is None
                if dialog_id is None:
                    async with write_lock, AsyncSession(engine, expire_on_commit=False) as session:
                        dialog = NaiveDialog(visitor_id=visitor_id or 0, line=line)
                        session.add(dialog)
                        await session.commit()
                        dialog_id = dialog.id
                    assert dialog_id is not None
                    visitors_of.setdefault(dialog_id, set()).add(ws)
                    greeting = await store_message(dialog_id, "bot", None, "Hello! How can we help?")
                    await relay(dialog_id, line, message_frame(greeting))
                ack = {"type": "ack", "ref": frame.get("ref"), "dialog_id": dialog_id, "seq": None}
                await ws.send_text(json.dumps(ack | {"duplicate": not created}))
            elif kind == "send" and dialog_id is not None:
                message = await store_message(dialog_id, "visitor", frame["client_msg_id"], frame["text"])
                ack = {"type": "ack", "ref": frame["client_msg_id"], "dialog_id": dialog_id, "seq": message.seq}
                await ws.send_text(json.dumps(ack | {"duplicate": False}))
                await relay(dialog_id, line, message_frame(message))
            elif kind == "typing" and dialog_id is not None:
                frame = {"type": "typing", "dialog_id": dialog_id, "from": "visitor", "active": frame.get("active")}
                await broadcast(operators_of.get(line, set()), frame)
            elif kind == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
    except WebSocketDisconnect:
        pass
    finally:
        if dialog_id is not None:
            visitors_of.get(dialog_id, set()).discard(ws)


async def operator_ws(ws: WebSocket) -> None:
    await ws.accept()
    line: str | None = None
    try:
        while True:
            frame = json.loads(await ws.receive_text())
            kind = frame.get("type")
            if kind == "auth":
                line = line_of_token(frame["token"])
                operators_of.setdefault(line, set()).add(ws)
                await ws.send_text(json.dumps({"type": "ready", "operator": {"id": 1}, "dialogs": []}))
            elif kind == "join":
                async with AsyncSession(engine) as session:
                    rows = await session.exec(
                        select(NaiveMessage)
                        .where(NaiveMessage.dialog_id == frame["dialog_id"], NaiveMessage.seq > frame["last_seq"])
                        .order_by(NaiveMessage.seq)  # type: ignore[arg-type]
                    )
                    messages = [message_frame(m) for m in rows]
                summary = {"id": frame["dialog_id"]}
                await ws.send_text(json.dumps({"type": "joined", "dialog": summary, "messages": messages}))
            elif kind == "send" and line is not None:
                message = await store_message(frame["dialog_id"], "operator", frame["client_msg_id"], frame["text"])
                ack = {
                    "type": "ack",
                    "ref": frame["client_msg_id"],
                    "dialog_id": frame["dialog_id"],
                    "seq": message.seq,
                }
                await ws.send_text(json.dumps(ack | {"duplicate": False}))
                await relay(frame["dialog_id"], line, message_frame(message))
            elif kind == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
    except WebSocketDisconnect:
        pass
    finally:
        if line is not None:
            operators_of.get(line, set()).discard(ws)


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield
    await engine.dispose()


app = Starlette(
    routes=[WebSocketRoute("/ws/visitor", visitor_ws), WebSocketRoute("/ws/operator", operator_ws)],
    lifespan=lifespan,
)
