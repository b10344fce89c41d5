"""E-mail against a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL, with the injected clock.

The server sends to `MailSink`, which parses every message with the `email` package; each test has a line and a
visitor address of its own, so tests on one server do not see each other's mail. To show that no e-mail went, a
test moves the clock past the moment it would have been due and `server.settle()`s: the server has then run
every job and sent every e-mail that was due, so what the sink has not received is not coming.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_contact_forms import form_shown, submit
from tests.support.clients import OperatorClient, Visitor, api, login, make_line, new_id
from tests.support.live_server import LiveServer
from tests.support.services import PG_HOST, PG_PORT, create_pg_database, drop_pg_database, need_service, pg_url
from tests.support.smtp import MailSink, Received
from widget_server.clock import FakeClock
from widget_server.storage.database import Database
from widget_server.storage.tables import DialogMail

QUESTION = "Do you ship to Spain?"
ANSWER = "Yes, we do: 3 days to Madrid."


def _database(kind: str, tmp: Any) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'mail.db'}", None
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = create_pg_database()
    return pg_url(name), name


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    mail = MailSink().start()
    yield mail
    mail.stop()


@pytest.fixture(scope="module")
def server(db_kind: str, sink: MailSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp(f"mail-{db_kind}")
    url, pg_name = _database(db_kind, tmp)
    live = LiveServer(data_dir=tmp, database_url=url, clock=FakeClock(), overrides=sink.settings()).start()
    try:
        yield live
    finally:
        live.stop()
        if pg_name:
            drop_pg_database(pg_name)


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return login(server)


def address() -> str:
    return f"visitor-{uuid.uuid4().hex[:10]}@example.com"


def set_email(server: LiveServer, token: str, dialog_id: int, email: str) -> dict[str, Any]:
    with api(server, token) as client:
        response = client.put(f"/api/dialogs/{dialog_id}/visitor-email", json={"email": email})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def outbox_to(server: LiveServer, token: str, email: str) -> list[dict[str, Any]]:
    with api(server, token) as client:
        response = client.get("/api/outbox", params={"limit": 500})
        response.raise_for_status()
        return [item for item in response.json()["items"] if item["to"] == email]


async def page_closed_noted(server: LiveServer, dialog_id: int, timeout: float = 10.0) -> None:
    """Wait until the server has noted, at its clock's time, that the visitor's last page closed.

    The server learns of the closing when the socket's end reaches it; the clock must not move before that.
    """
    db = Database(server.database_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            async with db.read() as s:
                row = await s.get(DialogMail, dialog_id)
                if row is not None and row.page_closed_at is not None:
                    return
            assert loop.time() < deadline, "the server did not note the closed page"
            await asyncio.sleep(0.02)
    finally:
        await db.dispose()


async def conversation(server: LiveServer, token: str, **line: Any) -> tuple[Visitor, OperatorClient, int, int, str]:
    """A visitor with a known e-mail asks; an operator answers. Returns the answer's seq too."""
    line_id = make_line(server, token, **line)["id"]
    visitor = await Visitor.connect(server, line=line_id)
    dialog_id = (await visitor.say(QUESTION))["dialog_id"]
    email = address()
    set_email(server, token, dialog_id, email)
    operator = await OperatorClient.connect(server, token)
    answer_seq = (await operator.say(dialog_id, ANSWER))["seq"]
    return visitor, operator, dialog_id, answer_seq, email


def link_of(received: Received) -> str:
    found = re.search(r"https?://\S+#openline=[0-9A-Za-z._-]+", received.text())
    assert found, received.text()
    return found.group(0)


async def test_unread_answer_seen_at_59s_sends_no_email(server, sink, token):
    visitor, operator, dialog_id, answer_seq, email = await conversation(server, token)
    server.clock.advance(59)
    await visitor.send({"type": "seen", "seq": answer_seq})
    await operator.expect("seen", dialog_id=dialog_id, by="visitor")
    server.clock.advance(3600)
    await server.settle()
    assert outbox_to(server, token, email) == [] and sink.to(email) == []
    await visitor.close()
    await operator.close()


async def test_unread_answer_not_seen_at_61s_sends_one_email_with_question_answer_and_link(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token, name="Sunny Shoes")
    server.clock.advance(59)
    await server.settle()
    assert sink.to(email) == []  # not yet: the minute is not over
    server.clock.advance(2)
    [received] = await sink.wait_for(email)
    message = received.message

    # Headers: who, to whom, about what, and ids that stay the same on a retry.
    assert received.rcpt_tos == [email] and received.mail_from == "support@shop.example"
    assert message["To"] == email
    assert message["From"].addresses[0].display_name == "Sunny Shoes"
    assert message["From"].addresses[0].addr_spec == "support@shop.example"
    assert message["Subject"] == "1 new message from Sunny Shoes"
    assert re.fullmatch(r"<[^<>@\s]+@shop\.example>", message["Message-ID"])
    assert message["Content-Language"] == "en" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]

    # The visitor's question and the operator's answer, in both parts, and the way back.
    text, html = received.text(), received.html()
    assert QUESTION in text and ANSWER in text and "Demo operator" in text
    assert QUESTION in html and ANSWER in html
    link = link_of(received)
    assert link.startswith(f"{server.url}/demo#openline={dialog_id}.")  # the page the widget was on
    assert f'href="{link}"' in html

    # The link opens this dialog for whoever follows it, on a device that never saw the widget.
    token_in_link = link.split("#openline=", 1)[1]
    elsewhere = await Visitor.connect(server, line=received_line(server, token, dialog_id), hello=False)
    await elsewhere.send({"type": "hello", "token": None, "link": token_in_link, "page": {"url": link}})
    welcome = await elsewhere.expect("welcome")
    assert welcome["opened_by_link"] is True and welcome["dialog"]["id"] == dialog_id
    assert [m["text"] for m in welcome["messages"] if m["kind"] == "text"][-2:] == [QUESTION, ANSWER]

    server.clock.advance(3600)
    await server.settle()
    assert len(sink.to(email)) == 1  # one e-mail for the batch, not one per minute
    for client in (visitor, operator, elsewhere):
        await client.close()


def received_line(server: LiveServer, token: str, dialog_id: int) -> str:
    with api(server, token) as client:
        items = client.get("/api/dialogs", params={"status": "all", "limit": 200}).json()["items"]
    return next(d["line"]["id"] for d in items if d["id"] == dialog_id)


async def test_two_operator_messages_make_one_email(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    server.clock.advance(30)
    await operator.say(dialog_id, "Shipping is free above 50 EUR.")
    server.clock.advance(31)  # 61 s after the first answer, 31 s after the second
    [received] = await sink.wait_for(email)
    assert received.message["Subject"] == "2 new messages from Test line"
    text = received.text()
    assert text.index(QUESTION) < text.index(ANSWER) < text.index("Shipping is free above 50 EUR.")
    server.clock.advance(3600)
    await server.settle()
    assert len(sink.to(email)) == 1
    await visitor.close()
    await operator.close()


async def test_a_later_answer_in_an_ongoing_dialog_gets_its_own_email_and_a_note_none(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    server.clock.advance(61)
    [first] = await sink.wait_for(email)
    assert ANSWER in first.text()

    # The dialog is assigned and ongoing now: a note is for staff only, so it owes the visitor nothing...
    await operator.note(dialog_id, "Customer seems upset; offer a discount")
    server.clock.advance(3600)
    await server.settle()
    assert len(sink.to(email)) == 1
    # ...while a later answer is news again, and its e-mail tells only what is new.
    later = "Your parcel left the warehouse today."
    await operator.say(dialog_id, later)
    server.clock.advance(61)
    second = (await sink.wait_for(email, count=2))[1]
    assert second.message["Subject"] == "1 new message from Test line"
    assert later in second.text() and "discount" not in second.text()
    for client in (visitor, operator):
        await client.close()


async def test_closing_the_page_sends_the_email_without_waiting_the_minute(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    await visitor.close()  # the visitor's only page with the widget goes away
    await page_closed_noted(server, dialog_id)
    server.clock.advance(14)
    await server.settle()
    assert sink.to(email) == []  # within the grace a page may come back
    server.clock.advance(2)  # 16 s: well under the minute, so only the page-closed rule can send this e-mail
    [received] = await sink.wait_for(email)
    assert ANSWER in received.text()
    await operator.close()


async def test_a_server_restart_is_not_a_closed_page(server, sink, token):
    visitor, operator, _, _, email = await conversation(server, token)
    server.restart()  # every socket drops with 1012; the visitor's page is still open and its widget comes back
    server.clock.advance(30)  # twice the page-closed grace, half the minute
    await server.settle()
    assert sink.to(email) == []
    server.clock.advance(31)  # the minute is over and the answer is still unread: now it is news
    [received] = await sink.wait_for(email)
    assert ANSWER in received.text()
    for client in (visitor, operator):
        await client.close()


async def test_a_visitor_who_returns_and_reads_gets_no_email(server, sink, token):
    visitor, operator, dialog_id, answer_seq, email = await conversation(server, token)
    await visitor.close()
    await page_closed_noted(server, dialog_id)
    server.clock.advance(5)
    back = await Visitor.connect(server, line=received_line(server, token, dialog_id), token=visitor.token)
    server.clock.advance(20)  # past the page-closed grace: the visitor is back, so the minute rule applies
    await server.settle()
    assert sink.to(email) == []
    await back.send({"type": "seen", "seq": answer_seq})
    await operator.expect("seen", dialog_id=dialog_id, by="visitor")
    server.clock.advance(3600)
    await server.settle()
    assert sink.to(email) == [] and outbox_to(server, token, email) == []
    await back.close()
    await operator.close()


async def test_transcript_at_close_is_in_the_line_language_and_zone_and_recorded_in_the_dialog(server, sink, token):
    moscow = (server.clock.now() + timedelta(hours=3)).strftime("%H:%M")
    visitor, operator, dialog_id, _, email = await conversation(
        server, token, name="Магазин", language="ru", time_zone="Europe/Moscow"
    )
    await operator.send({"type": "close", "dialog_id": dialog_id, "ref": "close-1"})
    await operator.expect("ack", ref="close-1")
    [received] = await sink.wait_for(email)
    assert received.message["Subject"].startswith("Ваш разговор с Магазин (диалог №")
    assert received.message["Content-Language"] == "ru"
    text = received.text()
    # The FakeClock's January 2026, in Russian, at Moscow time (UTC+3).
    assert re.search(rf"\d{{1,2}} января 2026\W?г\., {moscow} \(GMT\+03:00\)", text), text
    assert QUESTION in text and ANSWER in text and "Вы:" in text
    assert "завершил диалог" in text  # the closing notice is part of what the visitor saw
    assert f"E-mail: {email}" in text
    # The dialog records that the transcript left, and to whom; the visitor and the operator see it.
    notice = await visitor.expect("message", where=lambda m: m.get("code") == "transcript_sent")
    assert notice["text"] == f"Копия разговора отправлена на {email}"
    await operator.expect("message", where=lambda m: m.get("code") == "transcript_sent")
    # The transcript told the visitor everything: no unread-messages e-mail follows.
    server.clock.advance(3600)
    await server.settle()
    assert len(sink.to(email)) == 1
    await visitor.close()
    await operator.close()


async def test_requested_transcript_goes_to_the_given_address_once(server, sink, token):
    line_id = make_line(server, token, language="es", name="Tienda")["id"]
    visitor = await Visitor.connect(server, line=line_id)
    dialog_id = (await visitor.say(QUESTION))["dialog_id"]
    email = address()
    with api(server, token) as client:
        # The domain's case and surrounding spaces do not make another address.
        first = client.post(
            f"/api/dialogs/{dialog_id}/transcript", json={"email": f" {email.replace('example.com', 'EXAMPLE.com')} "}
        )
        assert first.status_code == 202 and first.json()["to"] == email
    [received] = await sink.wait_for(email)
    await visitor.expect("message", where=lambda m: m.get("code") == "transcript_sent")
    with api(server, token) as client:
        # Asked again, nothing new said since (the "copy sent" notice is not news): the same e-mail, not another.
        again = client.post(f"/api/dialogs/{dialog_id}/transcript", json={"email": email})
        assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert received.message["Subject"].startswith("Su conversación con Tienda (diálogo n.º ")
    await visitor.close()


async def test_a_550_reply_marks_the_email_failed_for_operators_and_stops_retrying(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    sink.rcpt_replies[email] = f"550 5.1.1 <{email}>: no such mailbox here"
    with api(server, token) as client:
        queued = client.post(f"/api/dialogs/{dialog_id}/transcript", json={}).json()
    await server.settle()  # queued for now: the sender has tried it
    [item] = [i for i in outbox_to(server, token, email) if i["id"] == queued["id"]]
    assert item["status"] == "failed" and item["attempts"] == 1
    assert item["last_error"].startswith("550 5.1.1") and "no such mailbox" in item["last_error"]
    notice = await operator.expect("message", where=lambda m: m.get("code") == "transcript_failed")
    assert email in notice["text"]
    refusals = len(sink.refused)
    server.clock.advance(6 * 3600)
    await server.settle()
    [item] = [i for i in outbox_to(server, token, email) if i["id"] == queued["id"]]
    assert item["status"] == "failed" and item["attempts"] == 1 and len(sink.refused) == refusals
    assert sink.to(email) == []
    await visitor.close()
    await operator.close()


async def test_a_4xx_reply_is_retried_later_and_then_delivered_once(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    sink.rcpt_replies[email] = "451 4.7.1 Greylisted, try again later"
    with api(server, token) as client:
        queued = client.post(f"/api/dialogs/{dialog_id}/transcript", json={}).json()
    await server.settle()
    [item] = [i for i in outbox_to(server, token, email) if i["id"] == queued["id"]]
    assert item["status"] == "pending" and item["attempts"] == 1 and item["last_error"].startswith("451")
    del sink.rcpt_replies[email]
    server.clock.advance(30)  # the first retry comes after 15 to 30 s
    [received] = await sink.wait_for(email)
    assert received.message["Message-ID"] == queued["message_id"]
    server.clock.advance(3600)
    await server.settle()
    assert len(sink.to(email)) == 1
    await visitor.close()
    await operator.close()


async def test_names_cannot_add_headers_and_html_in_messages_stays_text(server, sink, token):
    hostile_name = "Shop\r\nBcc: victim@evil.example\r\nX-Injected: yes"
    hostile_text = '<script>alert("x")</script><b>bold</b> & <a href="https://evil.example">click</a>'
    line_id = make_line(server, token, name=hostile_name)["id"]
    visitor = await Visitor.connect(server, line=line_id)
    dialog_id = (await visitor.say(hostile_text))["dialog_id"]
    with api(server, token) as client:
        bad = client.put(
            f"/api/dialogs/{dialog_id}/visitor-email", json={"email": "a@example.com\r\nBcc: v@evil.example"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_email"
    email = address()
    set_email(server, token, dialog_id, email)
    with api(server, token) as client:
        client.post(f"/api/dialogs/{dialog_id}/transcript", json={}).raise_for_status()
    [received] = await sink.wait_for(email)
    message = received.message
    assert received.rcpt_tos == [email]  # nobody else got it
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"] and "Bcc: victim@evil.example" in message["Subject"]
    assert message["From"].addresses[0].display_name == "Shop Bcc: victim@evil.example X-Injected: yes"
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Injected:" not in headers
    assert b"\r\nBcc:" not in received.raw  # not in the bodies either: names are one line there too
    html = received.html()
    assert "<script>" not in html and "<b>bold</b>" not in html and 'href="https://evil.example"' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=" in html
    assert hostile_text in received.text()  # the text part is text: shown as typed
    await visitor.close()


async def test_operators_read_the_outbox_and_only_their_lines(server, sink, token):
    visitor, operator, dialog_id, _, email = await conversation(server, token)
    server.clock.advance(61)
    await sink.wait_for(email)
    await server.settle()  # the pass that sent it has recorded it
    [item] = outbox_to(server, token, email)
    assert item["kind"] == "unread" and item["status"] == "sent" and item["held"] is False
    with api(server, token) as client:
        full = client.get(f"/api/outbox/{item['id']}").json()
        assert ANSWER in full["text"]
        # Operators read the e-mail without the link's token: it would let them write as the visitor.
        assert "#openline=…" in full["text"] and not re.search(r"#openline=\d", full["text"])
        listing = client.get("/api/outbox", params={"status": "sent"}).json()
        assert listing["smtp_configured"] is True and listing["counts"]["sent"] >= 1
        assert client.get("/api/outbox", params={"status": "bogus"}).status_code == 400
        other_email = f"{uuid.uuid4().hex[:8]}@ops.example"
        client.post(
            "/api/operators", json={"email": other_email, "name": "Other", "password": "password-123"}
        ).raise_for_status()
    with api(server, login(server, other_email, "password-123")) as other:
        assert other.get(f"/api/outbox/{item['id']}").status_code == 404
        assert all(i["to"] != email for i in other.get("/api/outbox").json()["items"])
        assert other.put(f"/api/dialogs/{dialog_id}/visitor-email", json={"email": email}).status_code == 403
    await visitor.close()
    await operator.close()


async def test_the_widget_texts_come_in_the_lines_language(server, token):
    line_id = make_line(server, token, language="uk")["id"]
    visitor = await Visitor.connect(server, line=line_id)
    strings = visitor.welcome["line"]["strings"]
    assert strings["send"] == "Надіслати" and strings["typing"] == "{name} друкує…"
    with api(server, token) as client:
        client.patch(f"/api/lines/{line_id}", json={"language": "es"}).raise_for_status()
        assert client.patch(f"/api/lines/{line_id}", json={"time_zone": "Mars/Olympus"}).status_code == 400
    again = await Visitor.connect(server, line=line_id, token=visitor.token)
    assert again.welcome["line"]["strings"]["send"] == "Enviar"
    await visitor.close()
    await again.close()


async def test_the_offline_form_and_the_transcript_form_feed_the_emails(server, sink, token):
    line_id = make_line(server, token, name="Night shop")["id"]
    visitor = await Visitor.connect(server, line=line_id)
    ack = await visitor.say(QUESTION)
    number = (await visitor.expect("dialog"))["dialog"]["number"]
    offline = await form_shown(visitor, "offline")  # nobody has a console open
    email = address()
    await submit(visitor, offline["id"], email=email)

    # An operator answers later; the visitor has not read it: the answer to the request goes by e-mail.
    operator = await OperatorClient.connect(server, token)
    await operator.say(ack["dialog_id"], ANSWER)
    server.clock.advance(61)
    [answer] = await sink.wait_for(email)
    assert answer.message["Subject"] == f"Night shop answered your request (dialog #{number})"
    assert "Here is the answer to your request" in answer.text() and ANSWER in answer.text()

    # The transcript icon and its form: the copy leaves at once.
    ref = new_id()
    await visitor.send({"type": "transcript.request", "ref": ref})
    await visitor.expect("ack", ref=ref)
    form = await form_shown(visitor, "transcript")
    await submit(visitor, form["id"], email=email)
    _, transcript = await sink.wait_for(email, count=2)
    assert transcript.message["Subject"] == f"Your conversation with Night shop (dialog #{number})"
    assert QUESTION in transcript.text() and ANSWER in transcript.text()
    await visitor.close()
    await operator.close()
