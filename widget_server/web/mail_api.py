"""REST for e-mail: the outbox operators can read, and the visitor's e-mail and transcript from a dialog.
See docs/api.md ("E-mail")."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from widget_server.errors import InvalidInput
from widget_server.mail import outbox
from widget_server.services import conversation_mail, dialogs, outbox_view, visitor_contacts
from widget_server.web.pages import CONSOLE_CSP, STATIC
from widget_server.web.rest import Body, _admin, _body, _ctx, _int_param, _operator, json

Email = Annotated[str, StringConstraints(min_length=3, max_length=254)]


class VisitorEmailIn(Body):
    email: Email


class TranscriptIn(Body):
    email: Email | None = None


def _smtp_configured(request: Request) -> bool:
    return bool(_ctx(request).settings.smtp_host)


async def list_outbox(request: Request) -> Response:
    who = await _operator(request)
    status = request.query_params.get("status", "all")
    if status not in (*outbox.STATUSES, "all"):
        raise InvalidInput(f"status: one of {', '.join(outbox.STATUSES)}, all")
    limit = _int_param(request, "limit", 100, 1, 500)
    items, counts = await outbox_view.list_emails(_ctx(request), who, None if status == "all" else status, limit)
    configured = _smtp_configured(request)
    return json(
        {"smtp_configured": configured, "counts": counts, "items": [outbox.summary(e, configured) for e in items]}
    )


# The link in an e-mail lets its reader continue the conversation as the visitor; operators read the e-mail
# without it, so the console cannot be used to write in a visitor's name.
_LINK_TOKEN = re.compile(r"(#openline=)[0-9A-Za-z._-]+")


async def get_outbox_email(request: Request) -> Response:
    email = await outbox_view.visible_email(_ctx(request), await _operator(request), request.path_params["email_id"])
    text = _LINK_TOKEN.sub(r"\1…", email.text_body)
    return json(outbox.summary(email, _smtp_configured(request)) | {"text": text})


async def retry_outbox_email(request: Request) -> Response:
    who = await _admin(request)
    fresh = await outbox_view.retry(_ctx(request), who, request.path_params["email_id"])
    return json(outbox.summary(fresh, _smtp_configured(request)))


async def set_visitor_email(request: Request) -> Response:
    who = await _operator(request)
    dialog = await dialogs.check_operator_access(_ctx(request), who, request.path_params["dialog_id"])
    body = await _body(request, VisitorEmailIn)
    email = await visitor_contacts.set_visitor_email(_ctx(request), dialog.visitor_id, body.email)
    return json({"visitor_id": dialog.visitor_id, "email": email})


async def send_transcript(request: Request) -> Response:
    who = await _operator(request)
    dialog = await dialogs.check_operator_access(_ctx(request), who, request.path_params["dialog_id"])
    body = await _body(request, TranscriptIn)
    assert dialog.id is not None
    email = await conversation_mail.request_transcript(_ctx(request), dialog.id, body.email)
    return json(outbox.summary(email, _smtp_configured(request)), 202)


async def outbox_page(_: Request) -> Response:
    """The console's Outbox page (static; it reads the API above with the console's session)."""
    return FileResponse(STATIC / "outbox.html", headers={"Content-Security-Policy": CONSOLE_CSP})


routes = [
    Route("/console/outbox", outbox_page, methods=["GET"]),
    Route("/api/outbox", list_outbox, methods=["GET"]),
    Route("/api/outbox/{email_id:int}", get_outbox_email, methods=["GET"]),
    Route("/api/outbox/{email_id:int}/retry", retry_outbox_email, methods=["POST"]),
    Route("/api/dialogs/{dialog_id:int}/visitor-email", set_visitor_email, methods=["PUT"]),
    Route("/api/dialogs/{dialog_id:int}/transcript", send_transcript, methods=["POST"]),
]
