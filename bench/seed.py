"""The accounts a benchmark run needs, written straight into Openline's database before the server starts.

Logging in a thousand operators through the API would spend minutes in Argon2; the benchmark measures the chat,
not the password hash, so it writes the rows (lines, operators, their lines, sessions) itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.accounts import GREETING, VISITOR_ORIGIN, operator_token
from widget_server.services.tokens import token_hash
from widget_server.storage.database import Database
from widget_server.storage.tables import OpenLine, Operator, OperatorLine, OperatorSession


async def seed_openline(db_url: str, line_ids: list[str]) -> None:
    now = datetime.now(UTC)
    db = Database(db_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                insert(OpenLine),
                [
                    {
                        "id": line_id,
                        "name": f"Bench {line_id}",
                        "greeting": GREETING,
                        "language": "en",
                        "allowed_origins": [VISITOR_ORIGIN],
                        "secret": "bench",
                        "settings": {},
                        "created_at": now,
                    }
                    for line_id in line_ids
                ],
            )
            result = await conn.execute(
                insert(Operator).returning(Operator.id, Operator.email),  # type: ignore[arg-type]
                [
                    {
                        "email": f"op-{line_id}@bench.local",
                        "name": f"Operator {line_id}",
                        # Nobody logs in with a password here: sessions are written below.
                        "password_hash": "!",
                        "role": "operator",
                        "is_active": True,
                        "created_at": now,
                    }
                    for line_id in line_ids
                ],
            )
            ids = {email: op_id for op_id, email in result.all()}
            by_line = {line_id: ids[f"op-{line_id}@bench.local"] for line_id in line_ids}
            await conn.execute(
                insert(OperatorLine), [{"operator_id": op, "line_id": line} for line, op in by_line.items()]
            )
            await conn.execute(
                insert(OperatorSession),
                [
                    {
                        "token_hash": token_hash(operator_token(line)),
                        "operator_id": op,
                        "created_at": now,
                        "expires_at": now + timedelta(days=1),
                    }
                    for line, op in by_line.items()
                ],
            )
    finally:
        await db.dispose()
