"""Operators: accounts, passwords, sessions and the lines they work on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.permissions import Action, allowed
from widget_server.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from widget_server.realtime.events import ACCOUNT_CHANGED, operator_topic
from widget_server.services import audit
from widget_server.services.context import Context
from widget_server.services.tokens import new_token, token_hash
from widget_server.storage.tables import Operator, OperatorLine, OperatorSession, table_of

_operator_lines = table_of(OperatorLine)
_operator_sessions = table_of(OperatorSession)
_operators = table_of(Operator)

_hasher = PasswordHasher()
# Verifying against a fixed hash when the e-mail is unknown keeps the answer time the same either way, so the
# login form does not reveal which e-mails have accounts.
_DUMMY_HASH = _hasher.hash("openline-not-a-password")

ROLES = ("admin", "operator")


@dataclass(frozen=True)
class OperatorIdentity:
    id: int
    email: str
    name: str
    role: str
    line_ids: frozenset[str]

    def public(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role}

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def create_operator(
    ctx: Context,
    email: str,
    name: str,
    password: str,
    role: str = "operator",
    line_ids: list[str] | None = None,
    actor: OperatorIdentity | None = None,
) -> Operator:
    if role not in ROLES:
        raise InvalidInput(f"role: one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise InvalidInput("password: at least 8 characters")
    operator = Operator(
        email=email.strip().lower(),
        name=name.strip(),
        password_hash=_hasher.hash(password),
        role=role,
        created_at=ctx.clock.now(),
    )
    try:
        async with ctx.db.write() as s:
            s.add(operator)
            await s.flush()
            assert operator.id is not None
            for line_id in line_ids or []:
                s.add(OperatorLine(operator_id=operator.id, line_id=line_id))
            if actor is not None:
                details = {
                    "email": operator.email,
                    "name": operator.name,
                    "role": role,
                    "line_ids": sorted(set(line_ids or [])),
                }
                await audit.record(ctx, s, actor, "operator.create", "operator", str(operator.id), details)
    except IntegrityError:
        raise Conflict("email: an operator with this e-mail exists, or a line does not", "exists") from None
    return operator


async def identity(ctx: Context, operator_id: int) -> OperatorIdentity | None:
    async with ctx.db.read() as s:
        operator = await s.get(Operator, operator_id)
        if operator is None or not operator.is_active:
            return None
        lines = (
            await s.execute(select(_operator_lines.c.line_id).where(_operator_lines.c.operator_id == operator_id))
        ).scalars()
        return OperatorIdentity(operator_id, operator.email, operator.name, operator.role, frozenset(lines))


async def log_in(ctx: Context, email: str, password: str) -> tuple[str, OperatorIdentity]:
    async with ctx.db.read() as s:
        operator = (
            await s.execute(select(Operator).where(_operators.c.email == email.strip().lower()))
        ).scalar_one_or_none()
    try:
        _hasher.verify(operator.password_hash if operator else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        operator = None
    if operator is None or not operator.is_active or operator.id is None:
        raise Unauthenticated("Wrong e-mail or password", "bad_credentials")
    token = new_token()
    now = ctx.clock.now()
    async with ctx.db.write() as s:
        s.add(
            OperatorSession(
                token_hash=token_hash(token),
                operator_id=operator.id,
                created_at=now,
                expires_at=now + timedelta(hours=ctx.settings.session_ttl_hours),
            )
        )
    who = await identity(ctx, operator.id)
    assert who is not None
    return token, who


async def authenticate(ctx: Context, token: str | None) -> OperatorIdentity:
    if not token:
        raise Unauthenticated("Log in first")
    async with ctx.db.read() as s:
        session = await s.get(OperatorSession, token_hash(token))
    if session is None or session.expires_at <= ctx.clock.now():
        raise Unauthenticated("The session is unknown or expired; log in again")
    who = await identity(ctx, session.operator_id)
    if who is None:
        raise Unauthenticated("The account is disabled")
    return who


async def log_out(ctx: Context, token: str) -> None:
    async with ctx.db.write() as s:
        session = await s.get(OperatorSession, token_hash(token))
        if session is None:
            return
        await s.delete(session)
    # The consoles opened with this session close; the operator's other sessions find themselves unchanged.
    ctx.events.publish(operator_topic(session.operator_id), ACCOUNT_CHANGED)


def operator_public(operator: Operator, line_ids: list[str], full: bool) -> dict[str, object]:
    """`full` (for admins): e-mail, role, state and lines too; colleagues see a name to pick."""
    data: dict[str, object] = {"id": operator.id, "name": operator.name}
    if full:
        data |= {"email": operator.email, "role": operator.role, "is_active": operator.is_active, "line_ids": line_ids}
    return data


async def list_operators(ctx: Context, who: OperatorIdentity) -> list[dict[str, object]]:
    """Admins: everyone. Operators: the active colleagues of their lines (for the filters and for handing over)."""
    async with ctx.db.read() as s:
        memberships: dict[int, list[str]] = {}
        for operator_id, line_id in (
            await s.execute(select(_operator_lines.c.operator_id, _operator_lines.c.line_id))
        ).all():
            memberships.setdefault(operator_id, []).append(line_id)
        operators = list((await s.execute(select(Operator).order_by(_operators.c.name))).scalars())
    if who.is_admin:
        return [operator_public(o, sorted(memberships.get(o.id or 0, [])), True) for o in operators]
    return [
        operator_public(o, [], False)
        for o in operators
        if o.is_active and who.line_ids & set(memberships.get(o.id or 0, []))
    ]


async def update_operator(
    ctx: Context, who: OperatorIdentity, operator_id: int, changes: dict[str, object]
) -> dict[str, object]:
    """Admins change a colleague's name, role, state, lines or password; an admin cannot lock themselves out."""
    if not allowed(who.role, Action.MANAGE_OPERATORS):
        raise Forbidden("Admins only")
    if operator_id == who.id and (changes.get("role", "admin") != "admin" or changes.get("is_active") is False):
        raise Conflict("You cannot take away your own admin rights or disable yourself", "self_lockout")
    role = changes.get("role")
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role: one of {', '.join(ROLES)}")
    password = changes.get("password")
    if isinstance(password, str) and len(password) < 8:
        raise InvalidInput("password: at least 8 characters")
    try:
        async with ctx.db.write() as s:
            operator = await s.get(Operator, operator_id)
            if operator is None:
                raise NotFound("No such operator", "unknown_operator")
            query = select(_operator_lines.c.line_id).where(_operator_lines.c.operator_id == operator_id)
            lines_before = set((await s.execute(query)).scalars())
            changed = await _audit_changes(ctx, s, who, operator, lines_before, changes)
            for name in ("name", "role", "is_active"):
                if name in changes:
                    setattr(operator, name, changes[name])
            if isinstance(password, str):
                operator.password_hash = _hasher.hash(password)
                # A new password ends every session: whoever had the old one is out.
                await s.execute(delete(OperatorSession).where(_operator_sessions.c.operator_id == operator_id))
            if changes.get("is_active") is False:
                await s.execute(delete(OperatorSession).where(_operator_sessions.c.operator_id == operator_id))
            if "line_ids" in changes:
                await s.execute(delete(OperatorLine).where(_operator_lines.c.operator_id == operator_id))
                line_ids = changes["line_ids"]
                assert isinstance(line_ids, list)  # OperatorPatch.line_ids (web/admin_api.py)
                for line_id in set(line_ids):
                    s.add(OperatorLine(operator_id=operator_id, line_id=line_id))
            await s.flush()
            lines = sorted((await s.execute(query)).scalars())
    except IntegrityError:
        raise Conflict("line_ids: a line does not exist", "unknown_line") from None
    if changed:
        # Open consoles loaded the operator at connect; they must not keep what was just taken away.
        ctx.events.publish(operator_topic(operator_id), ACCOUNT_CHANGED)
    return operator_public(operator, lines, True)


async def _audit_changes(
    ctx: Context,
    s: AsyncSession,
    who: OperatorIdentity,
    operator: Operator,
    lines_before: set[str],
    changes: dict[str, object],
) -> bool:
    """One entry per kind of change that really changes something (a resent form writes nothing); True if any."""
    entity = str(operator.id)
    changed = False
    name = changes.get("name")
    if name is not None and name != operator.name:
        changed = True
        await audit.record(ctx, s, who, "operator.rename", "operator", entity, {"from": operator.name, "to": name})
    role = changes.get("role")
    if role is not None and role != operator.role:
        changed = True
        await audit.record(ctx, s, who, "operator.role", "operator", entity, {"from": operator.role, "to": role})
    active = changes.get("is_active")
    if active is not None and active != operator.is_active:
        action = "operator.enable" if active else "operator.disable"
        changed = True
        await audit.record(ctx, s, who, action, "operator", entity, {"email": operator.email})
    if "line_ids" in changes:
        line_ids = changes["line_ids"]
        assert isinstance(line_ids, list)  # OperatorPatch.line_ids (web/admin_api.py)
        after = set(line_ids)
        if after != lines_before:
            details = {"added": sorted(after - lines_before), "removed": sorted(lines_before - after)}
            changed = True
            await audit.record(ctx, s, who, "operator.lines", "operator", entity, details)
    if "password" in changes:
        changed = True
        await audit.record(ctx, s, who, "operator.password", "operator", entity, {"email": operator.email})
    return changed
