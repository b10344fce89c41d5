"""SMTP down for an hour, across a restart of the server: nothing lost, then everything out, in order, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_email import _database, outbox_to
from tests.support.clients import Visitor, api, login, make_line
from tests.support.live_server import LiveServer
from tests.support.services import drop_pg_database
from tests.support.smtp import MailSink
from widget_server.clock import FakeClock


@pytest.fixture
def down_sink() -> Iterator[MailSink]:
    sink = MailSink()  # not started: connections are refused
    yield sink
    sink.stop()


@pytest.fixture
def outage_server(db_kind: str, down_sink: MailSink, tmp_path) -> Iterator[LiveServer]:
    url, pg_name = _database(db_kind, tmp_path)
    live = LiveServer(data_dir=tmp_path, database_url=url, clock=FakeClock(), overrides=down_sink.settings())
    try:
        yield live.start()
    finally:
        live.stop()
        if pg_name:
            drop_pg_database(pg_name)


async def queue_transcripts(server: LiveServer, token: str, count: int) -> list[dict[str, Any]]:
    line_id = make_line(server, token)["id"]
    queued = []
    for n in range(count):
        visitor = await Visitor.connect(server, line=line_id)
        dialog_id = (await visitor.say(f"question number {n}"))["dialog_id"]
        await visitor.close()
        with api(server, token) as client:
            response = client.post(
                f"/api/dialogs/{dialog_id}/transcript", json={"email": f"v{n}-{uuid.uuid4().hex[:6]}@example.com"}
            )
            response.raise_for_status()
            queued.append(response.json())
    return queued


def statuses(server: LiveServer, token: str, queued: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [next(i for i in outbox_to(server, token, q["to"]) if i["id"] == q["id"]) for q in queued]


async def test_smtp_down_for_an_hour_and_a_restart_lose_nothing_and_send_each_once_in_order(outage_server, down_sink):
    server, sink = outage_server, down_sink
    token = login(server)
    queued = await queue_transcripts(server, token, 3)
    await server.settle()
    head = statuses(server, token, queued)[0]
    assert head["status"] == "pending" and head["attempts"] >= 1 and "Connect" in head["last_error"]

    # An hour of refusals: the sender keeps trying with growing pauses; nothing is dropped or overtakes.
    for _ in range(6):
        server.clock.advance(600)
        await server.settle()
    items = statuses(server, token, queued)
    assert [i["status"] for i in items] == ["pending"] * 3
    assert items[0]["attempts"] >= 4
    assert items[1]["next_attempt_at"] >= items[0]["next_attempt_at"]  # waits behind the head, in order

    # The server restarts while SMTP is still down: the outbox is in the database, so it all survives.
    server.restart()
    server.clock.advance(900)
    await server.settle()
    assert [i["status"] for i in statuses(server, token, queued)] == ["pending"] * 3

    # SMTP comes back: each e-mail goes out once, in the order it was queued, with the Message-ID it was given.
    sink.start()
    server.clock.advance(900)
    for q in queued:
        await sink.wait_for(q["to"])
    arrived = [r.message["Message-ID"] for r in sink.received]
    assert arrived == [q["message_id"] for q in queued]
    server.clock.advance(6 * 3600)
    await server.settle()
    assert len(sink.received) == 3
    assert [i["status"] for i in statuses(server, token, queued)] == ["sent"] * 3
