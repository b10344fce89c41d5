"""Contact forms against the real server: the timing table on the injected clock, validation in the line's
language, presence and the offline form, and the way back on reconnect and restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, new_id
from tests.support.live_server import LiveServer
from widget_server.storage.database import Database
from widget_server.storage.tables import Job, OutboxEmail, TranscriptRequest


def line_with(server: LiveServer, token: str, **settings: Any) -> dict[str, Any]:
    line = make_line(server, token, **({"language": settings.pop("language")} if "language" in settings else {}))
    if settings:
        with api(server, token) as client:
            client.patch(f"/api/lines/{line['id']}", json={"settings": settings}).raise_for_status()
    return line


async def submit(visitor: Visitor, form_id: int, **values: str) -> dict[str, Any]:
    ref = new_id()
    await visitor.send({"type": "form.submit", "ref": ref, "form_id": form_id, "values": values})
    return await visitor.expect("ack", ref=ref) if "bad" not in values else {}


async def form_shown(visitor: Visitor, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    return (await visitor.expect("form.show", timeout=timeout, where=lambda f: f["form"]["kind"] == kind))["form"]


def kinds_shown(frames: list[dict[str, Any]]) -> list[str]:
    return [f["form"]["kind"] for f in frames if f["type"] == "form.show"]


async def shown_by_now(server: LiveServer, visitor: Visitor) -> list[str]:
    """The kinds of the forms shown to `visitor` and not taken yet, once every timer due by the clock has run."""
    await server.settle()
    return kinds_shown(await visitor.remaining())


async def close_dialog(operator: OperatorClient, dialog_id: int) -> None:
    ref = new_id()
    await operator.send({"type": "close", "dialog_id": dialog_id, "ref": ref})
    await operator.expect("ack", ref=ref)


async def test_intro_form_shows_5s_after_greeting_with_only_the_name(server):
    line = line_with(server, login(server))
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.open_chat()
    server.clock.advance(4)
    assert await shown_by_now(server, visitor) == []
    server.clock.advance(1)
    form = await form_shown(visitor, "intro")
    assert form["step"] == "name"
    assert [f["name"] for f in form["fields"]] == ["name"]
    assert form["title"] == "Please introduce yourself"
    await visitor.close()


async def test_after_the_name_the_form_grows_and_a_bad_email_is_explained_in_the_line_language(server):
    token = login(server)
    line = line_with(server, token, language="ru", default_country="ES")
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Здравствуйте")
    server.clock.advance(5)
    form = await form_shown(visitor, "intro")

    await submit(visitor, form["id"], name="Анна")
    grown = await form_shown(visitor, "intro")
    assert grown["id"] == form["id"] and grown["step"] == "contacts"
    assert [(f["name"], f["value"]) for f in grown["fields"]] == [("name", "Анна"), ("email", ""), ("phone", "")]
    card = await operator.expect("message", where=lambda m: m.get("code") == "contact_card")
    assert card["data"]["contact"]["name"] == "Анна" and card["data"]["crm"]["type"] == "lead"

    ref = new_id()
    values = {"name": "Анна", "email": "anna@", "phone": "600 123 456"}
    await visitor.send({"type": "form.submit", "ref": ref, "form_id": form["id"], "values": values})
    error = await visitor.expect("form.error", ref=ref)
    assert error["errors"] == {"email": "Это не похоже на адрес электронной почты."}

    await submit(visitor, form["id"], name="Анна", email="Anna@Example.com", phone="600 123 456")
    done = await visitor.expect("form.done", form_id=form["id"])
    assert done["status"] == "completed"
    card = await operator.expect(
        "message", where=lambda m: m.get("code") == "contact_card" and m["data"]["contact"]["email"]
    )
    assert card["dialog_id"] == ack["dialog_id"]
    assert card["data"]["contact"] == {"name": "Анна", "email": "Anna@example.com", "phone": "+34600123456"}
    lead_id = card["data"]["crm"]["id"]
    with api(server, token) as client:
        lead = client.get(f"/api/leads/{lead_id}").json()
    assert lead["lead"]["email"] == "Anna@example.com" and lead["lead"]["phone"] == "+34600123456"
    assert lead["lead"]["source"] == "website_chat" and lead["lead"]["line_id"] == line["id"]
    assert [d["id"] for d in lead["dialogs"]] == [ack["dialog_id"]]
    await visitor.close()
    await operator.close()


async def test_closing_within_5s_cancels_the_intro_form(server):
    token = login(server)
    line = line_with(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    await close_dialog(operator, ack["dialog_id"])
    server.clock.advance(6)
    assert "intro" not in await shown_by_now(server, visitor)
    await visitor.close()
    await operator.close()


async def test_rating_at_10s_brings_the_transcript_form_at_15s(server):
    token = login(server)
    line = line_with(server, token, rating_enabled=True)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    await close_dialog(operator, ack["dialog_id"])
    rating = await form_shown(visitor, "rating")  # at once, at the end
    server.clock.advance(10)
    await submit(visitor, rating["id"], rating="good", comment="Quick and kind")
    rated = await operator.expect("message", where=lambda m: m.get("code") == "dialog_rated")
    assert rated["data"] == {"rating": "good", "comment": "Quick and kind"}
    server.clock.advance(4.9)
    assert "transcript" not in await shown_by_now(server, visitor)
    server.clock.advance(0.2)
    await form_shown(visitor, "transcript")
    await visitor.close()
    await operator.close()


async def test_rating_at_40s_gives_no_second_transcript_form(server):
    token = login(server)
    line = line_with(server, token, rating_enabled=True)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    await close_dialog(operator, ack["dialog_id"])
    rating = await form_shown(visitor, "rating")
    server.clock.advance(29)
    assert "transcript" not in await shown_by_now(server, visitor)
    server.clock.advance(1)
    await form_shown(visitor, "transcript")  # 30 s after the end
    server.clock.advance(10)
    await submit(visitor, rating["id"], rating="bad")
    server.clock.advance(10)
    assert "transcript" not in await shown_by_now(server, visitor)
    await visitor.close()
    await operator.close()


async def test_dialog_reopened_at_3s_cancels_the_transcript_form(server):
    token = login(server)
    line = line_with(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    await close_dialog(operator, ack["dialog_id"])
    server.clock.advance(3)
    again = await visitor.say("One more question")  # the conversation goes on, in a new dialog
    assert again["dialog_id"] != ack["dialog_id"]
    server.clock.advance(10)
    await server.settle()
    frames = await visitor.remaining()
    assert "transcript" not in kinds_shown(frames)
    await visitor.close()
    await operator.close()


async def test_a_pending_form_survives_a_restart_and_comes_once(fresh_server):
    server = fresh_server.start()
    line = line_with(server, login(server))
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.open_chat()
    await visitor.close()
    server.restart()  # between scheduling (at the greeting) and firing (5 s later)

    back = await Visitor.connect(server, line=line["id"], token=visitor.token)
    server.clock.advance(5)
    form = await form_shown(back, "intro")
    server.clock.advance(60)
    assert await shown_by_now(server, back) == []  # once
    await back.close()

    # On reconnect a form still open is shown again, right after the welcome.
    again = await Visitor.connect(server, line=line["id"], token=visitor.token)
    assert (await again.expect("form.show"))["form"]["id"] == form["id"]
    await again.close()
    db = Database(server.database_url)
    async with db.read() as s:
        jobs = (await s.execute(select(Job).where(Job.kind == "form"))).scalars().all()
    await db.dispose()
    assert [(j.key.split(":")[1], j.status) for j in jobs if j.key.startswith("form:intro")] == [("intro", "done")]


async def test_the_transcript_icon_records_a_request_for_the_given_email(server):
    token = login(server)
    line = line_with(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    ref = new_id()
    await visitor.send({"type": "transcript.request", "ref": ref})
    await visitor.expect("ack", ref=ref)
    form = await form_shown(visitor, "transcript")
    assert [f["name"] for f in form["fields"]] == ["email"]
    await submit(visitor, form["id"], email="copy@example.com")
    await visitor.expect("form.done", form_id=form["id"])
    db = Database(server.database_url)
    async with db.read() as s:
        requests = (
            (await s.execute(select(TranscriptRequest).where(TranscriptRequest.dialog_id == ack["dialog_id"])))
            .scalars()
            .all()
        )
        emails = (await s.execute(select(OutboxEmail).where(OutboxEmail.dialog_id == ack["dialog_id"]))).scalars().all()
    await db.dispose()
    # The mail side took the request: the transcript is in the outbox (kept there, as this server has no SMTP).
    assert [(r.email, r.status) for r in requests] == [("copy@example.com", "queued")]
    assert [(e.kind, e.to_addr) for e in emails] == [("transcript", "copy@example.com")]
    await visitor.close()


async def test_offline_form_when_nobody_is_online_or_everybody_is_at_the_limit(server):
    token = login(server)
    line = line_with(server, token)
    with api(server, token) as client:
        client.post(
            "/api/operators",
            json={"email": "busy@example.com", "name": "Busy", "password": "password-123", "line_ids": [line["id"]]},
        ).raise_for_status()
    # Nobody has a console open: the first message brings the offline form at once.
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.say("anyone?")
    form = await form_shown(visitor, "offline")
    assert form["title"] == "Leave your contacts and we will notify you of the answer"
    await visitor.close()

    # Busy comes online with a limit of one chat and takes one: still nobody can answer a new visitor.
    busy_token = login(server, "busy@example.com", "password-123")
    busy = await OperatorClient.connect(server, busy_token)
    assert busy.ready["presence"]["effective"] == "online"
    with api(server, busy_token) as client:
        presence = client.patch("/api/me/presence", json={"chat_limit": 1}).json()
    assert presence == {"status": "online", "effective": "online", "chat_limit": 1, "active_chats": 0}
    first = await Visitor.connect(server, line=line["id"])
    taken = await first.say("hello")
    assert "offline" not in await shown_by_now(server, first)  # Busy can answer this one
    await busy.join(taken["dialog_id"])
    await busy.status(taken["dialog_id"], "in_progress")  # reading assigns nothing; taking it does
    second = await Visitor.connect(server, line=line["id"])
    await second.say("hello too")
    await form_shown(second, "offline")

    # Away counts as not answering either; online with room again does.
    with api(server, busy_token) as client:
        client.patch("/api/me/presence", json={"chat_limit": 5, "status": "away"}).raise_for_status()
    third = await Visitor.connect(server, line=line["id"])
    await third.say("hi")
    await form_shown(third, "offline")
    with api(server, busy_token) as client:
        client.patch("/api/me/presence", json={"status": "online"}).raise_for_status()
        me = client.get("/api/me").json()
    assert me["presence"]["active_chats"] == 1
    fourth = await Visitor.connect(server, line=line["id"])
    await fourth.say("hi")
    assert "offline" not in await shown_by_now(server, fourth)
    for client in (first, second, third, fourth, busy):
        await client.close()


async def test_a_transcript_form_closed_unsent_from_the_icon_still_comes_after_the_end(server):
    token = login(server)
    line = line_with(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    ref = new_id()
    await visitor.send({"type": "transcript.request", "ref": ref})
    form = await form_shown(visitor, "transcript")
    ref = new_id()
    await visitor.send({"type": "form.dismiss", "ref": ref, "form_id": form["id"]})
    await visitor.expect("form.done", form_id=form["id"], status="dismissed")
    await close_dialog(operator, ack["dialog_id"])
    server.clock.advance(5)
    again = await form_shown(visitor, "transcript")
    assert again["id"] == form["id"]
    server.clock.advance(60)
    assert await shown_by_now(server, visitor) == []  # by itself once
    await visitor.close()
    await operator.close()


async def test_a_console_that_stops_heartbeating_counts_as_offline_after_60s(server):
    token = login(server)
    line = line_with(server, token)
    operator = await OperatorClient.connect(server, token)
    assert operator.ready["presence"]["effective"] == "online"
    server.clock.advance(61)  # no heartbeat in between: the console is as good as gone
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.say("hello?")
    await form_shown(visitor, "offline")
    with api(server, token) as client:
        assert client.get("/api/me").json()["presence"]["effective"] == "offline"
    await visitor.close()
    await operator.close()


async def test_an_open_console_keeps_its_operator_online_past_60s_and_a_closed_one_does_not(fresh_server):
    fresh_server.overrides = fresh_server.overrides | {"console_heartbeat_seconds": 0.05}
    server = fresh_server.start()
    token = login(server)
    operator = await OperatorClient.connect(server, token)
    server.clock.advance(100)  # the process's heartbeat (every 0.05 s here) marks the console seen at the new time
    with api(server, token) as client:

        def effective() -> str:
            return str(client.get("/api/me").json()["presence"]["effective"])

        assert await _within(5.0, lambda: effective() == "online")
        await operator.close()
        server.clock.advance(61)  # a closed console's heartbeats stop: the operator goes offline for good
        assert await _within(5.0, lambda: effective() == "offline")
        await server.settle()  # a heartbeat round of the server's consoles, and any work it made due
        assert effective() == "offline"


async def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds at some moment within `seconds` (real time: the heartbeat runs on it)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_visitor_cannot_send_or_close_someone_else_s_form(server):
    line = line_with(server, login(server))
    owner = await Visitor.connect(server, line=line["id"])
    await owner.say("hi")  # nobody online: the offline form
    form = await form_shown(owner, "offline")
    stranger = await Visitor.connect(server, line=line["id"])
    for frame in (
        {"type": "form.submit", "ref": new_id(), "form_id": form["id"], "values": {"email": "x@example.com"}},
        {"type": "form.dismiss", "ref": new_id(), "form_id": form["id"]},
    ):
        await stranger.send(frame)
        assert (await stranger.expect("error", ref=frame["ref"]))["code"] == "forbidden"
    await submit(owner, form["id"], email="owner@example.com")  # still open for its owner
    await owner.close()
    await stranger.close()
