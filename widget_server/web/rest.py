"""REST API under /api. See docs/api.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from widget_server.domain.origins import origin_allowed
from widget_server.domain.visibility import Audience
from widget_server.errors import Forbidden, InvalidInput, OpenlineError
from widget_server.mail.render import valid_time_zone
from widget_server.services import crm_views, dialogs, lines, operators, presence
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.web.session_cookie import SESSION_COOKIE, request_token, uses_cookie

MAX_BODY = 64 * 1024


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Body):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


Origin = Annotated[str, StringConstraints(max_length=300)]


def _time_zone(value: str) -> str:
    if not valid_time_zone(value):
        raise ValueError("not an IANA time zone such as Europe/Madrid")
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]


class LineIn(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    greeting: Annotated[str, StringConstraints(max_length=2000)] = ""
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"
    time_zone: TimeZone = "UTC"
    id: Annotated[str, StringConstraints(max_length=64)] | None = None


class LineSettingsIn(Body):
    rating_enabled: bool | None = None
    default_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class PresenceIn(Body):
    status: Literal["online", "away", "offline"] | None = None
    chat_limit: Annotated[int, Field(ge=1, le=100)] | None = None


class LinePatch(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    allowed_origins: list[Origin] | None = Field(None, max_length=50)
    greeting: Annotated[str, StringConstraints(max_length=2000)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = None
    settings: LineSettingsIn | None = None
    time_zone: TimeZone | None = None


class OperatorIn(Body):
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    role: str = "operator"
    line_ids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list, max_length=200)


BodyT = TypeVar("BodyT", bound=Body)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx  # set by web_app (web/app.py)
    return ctx


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def _body(request: Request, model: type[BodyT]) -> BodyT:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidInput(f"body: at most {MAX_BODY} bytes", "too_large")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}") from None


def _check_csrf(request: Request) -> None:
    # Cookies ride along on cross-site requests; a state change authorised by the cookie must come from our
    # own pages. Bearer tokens are never sent by a browser on its own, so they need no such check.
    if request.method in ("GET", "HEAD") or not uses_cookie(request):
        return
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, [_ctx(request).settings.public_origin]):
        raise Forbidden("Cross-site request refused", "bad_origin")


async def _operator(request: Request) -> OperatorIdentity:
    _check_csrf(request)
    return await operators.authenticate(_ctx(request), request_token(request))


async def _admin(request: Request) -> OperatorIdentity:
    who = await _operator(request)
    if not who.is_admin:
        raise Forbidden("Admins only")
    return who


async def login(request: Request) -> Response:
    _check_csrf(request)
    body = await _body(request, LoginIn)
    token, who = await operators.log_in(_ctx(request), body.email, body.password)
    response = json({"token": token, "operator": who.public()})
    settings = _ctx(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    _check_csrf(request)
    token = request_token(request)
    if token:
        await operators.log_out(_ctx(request), token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: Request) -> Response:
    who = await _operator(request)
    return json(
        {
            "operator": who.public(),
            "line_ids": sorted(who.line_ids),
            "presence": await presence.presence_of(_ctx(request), who.id),
        }
    )


async def update_presence(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, PresenceIn)
    return json(await presence.set_presence(_ctx(request), who.id, body.status, body.chat_limit))


def _cursor(request: Request) -> int | None:
    if request.query_params.get("before") is None:
        return None
    return _int_param(request, "before", 0, 1, 2**62)


async def list_leads(request: Request) -> Response:
    who = await _operator(request)
    limit = _int_param(request, "limit", 50, 1, 200)
    items, nxt = await crm_views.leads(_ctx(request), who, limit, _cursor(request), request.query_params.get("q"))
    return json({"items": items, "next": nxt})


async def lead_card(request: Request) -> Response:
    who = await _operator(request)
    card = await crm_views.lead_card(_ctx(request), who, request.path_params["lead_id"])
    return json(card)


async def list_contacts(request: Request) -> Response:
    await _operator(request)
    limit = _int_param(request, "limit", 50, 1, 200)
    items, nxt = await crm_views.contacts(_ctx(request), limit, _cursor(request), request.query_params.get("q"))
    return json({"items": items, "next": nxt})


async def contact_card(request: Request) -> Response:
    who = await _operator(request)
    card = await crm_views.contact_card(_ctx(request), who, request.path_params["contact_id"])
    return json(card)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be an integer") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name}: between {low} and {high}")
    return value


async def dialog_messages(request: Request) -> Response:
    who = await _operator(request)
    dialog_id = request.path_params["dialog_id"]
    await dialogs.check_operator_access(_ctx(request), who, dialog_id)
    after = _int_param(request, "after_seq", 0, 0, 2**31)
    items = await dialogs.load_messages(_ctx(request), dialog_id, after, audience=Audience.STAFF)
    return json({"items": items})


async def list_lines(request: Request) -> Response:
    who = await _operator(request)
    found = await lines.list_lines(_ctx(request), None if who.is_admin else who.line_ids)
    return json({"items": [lines.line_public(line) for line in found]})


async def create_line(request: Request) -> Response:
    who = await _admin(request)
    body = await _body(request, LineIn)
    line = await lines.create_line(
        _ctx(request),
        body.name,
        body.allowed_origins,
        body.greeting,
        body.language,
        body.id,
        time_zone=body.time_zone,
        actor=who,
    )
    assert who.id is not None
    await lines.add_operator_to_line(_ctx(request), who.id, line.id)
    return json(lines.line_public(line), 201)


async def update_line(request: Request) -> Response:
    who = await _admin(request)
    body = await _body(request, LinePatch)
    changes = body.model_dump(exclude_none=True)
    line = await lines.update_line(_ctx(request), request.path_params["line_id"], changes, actor=who)
    return json(lines.line_public(line))


async def create_operator(request: Request) -> Response:
    who = await _admin(request)
    body = await _body(request, OperatorIn)
    operator = await operators.create_operator(
        _ctx(request), body.email, body.name, body.password, body.role, body.line_ids, actor=who
    )
    return json({"id": operator.id, "email": operator.email, "name": operator.name, "role": operator.role}, 201)


async def openline_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenlineError)
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)


routes = [
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
    Route("/api/me", me, methods=["GET"]),
    Route("/api/me/presence", update_presence, methods=["PATCH"]),
    Route("/api/leads", list_leads, methods=["GET"]),
    Route("/api/leads/{lead_id:int}", lead_card, methods=["GET"]),
    Route("/api/contacts", list_contacts, methods=["GET"]),
    Route("/api/contacts/{contact_id:int}", contact_card, methods=["GET"]),
    Route("/api/dialogs/{dialog_id:int}/messages", dialog_messages, methods=["GET"]),
    Route("/api/lines", list_lines, methods=["GET"]),
    Route("/api/lines", create_line, methods=["POST"]),
    Route("/api/lines/{line_id}", update_line, methods=["PATCH"]),
    Route("/api/operators", create_operator, methods=["POST"]),
]
