"""The audit log: what was done that cannot be undone or changes who may do what, by whom, written in the same
transaction as the deed.

Actions: `dialog.delete`; `operator.create`, `operator.rename`, `operator.role`, `operator.disable`,
`operator.enable`, `operator.lines`, `operator.password` (never the password or its hash); `line.create`,
`line.update`; `canned.delete`. Changes made outside the console (the CLI, the demo seed) have no actor and are
not recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.permissions import Action, allowed
from widget_server.domain.timestamps import iso
from widget_server.errors import Forbidden
from widget_server.services.context import Context
from widget_server.storage.tables import AuditEntry, table_of

_audit_log = table_of(AuditEntry)

if TYPE_CHECKING:  # operators records its own changes here
    from widget_server.services.operators import OperatorIdentity


async def record(
    ctx: Context,
    s: AsyncSession,
    who: OperatorIdentity,
    action: str,
    entity_type: str,
    entity_id: str,
    details: dict[str, Any],
) -> None:
    s.add(
        AuditEntry(
            actor_id=who.id,
            actor_email=who.email,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            details=details,
            created_at=ctx.clock.now(),
        )
    )


async def entries(ctx: Context, who: OperatorIdentity, limit: int = 100) -> list[dict[str, Any]]:
    if not allowed(who.role, Action.READ_AUDIT):
        raise Forbidden("Admins only")
    async with ctx.db.read() as s:
        rows = (await s.execute(select(AuditEntry).order_by(_audit_log.c.id.desc()).limit(limit))).scalars()
        return [
            {
                "id": e.id,
                "actor": {"id": e.actor_id, "email": e.actor_email},
                "action": e.action,
                "entity": {"type": e.entity_type, "id": e.entity_id},
                "details": e.details,
                "created_at": iso(e.created_at),
            }
            for e in rows
        ]
