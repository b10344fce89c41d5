"""REST for managing the team: operators, canned replies, the audit log. See docs/api.md.

Reading colleagues and canned replies is open to operators (they filter by operator and insert replies); every
change is for admins, checked in the services.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.services import audit, canned, operators
from widget_server.web.rest import Body, _body, _ctx, _int_param, _operator, json

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Shortcut = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=33)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
LineId = Annotated[str, StringConstraints(max_length=64)]


class OperatorPatch(Body):
    name: Name | None = None
    role: Annotated[str, StringConstraints(pattern="^(admin|operator)$")] | None = None
    is_active: bool | None = None
    line_ids: list[LineId] | None = Field(None, max_length=200)  # as many as POST /api/operators takes
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None


class CannedIn(Body):
    shortcut: Shortcut
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Text


class CannedPatch(Body):
    shortcut: Shortcut | None = None
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    text: Text | None = None


async def list_operators(request: Request) -> Response:
    who = await _operator(request)
    return json({"items": await operators.list_operators(_ctx(request), who)})


async def update_operator(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, OperatorPatch)
    changes = body.model_dump(exclude_none=True)
    return json(await operators.update_operator(_ctx(request), who, request.path_params["operator_id"], changes))


async def list_canned(request: Request) -> Response:
    who = await _operator(request)
    return json({"items": await canned.list_for_line(_ctx(request), who, request.path_params["line_id"])})


async def create_canned(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, CannedIn)
    reply = await canned.create(
        _ctx(request), who, request.path_params["line_id"], body.shortcut, body.title, body.text
    )
    return json(reply, 201)


async def update_canned(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, CannedPatch)
    changes = body.model_dump(exclude_none=True)
    return json(await canned.update(_ctx(request), who, request.path_params["canned_id"], changes))


async def delete_canned(request: Request) -> Response:
    who = await _operator(request)
    await canned.remove(_ctx(request), who, request.path_params["canned_id"])
    return Response(status_code=204)


async def audit_log(request: Request) -> Response:
    who = await _operator(request)
    limit = _int_param(request, "limit", 100, 1, 500)
    return json({"items": await audit.entries(_ctx(request), who, limit)})


routes = [
    Route("/api/operators", list_operators, methods=["GET"]),
    Route("/api/operators/{operator_id:int}", update_operator, methods=["PATCH"]),
    Route("/api/lines/{line_id}/canned", list_canned, methods=["GET"]),
    Route("/api/lines/{line_id}/canned", create_canned, methods=["POST"]),
    Route("/api/canned/{canned_id:int}", update_canned, methods=["PATCH"]),
    Route("/api/canned/{canned_id:int}", delete_canned, methods=["DELETE"]),
    Route("/api/audit", audit_log, methods=["GET"]),
]
