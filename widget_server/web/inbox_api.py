"""REST for the inbox: the filtered list, a dialog's details, search in a dialog, links, files, deletion.

See docs/api.md. Every route authenticates the operator and checks the dialog's line in the service it calls.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.domain.channels import CHANNELS
from widget_server.domain.inbox_filter import FilterProblem, parse_filter
from widget_server.errors import InvalidInput
from widget_server.realtime.frames import ClientMsgId
from widget_server.services import dialog_actions, dialog_details, dialogs, inbox, links, uploads
from widget_server.web.rest import Body, _body, _ctx, _int_param, _operator, json

EntityId = Annotated[int, Field(ge=1, le=2**31)]


class LinkIn(Body):
    entity_type: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,16}$")]
    entity_id: EntityId


def _multi_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


async def list_dialogs(request: Request) -> Response:
    who = await _operator(request)
    try:
        f = parse_filter(_multi_params(request))
    except FilterProblem as exc:
        raise InvalidInput(exc.message) from None
    limit = _int_param(request, "limit", inbox.PAGE_SIZE, 1, inbox.MAX_PAGE)
    cursor = request.query_params.get("cursor") or None
    return json(await inbox.list_dialogs(_ctx(request), who, f, cursor, limit))


async def dialog(request: Request) -> Response:
    who = await _operator(request)
    return json(await dialog_details.details(_ctx(request), who, request.path_params["dialog_id"]))


async def delete_dialog(request: Request) -> Response:
    who = await _operator(request)
    details = await dialog_actions.delete_dialog(_ctx(request), who, request.path_params["dialog_id"])
    return json({"deleted": True, "dialog": details})


async def search_dialog(request: Request) -> Response:
    who = await _operator(request)
    seqs = await inbox.search_in_dialog(
        _ctx(request), who, request.path_params["dialog_id"], request.query_params.get("q", "")
    )
    return json({"seqs": seqs})


async def add_link(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, LinkIn)
    ctx = _ctx(request)
    dialog_id = request.path_params["dialog_id"]
    outcome = await links.link(ctx, who, dialog_id, body.entity_type, body.entity_id)
    current = await links.current_links(ctx, dialog_id)
    return json({"links": current, "duplicate": outcome.duplicate}, 200 if outcome.duplicate else 201)


async def remove_link(request: Request) -> Response:
    who = await _operator(request)
    ctx = _ctx(request)
    await links.unlink(ctx, who, request.path_params["dialog_id"], request.path_params["link_id"])
    return Response(status_code=204)


async def upload_file(request: Request) -> Response:
    """An operator attaches a file: the request body is the file itself (see docs/api.md)."""
    who = await _operator(request)
    ctx = _ctx(request)
    dialog_id = request.path_params["dialog_id"]
    client_msg_id = client_msg_id_param(request)
    await dialogs.check_operator_access(ctx, who, dialog_id)
    staged = await uploads.receive(
        ctx, request.stream(), request.headers.get("content-type"), request.query_params.get("name", "")
    )
    try:
        outcome = await dialogs.operator_send(ctx, who, dialog_id, client_msg_id, staged.name, file=staged)
    except BaseException:
        await uploads.discard(ctx, staged)
        raise
    if outcome.duplicate:
        await uploads.discard(ctx, staged)
    return json(
        {"ref": client_msg_id, "dialog_id": dialog_id, "seq": outcome.seq, "duplicate": outcome.duplicate},
        200 if outcome.duplicate else 201,
    )


def client_msg_id_param(request: Request) -> str:
    raw = request.query_params.get("client_msg_id", "")
    try:
        return TypeAdapter(ClientMsgId).validate_python(raw)
    except ValidationError:
        raise InvalidInput("client_msg_id: 8 to 64 characters of A-Z a-z 0-9 _ -") from None


async def channels(request: Request) -> Response:
    await _operator(request)
    return json({"items": [{"id": key, "label": label} for key, label in CHANNELS.items()]})


routes = [
    Route("/api/channels", channels, methods=["GET"]),
    Route("/api/dialogs", list_dialogs, methods=["GET"]),
    Route("/api/dialogs/{dialog_id:int}", dialog, methods=["GET"]),
    Route("/api/dialogs/{dialog_id:int}", delete_dialog, methods=["DELETE"]),
    Route("/api/dialogs/{dialog_id:int}/search", search_dialog, methods=["GET"]),
    Route("/api/dialogs/{dialog_id:int}/links", add_link, methods=["POST"]),
    Route("/api/dialogs/{dialog_id:int}/links/{link_id:int}", remove_link, methods=["DELETE"]),
    Route("/api/dialogs/{dialog_id:int}/files", upload_file, methods=["POST"]),
]
