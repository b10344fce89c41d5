"""Files over HTTP: the visitor's upload from the widget, and downloads for visitors and operators.

A download is allowed with a valid signed link (handed only to the visitor of the file's dialog and to the
operators of its line; see `domain/signed_links.py`) or with an operator session on the file's line. Files are
served with the type the server found in them, images inline and the rest as attachments, in a sandbox with no
script: a file can never act as a page of this site.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from widget_server.config import Settings
from widget_server.domain import signed_links
from widget_server.domain.file_types import IMAGE_TYPES
from widget_server.domain.origins import origin_allowed
from widget_server.domain.permissions import works_on
from widget_server.domain.rate_limit import KeyedBuckets
from widget_server.errors import Forbidden, NotFound, OpenlineError, RateLimited, Unauthenticated
from widget_server.services import dialogs, lines, operators, uploads, visitors
from widget_server.services.dialogs import Page
from widget_server.services.records import Dialog, LineView
from widget_server.web.inbox_api import client_msg_id_param
from widget_server.web.rest import _ctx, json
from widget_server.web.session_cookie import request_token

FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=3600",
    # The widget shows images on the customer's site, another origin than ours.
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def _cors(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "authorization, content-type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


class UploadLimits:
    """How many files visitors attach a minute, per visitor and per address, in this process (uploads are the
    most expensive thing a stranger can make the server do: disk, a message, an operator's attention)."""

    def __init__(self, settings: Settings) -> None:
        self.per_visitor = KeyedBuckets(settings.visitor_uploads_per_minute)
        self.per_address = KeyedBuckets(settings.ip_uploads_per_minute)

    def check(self, limits: KeyedBuckets, key: str, now: float) -> None:
        if not limits.take(key, now):
            raise UploadRateLimited(limits.retry_after(key))


class UploadRateLimited(RateLimited):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many files; try again in {retry_after} s", "rate_limited")
        self.retry_after = retry_after


def _error(exc: OpenlineError, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status, headers=headers)


async def _visitor_line_origin(request: Request) -> tuple[str, LineView]:
    ctx = _ctx(request)
    line = await lines.get_line(ctx, request.query_params.get("line", ""))
    origin = request.headers.get("origin") or ""
    if not origin_allowed(origin, line.allowed_origins):
        raise Forbidden("This site is not allowed to use this line", "origin_not_allowed")
    return origin, line


async def visitor_upload_preflight(request: Request) -> Response:
    try:
        origin, _ = await _visitor_line_origin(request)
    except OpenlineError as exc:
        return _error(exc)
    return Response(status_code=204, headers=_cors(origin))


async def visitor_upload(request: Request) -> Response:
    """The widget attaches a file: `Authorization: Bearer <visitor token>`, the body is the file."""
    ctx = _ctx(request)
    try:
        origin, line = await _visitor_line_origin(request)
    except OpenlineError as exc:
        return _error(exc)
    headers = _cors(origin)
    limits: UploadLimits = request.app.state.upload_limits
    try:
        # Before anything is read or looked up: the address first, so made-up tokens cost as much as real ones.
        limits.check(limits.per_address, request.client.host if request.client else "", ctx.clock.monotonic())
        token = request.headers.get("authorization", "")
        visitor = await visitors.find_by_token(ctx, token[7:].strip()) if token.lower().startswith("bearer ") else None
        if visitor is None:
            raise Unauthenticated("Unknown visitor; reconnect the chat first")
        assert visitor.id is not None  # read from the database
        limits.check(limits.per_visitor, str(visitor.id), ctx.clock.monotonic())
        client_msg_id = client_msg_id_param(request)
        staged = await uploads.receive(
            ctx, request.stream(), request.headers.get("content-type"), request.query_params.get("name", "")
        )
        try:
            outcome = await dialogs.visitor_send(ctx, line, visitor.id, Page(), client_msg_id, staged.name, file=staged)
        except BaseException:
            await uploads.discard(ctx, staged)
            raise
        if outcome.duplicate:
            await uploads.discard(ctx, staged)
    except OpenlineError as exc:
        if isinstance(exc, UploadRateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return _error(exc, headers)
    body = {"ref": client_msg_id, "dialog_id": outcome.dialog.id, "seq": outcome.seq, "duplicate": outcome.duplicate}
    response = json(body, 200 if outcome.duplicate else 201)
    response.headers.update(headers)
    return response


async def download(request: Request) -> Response:
    ctx = _ctx(request)
    file_id = request.path_params["file_id"]
    attachment, dialog = await uploads.attachment(ctx, file_id)
    if not _signed(request, file_id) and not await _operator_may(request, dialog):
        raise Forbidden("This link is not valid (or has expired); ask for the file again", "bad_link")
    if attachment is None:
        raise NotFound("The file was deleted", "file_gone")
    store = uploads.file_store(ctx)
    kind = "inline" if attachment.content_type in IMAGE_TYPES else "attachment"
    headers = FILE_HEADERS | {"Content-Disposition": content_disposition(kind, attachment.name)}
    gone = NotFound("The file is no longer stored; ask for it again", "file_gone")
    path = store.local_path(attachment.storage_key)
    if path is not None:
        try:
            found = await anyio.to_thread.run_sync(os.stat, path)
        except FileNotFoundError:
            raise gone from None
        return FileResponse(path, media_type=attachment.content_type, headers=headers, stat_result=found)
    # The first chunk is read before answering: once the 200 is sent, a missing file could only cut the body.
    chunks = store.read(attachment.storage_key)
    try:
        first = await anext(chunks, b"")
    except FileNotFoundError:
        raise gone from None
    return StreamingResponse(_prepend(first, chunks), media_type=attachment.content_type, headers=headers)


def content_disposition(kind: str, name: str) -> str:
    """`inline` or `attachment` with the file's name, RFC 5987-encoded when it is not plain ASCII."""
    quoted = quote(name)
    if quoted == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename*=utf-8''{quoted}"


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


def _signed(request: Request, file_id: str) -> bool:
    try:
        expires = int(request.query_params.get("exp", ""))
    except ValueError:
        return False
    signature = request.query_params.get("sig", "")
    ctx = _ctx(request)
    return signed_links.verify(ctx.settings.secret, file_id, expires, signature, ctx.clock.now())


async def _operator_may(request: Request, dialog: Dialog | None) -> bool:
    token = request_token(request)
    if not token or dialog is None:
        return False
    try:
        who = await operators.authenticate(_ctx(request), token)
    except Unauthenticated:
        return False
    return works_on(who.line_ids, dialog.line_id)


routes = [
    Route("/api/visitor/files", visitor_upload_preflight, methods=["OPTIONS"]),
    Route("/api/visitor/files", visitor_upload, methods=["POST"]),
    Route("/files/{file_id}/{name}", download, methods=["GET", "HEAD"]),
]
