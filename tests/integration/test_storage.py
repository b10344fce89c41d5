"""The storage layer on SQLite and PostgreSQL: migrations, dialog numbers under concurrency, seq allocation."""

from __future__ import annotations

import asyncio
import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy import text as sql_text

from tests.support.clients import Visitor, login, make_line
from widget_server.domain.visibility import Audience
from widget_server.services import dialog_messages, dialogs, lines, operators, visitor_contacts, visitors
from widget_server.services.dialogs import Page
from widget_server.services.tokens import token_hash
from widget_server.storage import fulltext, welcome_read
from widget_server.storage.migrate import upgrade
from widget_server.storage.tables import (
    Attachment,
    Dialog,
    DialogForm,
    Message,
    Operator,
    VisitorToken,
    metadata,
)


async def test_migrations_produce_exactly_the_models_schema(ctx):
    # The full-text index lives outside the models (see storage/fulltext.py); Alembic is told to look past it,
    # exactly as env.py tells it when autogenerating.
    def diff(connection):
        options = {"include_name": fulltext.include_name, "include_object": fulltext.include_object}
        return compare_metadata(MigrationContext.configure(connection, opts=options), metadata)

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
            dialogs.visitor_send(ctx, line, who.visitor.id, Page(), f"first-msg-{n}", "hello")
            for n, who in enumerate(people)
        )
    )
    numbers = sorted(o.dialog.number for o in outcomes)
    assert numbers == list(range(1, 51))  # unique and gap-free, per installation


async def test_concurrent_messages_in_one_dialog_get_gap_free_seqs(ctx):
    line = await lines.create_line(ctx, "Chatty", ["https://shop.example"], greeting="")
    who = await visitors.identify(ctx, None, "en", None)
    first = await dialogs.visitor_send(ctx, line, who.visitor.id, Page(), "msg-000000", "0")
    outcomes = await asyncio.gather(
        *(dialogs.visitor_send(ctx, line, who.visitor.id, Page(), f"msg-{n:06d}", str(n)) for n in range(1, 40))
    )
    assert sorted(o.seq for o in outcomes) == list(range(2, 41))
    async with ctx.db.read() as s:
        stored = (await s.execute(select(Message.seq).where(Message.dialog_id == first.dialog.id))).scalars().all()
    assert sorted(stored) == list(range(1, 41))


async def test_a_burst_stored_in_one_group_commit_reads_back_exactly_as_it_was_delivered(ctx):
    # A burst of steady messages is stored in one transaction (storage/message_writer.py), on SQLite straight on the
    # driver (storage/driver_select.py). What a client was sent live must be what a reconnect reads back later:
    # text, order, author, time to the microsecond; a resend inside the burst is one message, not two.
    line = await lines.create_line(ctx, "Steady", ["https://shop.example"], greeting="")
    who = await visitors.identify(ctx, None, "en", None)
    first = await dialogs.visitor_send(ctx, line, who.visitor.id, dialogs.Page(), "m-0", "first")
    page = dialogs.Page("https://shop.example/cart?x=1&y=<2>", "Cart — 5 € <b>")
    texts = [f"line {n}: ünïcode ῶδε 🙂 'quotes' \"and\" <tags>" for n in range(1, 25)]
    outcomes = await asyncio.gather(
        *(dialogs.visitor_send(ctx, line, who.visitor.id, page, f"m-{n}", text) for n, text in enumerate(texts, 1)),
        dialogs.visitor_send(ctx, line, who.visitor.id, page, "m-3", texts[2]),
    )

    live = {}
    for topic, event in ctx.events.published:  # what the consoles watching the line were told
        payload = json.loads(event.frame)
        if topic == f"line:{line.id}" and payload["type"] == "message" and payload["seq"] > 1:
            assert payload["seq"] not in live, "told twice"
            live[payload["seq"]] = payload
    assert sorted(live) == list(range(2, 26))
    assert [live[seq]["text"] for seq in range(2, 26)] == texts
    stored = await dialogs.load_messages(ctx, first.dialog.id, after_seq=1, limit=None, audience=Audience.VISITOR)
    assert stored == [live[seq] for seq in range(2, 26)]

    resent = [o for o in outcomes if o.seq == outcomes[2].seq]
    assert len(resent) == 2 and sorted(o.duplicate for o in resent) == [False, True]
    again = await dialogs.visitor_send(ctx, line, who.visitor.id, page, "m-5", texts[4])  # found in the database
    assert again.duplicate and again.seq == next(seq for seq, m in live.items() if m["client_msg_id"] == "m-5")
    dialog = await dialogs.latest_dialog(ctx, who.visitor.id, line.id)
    assert dialog is not None
    assert (dialog.last_seq, dialog.page_url, dialog.page_title) == (25, page.url, page.title)
    assert dialog.updated_at == ctx.clock.now()


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


async def test_many_pages_closing_at_once_each_learn_whether_their_visitor_has_an_email(ctx):
    # The page-closed rule of the unread e-mail asks this of every page that closes; a drop of many widgets at
    # once asks it together. Every visitor must still get their own answer.
    people = [await visitors.identify(ctx, None, "en", None) for _ in range(30)]
    with_email = {who.visitor.id for who in people[::3]}
    for visitor_id in with_email:
        await visitor_contacts.set_visitor_email(ctx, visitor_id, f"v{visitor_id}@example.com")

    answers = await asyncio.gather(*(ctx.db.visitor_emails.has_email(who.visitor.id) for who in people))
    assert {who.visitor.id for who, has in zip(people, answers, strict=True) if has} == with_email


async def test_a_returning_visitor_is_known_by_a_token_issued_later_too(ctx):
    who = await visitors.identify(ctx, None, "en", None)
    later = "second-token-from-an-email-link"
    async with ctx.db.write() as s:
        s.add(VisitorToken(token_hash=token_hash(later), visitor_id=who.visitor.id, created_at=ctx.clock.now()))

    again = await visitors.identify(ctx, later, "pt", "Firefox")
    assert (again.visitor.id, again.is_new, again.visitor.language) == (who.visitor.id, False, "pt")
    assert (await visitors.identify(ctx, "never-issued", "en", None)).token_was_invalid


async def test_a_welcome_read_on_the_driver_is_what_core_reads(ctx):
    # A visitor's welcome is read straight on sqlite3 (storage/driver_select.py), every other read through Core.
    # Both must give the same rows, or a reconnecting visitor would see their history differently from a first
    # visit: times in UTC to the microsecond, JSON values, flags, joined operator and attachment, the bot's name.
    line = await lines.create_line(ctx, "Shop — «Zoë»", ["https://shop.example"], greeting="")
    who = await visitors.identify(ctx, None, "en", "Firefox")
    sent = await dialogs.visitor_send(
        ctx, line, who.visitor.id, Page("https://shop.example/?q=<1>", "Ünï"), "m-1", "hi ῶ"
    )
    dialog_id = sent.dialog.id
    now = ctx.clock.now()
    async with ctx.db.write() as s:
        operator = Operator(email="ana@example.com", name="Ana «A»", password_hash="x", created_at=now)
        s.add(operator)
        await s.flush()
        rows = [
            Message(
                dialog_id=dialog_id,
                seq=2,
                kind="text",
                author_type="operator",
                operator_id=operator.id,
                body="Hello 🙂",
                client_msg_id="o-1",
                created_at=now,
                data={"edited": False},
            ),
            Message(dialog_id=dialog_id, seq=3, kind="text", author_type="bot", body="A bot", created_at=now),
            Message(dialog_id=dialog_id, seq=4, kind="file", author_type="visitor", body="cart.pdf", created_at=now),
        ]
        s.add_all(rows)
        await s.flush()
        s.add(
            Attachment(
                id="a" * 32,
                dialog_id=dialog_id,
                message_id=rows[2].id,
                name="cart «1».pdf",
                content_type="application/pdf",
                size=2**33,
                sha256="f" * 64,
                storage_key="k/1",
                uploader_type="visitor",
                created_at=now,
            )
        )
        s.add(
            DialogForm(
                dialog_id=dialog_id,
                visitor_id=who.visitor.id,
                kind="intro",
                status="open",
                step="email",
                auto=False,
                values={"name": "Zoë", "n": [1, None]},
                shown_at=now,
            )
        )
        s.add(VisitorToken(token_hash=token_hash("later"), visitor_id=who.visitor.id, created_at=now))
        await s.execute(update(Dialog).where(Dialog.id == dialog_id).values(operator_id=operator.id, last_seq=4))

    def reads(conn):
        def choose(latest):
            return latest["id"], 1

        return (
            welcome_read.read_arrival(conn, token_hash(who.token), line.id, dialog_id),
            welcome_read.read_arrival(conn, token_hash("later"), line.id, None),
            welcome_read.read_arrival(conn, token_hash("never-issued"), line.id, None),
            welcome_read.read_welcome(conn, who.visitor.id, line.id, choose, 50, ["text", "file"], "open"),
            welcome_read.read_messages(conn, dialog_id, 0, None, 2, None),
            welcome_read.read_messages(conn, dialog_id, 1, 3, None, ["text"]),
            welcome_read.read_line(conn, line.id),
        )

    on_driver = await ctx.db.run_read(reads)
    async with ctx.db.engine.connect() as conn:  # aiosqlite or asyncpg: Core
        through_core = await conn.run_sync(reads)
    assert on_driver == through_core
    arrival, later, unknown, welcome, latest_two, middle, line_row = on_driver
    assert arrival.visitor["user_agent"] == "Firefox" and arrival.resume_dialog["id"] == dialog_id
    assert later.visitor["id"] == who.visitor.id and unknown.visitor is None
    assert [m.message["seq"] for m in welcome.messages.rows] == [2, 3, 4]
    assert welcome.messages.bot_name == line.name and welcome.operator_name == "Ana «A»"
    assert welcome.messages.rows[0].message["created_at"] == now and welcome.messages.rows[0].operator_name == "Ana «A»"
    assert welcome.messages.rows[2].attachment["size"] == 2**33
    form = next(f for f in welcome.open_forms if f["kind"] == "intro")
    assert form["values"] == {"name": "Zoë", "n": [1, None]} and form["auto"] is False and form["shown_at"] == now
    assert welcome.contact == {"name": None, "email": None, "phone": None}
    assert [m.message["seq"] for m in latest_two.rows] == [3, 4]
    assert [m.message["seq"] for m in middle.rows] == [2, 3] and line_row["name"] == line.name


async def test_the_same_burst_through_the_group_commit_and_through_a_use_case_reads_back_identical_rows(ctx):
    # Every message has one writer (storage/message_writer.py), whichever way it comes in: the group commit (on
    # SQLite straight on the driver) or a use case's own transaction (through SQLAlchemy's driver). Two dialogs
    # get the same burst, one each way; their rows and their dialogs' moves must be the same.
    line = await lines.create_line(ctx, "Twins", ["https://shop.example"], greeting="")
    operator = await _operator_on(ctx, line.id)
    texts = ["plain", "ünïcode ῶδε 🙂", "<b>tags</b> & 'quotes'", "x" * 3000, ""]
    dialog_ids = []
    for twin in range(2):
        who = await visitors.identify(ctx, None, "en", None)
        opened = await dialogs.visitor_send(ctx, line, who.visitor.id, Page(), f"open-{twin}", "hello")
        await dialogs.operator_send(ctx, operator, opened.dialog.id, f"take-{twin}", "taken")  # assigns: full path
        dialog_ids.append(opened.dialog.id)
    group, single = dialog_ids

    outcomes = await asyncio.gather(
        *(dialogs.operator_send(ctx, operator, group, f"b-{n}", text) for n, text in enumerate(texts))
    )
    assert all(not o.duplicate for o in outcomes)
    for n, text in enumerate(texts):
        async with ctx.db.write() as s:
            dialog = await dialog_messages.lock_dialog(s, single)
            assert dialog is not None
            author = dialog_messages.Author("operator", operator.name, operator.id)
            await dialog_messages.append_message(ctx, s, dialog, author, text, client_msg_id=f"b-{n}")

    async with ctx.db.read() as s:
        rows = {
            dialog_id: [
                {k: v for k, v in m.model_dump().items() if k not in ("id", "dialog_id")}
                for m in (
                    await s.execute(select(Message).where(Message.dialog_id == dialog_id).order_by(Message.seq))
                ).scalars()
            ]
            for dialog_id in dialog_ids
        }
        moved = [await s.get(Dialog, dialog_id) for dialog_id in dialog_ids]
        # As stored, before any type reads them back: the text a datetime or JSON value was written as.
        raw = [
            (
                await s.execute(
                    sql_text("SELECT seq, body, created_at, data FROM messages WHERE dialog_id = :d ORDER BY seq"),
                    {"d": d},
                )
            ).all()[-len(texts) :]
            + (await s.execute(sql_text("SELECT updated_at, waiting_since FROM dialogs WHERE id = :d"), {"d": d})).all()
            for d in dialog_ids
        ]
    assert raw[0] == raw[1]
    assert rows[group][-len(texts) :] == rows[single][-len(texts) :]
    assert [r["body"] for r in rows[group][-len(texts) :]] == texts
    assert moved[0] is not None and moved[1] is not None
    assert (moved[0].last_seq, moved[0].waiting_since, moved[0].updated_at) == (
        moved[1].last_seq,
        moved[1].waiting_since,
        moved[1].updated_at,
    )


async def _operator_on(ctx, line_id: str) -> operators.OperatorIdentity:
    row = await operators.create_operator(ctx, "burst@shop.example", "Burst", "password-123", line_ids=[line_id])
    identity = await operators.identity(ctx, row.id)
    assert identity is not None
    return identity
