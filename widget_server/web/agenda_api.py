"""REST for the operator's agenda and orders: tasks, calendar events, reminders, orders. See docs/api.md."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.services import agenda, links, orders
from widget_server.web.rest import Body, _body, _ctx, _int_param, _operator, json

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Id = Annotated[int, Field(ge=1, le=2**31)]


class TaskIn(Body):
    title: Title
    due_at: AwareDatetime | None = None
    dialog_id: Id | None = None
    assignee_id: Id | None = None


class TaskPatch(Body):
    done: bool


class EventIn(Body):
    title: Title
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    dialog_id: Id | None = None


class ReminderIn(Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    remind_at: AwareDatetime
    dialog_id: Id | None = None


class OrderIn(Body):
    title: Title
    amount_minor: Annotated[int, Field(ge=0, le=10**15)] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None
    customer_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    status: Annotated[str, StringConstraints(pattern="^(new|paid|shipped|completed|cancelled)$")] = "new"


async def list_tasks(request: Request) -> Response:
    who = await _operator(request)
    include_done = request.query_params.get("done") == "all"
    return json({"items": await agenda.my_tasks(_ctx(request), who, include_done)})


async def create_task(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, TaskIn)
    task = await agenda.create_task(_ctx(request), who, body.title, body.due_at, body.dialog_id, body.assignee_id)
    return json(task, 201)


async def update_task(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, TaskPatch)
    return json(await agenda.set_task_done(_ctx(request), who, request.path_params["task_id"], body.done))


async def list_events(request: Request) -> Response:
    who = await _operator(request)
    return json({"items": await agenda.my_events(_ctx(request), who)})


async def create_event(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, EventIn)
    event = await agenda.create_event(_ctx(request), who, body.title, body.starts_at, body.ends_at, body.dialog_id)
    return json(event, 201)


async def list_reminders(request: Request) -> Response:
    who = await _operator(request)
    return json({"items": await agenda.my_reminders(_ctx(request), who)})


async def create_reminder(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, ReminderIn)
    reminder = await agenda.create_reminder(_ctx(request), who, body.text, body.remind_at, body.dialog_id)
    return json(reminder, 201)


async def dismiss_reminder(request: Request) -> Response:
    who = await _operator(request)
    return json(await agenda.dismiss_reminder(_ctx(request), who, request.path_params["reminder_id"]))


async def list_orders(request: Request) -> Response:
    await _operator(request)
    limit = _int_param(request, "limit", 20, 1, 100)
    found = await orders.find_orders(_ctx(request), request.query_params.get("q", "")[:100], limit)
    return json({"items": [orders.order_public(o) for o in found]})


async def create_order(request: Request) -> Response:
    who = await _operator(request)
    body = await _body(request, OrderIn)
    order = await orders.create_order(
        _ctx(request), who, body.title, body.amount_minor, body.currency, body.customer_name, body.status
    )
    return json(orders.order_public(order), 201)


async def get_order(request: Request) -> Response:
    who = await _operator(request)
    ctx = _ctx(request)
    order = await orders.get_order(ctx, request.path_params["order_id"])
    assert order.id is not None
    linked = await links.dialogs_linked_to(ctx, who, "order", order.id)
    return json(orders.order_public(order) | {"dialog_ids": linked})


routes = [
    Route("/api/tasks", list_tasks, methods=["GET"]),
    Route("/api/tasks", create_task, methods=["POST"]),
    Route("/api/tasks/{task_id:int}", update_task, methods=["PATCH"]),
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/events", create_event, methods=["POST"]),
    Route("/api/reminders", list_reminders, methods=["GET"]),
    Route("/api/reminders", create_reminder, methods=["POST"]),
    Route("/api/reminders/{reminder_id:int}/dismiss", dismiss_reminder, methods=["POST"]),
    Route("/api/orders", list_orders, methods=["GET"]),
    Route("/api/orders", create_order, methods=["POST"]),
    Route("/api/orders/{order_id:int}", get_order, methods=["GET"]),
]
