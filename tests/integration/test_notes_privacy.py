"""Notes and internal notices are for staff: never over the visitor's socket, never in history, resume or a gap
fill, never in the transcript or the unread-messages e-mail.

The e-mails are checked as the visitor gets them: made by the server's own jobs and hooks, sent by its sender to
a real SMTP server (aiosmtpd), parsed from what arrived.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_email import _database, address, set_email
from tests.support.clients import OperatorClient, Visitor, api, login, make_line
from tests.support.live_server import LiveServer
from tests.support.services import drop_pg_database, redis_settings
from tests.support.smtp import MailSink, Received
from widget_server.clock import FakeClock

SECRET = "VIP customer, refund without asking"


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    mail = MailSink().start()
    yield mail
    mail.stop()


@pytest.fixture(scope="module")
def server(db_kind: str, sink: MailSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The suite's two installations (tests/conftest.py), sending their e-mail to `sink`."""
    tmp = tmp_path_factory.mktemp(f"notes-{db_kind}")
    url, pg_name = _database(db_kind, tmp)
    overrides = sink.settings() | ({} if db_kind == "sqlite" else redis_settings())
    live = LiveServer(data_dir=tmp, database_url=url, clock=FakeClock(), overrides=overrides).start()
    try:
        yield live
    finally:
        live.stop()
        if pg_name:
            drop_pg_database(pg_name)


def leaked(frames: list[dict]) -> list[dict]:
    return [f for f in frames if SECRET in str(f) or f.get("kind") in ("note", "internal")]


async def test_a_note_reaches_staff_only_live_in_history_on_resume_and_in_gap_fills(server):
    admin = login(server)
    line = make_line(server, admin)
    operator = await OperatorClient.connect(server, admin)
    colleague = await OperatorClient.connect(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    first = await visitor.say("My parcel is late")
    dialog_id = first["dialog_id"]
    answer = await operator.say(dialog_id, "Let me check.")
    await visitor.expect("message", seq=answer["seq"])

    note = await operator.note(dialog_id, SECRET)
    assert note["type"] == "ack" and note["seq"] == answer["seq"] + 1
    # Staff hear it live (every operator of the line), as a note with its author.
    heard = await colleague.expect("message", seq=note["seq"])
    assert heard["kind"] == "note" and heard["text"] == SECRET and heard["author"]["name"] == "Demo operator"
    # Setting a status writes an internal notice: staff only too.
    assert (await operator.status(dialog_id, "waiting"))["type"] == "ack"

    # The next visible message reaches the visitor; the seqs skip the staff-only entries (the server fills the
    # gap from the database for the visitor's audience, which finds nothing to send).
    after = await operator.say(dialog_id, "Found it: it ships tomorrow.")
    got = await visitor.expect("message", seq=after["seq"])
    assert got["text"] == "Found it: it ships tomorrow."
    assert leaked(visitor.seen + await visitor.remaining()) == []

    # History for a new tab, and resume from before the note.
    tab = await Visitor.connect(server, line=line["id"], token=visitor.token)
    staff_only = {note["seq"], note["seq"] + 1}  # the note and the status notice
    assert [m["seq"] for m in tab.welcome["messages"]] == [n for n in range(1, after["seq"] + 1) if n not in staff_only]
    assert leaked(tab.welcome["messages"]) == []
    resumed = await Visitor.connect(
        server, line=line["id"], token=visitor.token, resume={"dialog_id": dialog_id, "last_seq": answer["seq"]}
    )
    assert [m["text"] for m in resumed.welcome["messages"]] == ["Found it: it ships tomorrow."]
    assert leaked(resumed.seen + await resumed.remaining()) == []

    # Staff history has everything, in order.
    with api(server, admin) as client:
        staff = client.get(f"/api/dialogs/{dialog_id}/messages").json()["items"]
    assert [m["kind"] for m in staff][-4:] == ["text", "note", "internal", "text"]
    for client in (operator, colleague, visitor, tab, resumed):
        await client.close()


def bodies(received: Received) -> list[str]:
    return [received.text(), received.html()]


async def test_neither_the_unread_messages_email_nor_the_transcript_has_a_note_or_an_internal_notice(server, sink):
    admin = login(server)
    line = make_line(server, admin)
    operator = await OperatorClient.connect(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("My parcel is late"))["dialog_id"]
    email = address()
    set_email(server, admin, dialog_id, email)
    await operator.say(dialog_id, "Let me check.")
    assert (await operator.note(dialog_id, SECRET))["type"] == "ack"
    assert (await operator.status(dialog_id, "waiting"))["type"] == "ack"  # writes an internal notice
    await operator.say(dialog_id, "Found it: it ships tomorrow.")
    with api(server, admin) as client:
        staff = client.get(f"/api/dialogs/{dialog_id}/messages").json()["items"]
    [notice] = [m["text"] for m in staff if m["kind"] == "internal"]
    staff_only = (SECRET, notice)

    # The visitor does not read the answers within the minute: the unread-messages e-mail (the job's path).
    server.clock.advance(61)
    [unread] = await sink.wait_for(email)
    assert unread.message["Subject"] == "2 new messages from Test line"
    for body in bodies(unread):
        assert "Let me check." in body and "Found it: it ships tomorrow." in body
        assert not [text for text in staff_only if text in body], body

    # The operator closes the dialog: the transcript goes to the visitor's known address (the hook's path).
    await operator.send({"type": "close", "dialog_id": dialog_id, "ref": "close-notes"})
    await operator.expect("ack", ref="close-notes")
    transcript = (await sink.wait_for(email, count=2))[1]
    assert transcript.message["Subject"].startswith("Your conversation with Test line")
    for body in bodies(transcript):
        for said in ("My parcel is late", "Let me check.", "Found it: it ships tomorrow."):
            assert said in body
        assert not [text for text in staff_only if text in body], body
    for client in (operator, visitor):
        await client.close()


async def test_a_note_cannot_be_made_by_a_visitor_or_into_another_line(server):
    admin = login(server)
    line = make_line(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("hi")
    # The visitor endpoint has no note frame at all.
    await visitor.send({"type": "note", "dialog_id": ack["dialog_id"], "client_msg_id": "fake-note-1", "text": "x"})
    assert (await visitor.expect("error"))["code"] == "unknown_type"
    await visitor.close()
