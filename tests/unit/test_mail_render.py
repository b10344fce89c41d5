"""Rendering and composing e-mails: languages, dates, escaping, and headers nothing can be smuggled into."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest

from widget_server.domain.mail_content import MailMessage
from widget_server.errors import InvalidInput
from widget_server.mail.addresses import normalize_email
from widget_server.mail.compose import Attachment, Envelope, compose, new_message_id, to_wire
from widget_server.mail.render import render_email

T = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
MESSAGES = [
    MailMessage(2, "text", "visitor", None, "Do you ship to Spain?", T),
    MailMessage(3, "text", "operator", "Anna", "Yes, we do.\nIn 3 days.", T + timedelta(minutes=1)),
]


def unread(language: str, zone: str = "UTC", **extra):
    context = {
        "line_name": "Demo shop",
        "number": 42,
        "visitor_name": None,
        "messages": MESSAGES,
        "count": 1,
        "link": "https://shop.example/p#openline=1.2.x",
        "link_expires_at": T + timedelta(days=14),
    } | extra
    return render_email("unread", language, zone, **context)


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("en", "1 new message from Demo shop", "Hello!"),
        ("ru", "1 новое сообщение от Demo shop", "Здравствуйте!"),
        ("es", "1 mensaje nuevo de Demo shop", "¡Hola!"),
        ("uk", "1 нове повідомлення від Demo shop", "Вітаємо!"),
    ],
)
def test_the_unread_email_is_written_in_the_lines_language(language, subject, greeting):
    rendered = unread(language)
    assert rendered.subject == subject
    assert rendered.text.startswith(greeting) and rendered.html.count(greeting) == 1


def test_plural_forms_follow_the_language():
    assert unread("ru", count=5).subject == "5 новых сообщений от Demo shop"
    assert unread("ru", count=3).subject == "3 новых сообщения от Demo shop"
    assert unread("uk", count=21).subject == "21 нове повідомлення від Demo shop"
    assert unread("en", count=2).subject == "2 new messages from Demo shop"


def test_an_unsupported_language_falls_back_to_english_never_to_keys():
    assert unread("fr").subject == "1 new message from Demo shop"


def test_dates_are_in_the_lines_time_zone_and_locale():
    def text(language: str, zone: str) -> str:
        return unread(language, zone).text.replace("\u202f", " ")  # CLDR puts a narrow space before AM/PM

    assert "[1:15 PM] You:" in text("en", "Europe/Moscow")
    assert "[13:15] Вы:" in text("ru", "Europe/Moscow")
    assert "[10:15] Вы:" in text("ru", "UTC")
    assert "[2:15 AM] You:" in text("en", "America/Los_Angeles")  # 22 Nov 10:15 UTC is 02:15 in LA
    assert "--- 22 ноября 2026 г. ---" in text("ru", "Europe/Moscow")


def test_html_in_messages_is_escaped_in_the_html_part_and_line_breaks_kept():
    hostile = [MailMessage(3, "text", "operator", "<i>Anna</i>", '<img src=x onerror="alert(1)">\nok', T)]
    rendered = unread("en", messages=hostile, line_name="<b>Shop</b>")
    assert "<img" not in rendered.html and "<i>Anna" not in rendered.html and "<b>Shop" not in rendered.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;<br>\nok" in rendered.html
    assert '<img src=x onerror="alert(1)">' in rendered.text  # plain text stays as typed


def envelope(**changes) -> Envelope:
    values = {
        "sender": "support@shop.example",
        "sender_name": "Demo shop",
        "to": "anna@example.com",
        "subject": "Hello",
        "language": "en",
        "message_id": new_message_id("unread", "support@shop.example"),
        "date": T,
    } | changes
    return Envelope(**values)


@pytest.mark.parametrize(
    "evil",
    [
        "\r\nBcc: v@evil.example",
        "\nBcc: v@evil.example",
        "\rBcc: v@evil.example",
        "\x00\x1b[31m\u2028Bcc: v@evil.example",
        "\u0085Bcc: v@evil.example",
    ],
)
def test_control_characters_in_names_and_subjects_never_start_a_header(evil):
    message = compose(envelope(sender_name=f"Shop{evil}", subject=f"Hi{evil}"), "text", "<p>html</p>")
    parsed = email.message_from_bytes(to_wire(message).encode(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert [k for k in parsed if k.lower() == "bcc"] == []
    assert "Bcc: v@evil.example" in parsed["Subject"] and "\n" not in parsed["Subject"]
    assert parsed["From"].addresses[0].addr_spec == "support@shop.example"


def test_addresses_with_line_breaks_or_nonsense_are_refused():
    for bad in ["a@example.com\r\nBcc: v@evil.example", "no-at-sign", "a@b", "a@@example.com", "ä@example.com", ""]:
        with pytest.raises(InvalidInput) as caught:
            normalize_email(bad)
        assert caught.value.code == "invalid_email"
    assert normalize_email("  Anna@EXAMPLE.com ") == "Anna@example.com"
    assert normalize_email("anna@bücher.example") == "anna@xn--bcher-kva.example"


def test_the_wire_form_is_ascii_multipart_with_a_text_attachment():
    message = compose(envelope(attachments=[Attachment("dialog-42.txt", "Привет\n" * 3)]), "Привет", "<p>Привет</p>")
    wire = to_wire(message)
    assert wire.isascii()
    parsed = email.message_from_bytes(wire.encode(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content().strip() == "Привет"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "dialog-42.txt" and attachment.get_content() == "Привет\n" * 3
    assert parsed["Content-Language"] == "en" and parsed["Message-ID"].startswith("<")


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Valid until December 6, 2026."),
        ("es", "Válido hasta el 6 de diciembre de 2026."),
        ("ru", "Действует до 6 декабря 2026 г."),  # the date ends with "г.": one full stop, not two
        ("uk", "Дійсне до 6 грудня 2026 р."),
    ],
)
def test_the_links_expiry_is_a_whole_sentence_with_one_full_stop(language, sentence):
    lines = unread(language).text.replace("\u202f", " ").splitlines()  # CLDR: a narrow space before "г."
    assert any(line.endswith(sentence) and not line.endswith("..") for line in lines), lines
