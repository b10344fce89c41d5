"""The storage layer on SQLite and PostgreSQL: migrations, dialog numbers under concurrency, seq allocation."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from tests.support.clients import Visitor, login, make_line
from widget_server.services import dialogs, lines, visitors
from widget_server.services.dialogs import Page
from widget_server.storage.migrate import upgrade
from widget_server.storage.tables import Message, metadata


async def test_migrations_produce_exactly_the_models_schema(ctx):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), metadata)

    async with ctx.db.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == []


async def test_migrating_twice_is_harmless(ctx):
    upgrade(ctx.db.url)
    upgrade(ctx.db.url)


async def test_fifty_dialogs_opened_at_once_get_fifty_distinct_sequential_numbers(ctx):
    line = await lines.create_line(ctx, "Busy line", ["https://shop.example"], greeting="Hi")
    people = [await visitors.identify(ctx, None, "en", None) for _ in range(50)]

    outcomes = await asyncio.gather(
        *(
            dialogs.visitor_send(ctx, line, who.visitor, Page(), f"first-msg-{n}", "hello")
            for n, who in enumerate(people)
        )
    )
    numbers = sorted(o.dialog.number for o in outcomes)
    assert numbers == list(range(1, 51))  # unique and gap-free, per installation


async def test_concurrent_messages_in_one_dialog_get_gap_free_seqs(ctx):
    line = await lines.create_line(ctx, "Chatty", ["https://shop.example"], greeting="")
    who = await visitors.identify(ctx, None, "en", None)
    first = await dialogs.visitor_send(ctx, line, who.visitor, Page(), "msg-000000", "0")
    outcomes = await asyncio.gather(
        *(dialogs.visitor_send(ctx, line, who.visitor, Page(), f"msg-{n:06d}", str(n)) for n in range(1, 40))
    )
    assert sorted(o.seq for o in outcomes) == list(range(2, 41))
    async with ctx.db.read() as s:
        stored = (await s.execute(select(Message.seq).where(Message.dialog_id == first.dialog.id))).scalars().all()
    assert sorted(stored) == list(range(1, 41))


async def test_fifty_visitors_writing_at_once_through_the_server_get_distinct_numbers(server):
    token = login(server)
    line = make_line(server, token)
    crowd = await asyncio.gather(*(Visitor.connect(server, line=line["id"]) for _ in range(50)))
    acks = await asyncio.gather(*(v.say("hello at the same time") for v in crowd))
    welcome_numbers = []
    for visitor, ack in zip(crowd, acks, strict=True):
        dialog = await visitor.expect("dialog", where=lambda f, a=ack: f["dialog"]["id"] == a["dialog_id"])
        welcome_numbers.append(dialog["dialog"]["number"])
        await visitor.close()
    assert len(set(welcome_numbers)) == 50
