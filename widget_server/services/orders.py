"""Orders: the CRM record a shop talks about most. A chat is linked to one from the details panel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from widget_server.domain.timestamps import iso
from widget_server.errors import NotFound
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.storage.tables import Order, table_of

_orders = table_of(Order)

ORDER_STATUSES = ("new", "paid", "shipped", "completed", "cancelled")


def order_public(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "title": order.title,
        "amount_minor": order.amount_minor,
        "currency": order.currency,
        "status": order.status,
        "customer_name": order.customer_name,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def order_title(order: Order) -> str:
    return f"Order #{order.id}: {order.title}"


async def create_order(
    ctx: Context,
    who: OperatorIdentity,
    title: str,
    amount_minor: int | None = None,
    currency: str | None = None,
    customer_name: str | None = None,
    status: str = "new",
) -> Order:
    now = ctx.clock.now()
    order = Order(
        title=title.strip(),
        amount_minor=amount_minor,
        currency=currency.upper() if currency else None,
        status=status,
        customer_name=customer_name.strip() if customer_name else None,
        created_by=who.id,
        created_at=now,
        updated_at=now,
    )
    async with ctx.db.write() as s:
        s.add(order)
    return order


async def get_order(ctx: Context, order_id: int) -> Order:
    async with ctx.db.read() as s:
        order = await s.get(Order, order_id)
    if order is None:
        raise NotFound("No such order", "unknown_order")
    return order


async def find_orders(ctx: Context, q: str = "", limit: int = 20) -> list[Order]:
    """Newest first; `q` is an order number ("12", "#12") or words of its title or customer."""
    query = select(Order)
    q = q.strip().lstrip("#")
    if q:
        # autoescape: a `%` or `_` typed by the operator is a character to find, not a LIKE wildcard.
        words = q.lower()
        conditions = [
            func.lower(_orders.c.title).contains(words, autoescape=True),
            func.lower(_orders.c.customer_name).contains(words, autoescape=True),
        ]
        if q.isdigit() and len(q) < 10:
            conditions.append(_orders.c.id == int(q))
        query = query.where(or_(*conditions))
    async with ctx.db.read() as s:
        return list((await s.execute(query.order_by(_orders.c.id.desc()).limit(limit))).scalars())
