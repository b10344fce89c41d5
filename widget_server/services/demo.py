"""The demo line and operator that `make run` creates on first start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from widget_server.services import lines, operators
from widget_server.services.context import Context
from widget_server.storage.tables import OpenLine, Operator, table_of

_operators = table_of(Operator)

DEMO_LINE = "demo"
DEMO_SEED_LOCK = 0x6F6C2D64656D6F  # processes started together seed the demo once


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str | None  # None when the operator existed already (the password was printed then)


async def ensure_demo(ctx: Context) -> DemoAccount:
    async with ctx.db.exclusive(DEMO_SEED_LOCK):
        return await _ensure_demo(ctx)


async def _ensure_demo(ctx: Context) -> DemoAccount:
    settings = ctx.settings
    async with ctx.db.read() as s:
        line = await s.get(OpenLine, DEMO_LINE)
        operator = (
            await s.execute(select(Operator).where(_operators.c.email == settings.demo_operator_email))
        ).scalar_one_or_none()
    if line is None:
        await lines.create_line(
            ctx,
            name="Demo shop",
            allowed_origins=[settings.public_origin],
            greeting="Hello! Welcome to the Demo shop. How can we help you today?",
            language="en",
            line_id=DEMO_LINE,
        )
    elif settings.public_origin not in line.allowed_origins:
        # The demo was first started on another address (a different PORT): let the demo page in from here too.
        await lines.update_line(ctx, DEMO_LINE, {"allowed_origins": [*line.allowed_origins, settings.public_origin]})
    if operator is not None:
        return DemoAccount(operator.email, None)
    password = (
        settings.demo_operator_password.get_secret_value()
        if settings.demo_operator_password
        else secrets.token_urlsafe(9)
    )
    created = await operators.create_operator(
        ctx, settings.demo_operator_email, "Demo operator", password, role="admin", line_ids=[DEMO_LINE]
    )
    return DemoAccount(created.email, password)
