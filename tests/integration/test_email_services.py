"""The e-mail use cases straight on the database (SQLite and PostgreSQL), with the injected clock and a job runner
driven by hand: the offline answer, and a transcript too long for one e-mail body."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from widget_server.assembly.jobs import job_runner
from widget_server.errors import RateLimited
from widget_server.services import conversation_mail, dialogs, lines, operators, visitor_contacts, visitors
from widget_server.services.dialogs import Page
from widget_server.storage.tables import Dialog, Message, OutboxEmail


async def outbox(ctx) -> list[OutboxEmail]:
    async with ctx.db.read() as s:
        return list((await s.execute(select(OutboxEmail).order_by(OutboxEmail.id))).scalars())


async def setup(ctx, language: str = "en"):
    line = await lines.create_line(ctx, "Night shop", ["https://shop.example"], greeting="Hi", language=language)
    operator = await operators.create_operator(ctx, "anna@shop.example", "Анна", "password-123", line_ids=[line.id])
    who = await operators.identity(ctx, operator.id)
    visitor = (await visitors.identify(ctx, None, language, None)).visitor
    return line, who, visitor


async def test_the_answer_to_an_offline_request_goes_out_as_such_then_as_unread_messages(ctx):
    line, operator, visitor = await setup(ctx, "uk")
    page = Page(url="https://shop.example/cart?item=7", title="Cart")
    sent = await dialogs.visitor_send(ctx, line, visitor.id, page, "visitor-msg-1", "Чи є доставка до Львова?")
    dialog_id = sent.dialog.id
    # Nobody was online: the visitor leaves an e-mail in the offline form.
    await visitor_contacts.set_visitor_email(ctx, visitor.id, "olena@example.com", offline_request_dialog_id=dialog_id)
    runner = job_runner(ctx)

    ctx.clock.advance(3 * 3600)  # an operator answers hours later
    await dialogs.operator_send(ctx, operator, dialog_id, "operator-msg-1", "Так, 2 дні.")
    ctx.clock.advance(59)
    assert await runner.run_due() == 0
    ctx.clock.advance(2)
    assert await runner.run_due() == 1
    [answer] = await outbox(ctx)
    assert answer.kind == "offline_answer" and answer.to_addr == "olena@example.com" and answer.language == "uk"
    assert answer.subject == f"Night shop: відповідь на ваше звернення (діалог №{sent.dialog.number})"
    assert "Чи є доставка до Львова?" in answer.text_body and "Так, 2 дні." in answer.text_body
    assert f"https://shop.example/cart?item=7#openline={dialog_id}." in answer.text_body

    # The request is answered; the next unseen answer is an ordinary unread-messages e-mail.
    await dialogs.operator_send(ctx, operator, dialog_id, "operator-msg-2", "Ще питання?")
    ctx.clock.advance(61)
    assert await runner.run_due() == 1
    kinds = [e.kind for e in await outbox(ctx)]
    assert kinds == ["offline_answer", "unread"]


async def test_a_link_never_points_outside_the_lines_sites(ctx):
    line, operator, visitor = await setup(ctx)
    phishing = Page(url="https://evil.example/login", title="Log in")
    sent = await dialogs.visitor_send(ctx, line, visitor.id, phishing, "visitor-msg-1", "hello")
    await visitor_contacts.set_visitor_email(ctx, visitor.id, "me@example.com")
    await dialogs.operator_send(ctx, operator, sent.dialog.id, "operator-msg-1", "hi")
    ctx.clock.advance(61)
    assert await job_runner(ctx).run_due() == 1
    [mail] = await outbox(ctx)
    assert "evil.example" not in mail.raw
    assert f"https://shop.example/#openline={sent.dialog.id}." in mail.text_body


async def test_a_huge_transcript_keeps_the_body_short_and_attaches_the_whole_conversation(ctx):
    line, _, visitor = await setup(ctx)
    sent = await dialogs.visitor_send(ctx, line, visitor.id, Page(), "visitor-msg-1", "message 1")
    async with ctx.db.write() as s:
        dialog = await s.get(Dialog, sent.dialog.id)
        for seq in range(dialog.last_seq + 1, 1201):
            s.add(
                Message(
                    dialog_id=dialog.id,
                    seq=seq,
                    kind="text",
                    author_type="visitor",
                    body=f"message {seq} " + "x" * 300,
                    created_at=ctx.clock.now(),
                )
            )
        dialog.last_seq = 1200
    queued = await conversation_mail.request_transcript(ctx, sent.dialog.id, "big@example.com")
    parsed = email.message_from_string(queued.raw, policy=policy.default)
    body = parsed.get_body(("plain",)).get_content()
    assert "message 3 " in body and "message 1200 " not in body
    assert len(body) < 80_000
    number = sent.dialog.number
    assert f"more messages are in the attached file dialog-{number}.txt." in body
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == f"dialog-{number}.txt"
    everything = attachment.get_content()
    assert "message 3 " in everything and "message 1200 " in everything


async def test_a_dialog_cannot_be_used_to_mail_transcripts_to_anyone_again_and_again(ctx):
    line, _, visitor = await setup(ctx)
    sent = await dialogs.visitor_send(ctx, line, visitor.id, Page(), "visitor-msg-0", "hello")
    for n in range(conversation_mail.TRANSCRIPTS_PER_HOUR):
        await dialogs.visitor_send(ctx, line, visitor.id, Page(), f"visitor-msg-{n + 1}", f"more {n}")
        await conversation_mail.request_transcript(ctx, sent.dialog.id, f"someone-{n}@example.com")
    with pytest.raises(RateLimited) as refused:
        await conversation_mail.request_transcript(ctx, sent.dialog.id, "one-more@example.com")
    assert refused.value.code == "too_many_transcripts"
    ctx.clock.advance(3601)
    await conversation_mail.request_transcript(ctx, sent.dialog.id, "one-more@example.com")
    assert len(await outbox(ctx)) == conversation_mail.TRANSCRIPTS_PER_HOUR + 1
