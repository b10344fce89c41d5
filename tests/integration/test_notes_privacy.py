"""Notes and internal notices are for staff: never over the visitor's socket, never in history, resume or a gap
fill, never in what transcripts and e-mails read."""

from __future__ import annotations

from tests.support.clients import OperatorClient, Visitor, api, login, make_line
from widget_server.clock import FakeClock
from widget_server.config import Settings
from widget_server.services import dialogs
from widget_server.services.context import Context
from widget_server.storage.database import Database

SECRET = "VIP customer, refund without asking"


class _NoEvents:
    def publish(self, topic: str, event: object) -> None:
        pass


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

    # What transcripts and e-mails read: the visitor's view, without notes.
    db = Database(server.database_url)
    try:
        ctx = Context(settings=Settings(database_url=server.database_url), db=db, events=_NoEvents(), clock=FakeClock())
        visible = await dialogs.visitor_visible_messages(ctx, dialog_id)
    finally:
        await db.dispose()
    assert [m["seq"] for m in visible] == [m["seq"] for m in tab.welcome["messages"]]
    assert leaked(visible) == []
    for client in (operator, colleague, visitor, tab, resumed):
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
