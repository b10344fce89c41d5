"""The storage coalescers on a real SQLite file: what a batch writes, and that one bad call fails only its caller."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from widget_server.storage.console_beats import ConsoleBeats
from widget_server.storage.database import Database
from widget_server.storage.migrate import upgrade
from widget_server.storage.tables import Operator, OperatorConnection, Visitor
from widget_server.storage.visitor_emails import VisitorEmails
from widget_server.storage.visitor_seen import VisitorSeen

_visitors = Visitor.__table__  # type: ignore[attr-defined]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'openline.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


def _add_visitors(conn: Connection, emails: list[str | None]) -> list[int]:
    rows = [
        {"token_hash": f"t{n}", "email": email, "created_at": T0, "last_seen_at": T0} for n, email in enumerate(emails)
    ]
    return [conn.execute(insert(_visitors).values(row)).inserted_primary_key[0] for row in rows]


def _seen(conn: Connection) -> dict[int, dict[str, Any]]:
    return {row["id"]: dict(row) for row in conn.execute(select(_visitors)).mappings()}


async def test_hellos_of_one_batch_are_written_and_a_visitors_two_hellos_keep_what_either_told(db):
    ids = await db.run_write(_add_visitors, [None, None])
    seen = VisitorSeen(db.run_write)
    later = T0 + timedelta(minutes=5)
    await asyncio.gather(
        seen.remember(ids[0], T0 + timedelta(minutes=1), "de", "Firefox"),
        seen.remember(ids[0], later, None, None, "DE"),
        seen.remember(ids[1], later, "fr"),
    )
    rows = await db.run_read(_seen)
    assert (rows[ids[0]]["last_seen_at"], rows[ids[0]]["language"]) == (later, "de")
    assert (rows[ids[0]]["user_agent"], rows[ids[0]]["location"]) == ("Firefox", "DE")
    assert (rows[ids[1]]["last_seen_at"], rows[ids[1]]["language"]) == (later, "fr")


async def test_a_hello_that_cannot_be_written_fails_alone(db, caplog):
    ids = await db.run_write(_add_visitors, [None, None])
    seen = VisitorSeen(db.run_write)
    later = T0 + timedelta(minutes=5)
    good = seen.remember(ids[0], later, "en")
    bad = seen.remember(ids[1], later.replace(tzinfo=None), "en")  # a naive time: the column refuses it
    await asyncio.gather(good, bad, return_exceptions=True)
    assert good.result() is None
    assert bad.exception() is not None
    rows = await db.run_read(_seen)
    assert rows[ids[0]]["last_seen_at"] == later
    assert rows[ids[1]]["last_seen_at"] == T0
    assert "recording that a visitor was seen failed" in caplog.text


async def test_questions_asked_together_are_answered_each(db):
    ids = await db.run_write(_add_visitors, ["a@example.com", None, ""])
    emails = VisitorEmails(db.run_read)
    answers = await asyncio.gather(*(emails.has_email(i) for i in [*ids, ids[0], 10_000]))
    assert answers == [True, False, False, True, False]


async def test_a_heartbeat_marks_every_open_console_of_the_process(db):
    def add_consoles(conn: Connection) -> None:
        operators = Operator.__table__  # type: ignore[attr-defined]
        operator_id = conn.execute(
            insert(operators).values(email="o@example.com", name="O", password_hash="x", is_active=True, created_at=T0)
        ).inserted_primary_key[0]
        for cid in ("c1", "c2", "c3"):
            values = {"id": cid, "operator_id": operator_id, "created_at": T0, "last_seen_at": T0}
            conn.execute(insert(OperatorConnection.__table__).values(values))  # type: ignore[attr-defined]

    await db.run_write(add_consoles)
    consoles = ConsoleBeats(db.run_write)
    for cid in ("c1", "c2", "c3"):
        consoles.add(cid)
    consoles.discard("c2")
    now = T0 + timedelta(seconds=20)
    assert await consoles.beat(now) == 2

    def last_seen(conn: Connection) -> dict[str, datetime]:
        table = OperatorConnection.__table__  # type: ignore[attr-defined]
        return dict(conn.execute(select(table.c.id, table.c.last_seen_at)).all())

    assert await db.run_read(last_seen) == {"c1": now, "c2": T0, "c3": now}
