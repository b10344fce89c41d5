"""Following an e-mail's link back into the conversation (`hello.link`, see docs/protocol.md).

The link's token (domain/resume_link.py) names a dialog of the line. The browser that follows it becomes that
dialog's visitor: with its own token when it already was that visitor, otherwise with a new token of that
visitor (kept beside the first one, so the browser the visitor started in keeps working too).
"""

from __future__ import annotations

from dataclasses import dataclass

from widget_server.domain.resume_link import read_resume_token
from widget_server.errors import InvalidInput
from widget_server.services.context import Context
from widget_server.services.tokens import new_token, token_hash
from widget_server.services.visitors import Identified, visitor_for_token
from widget_server.storage.snapshots import LineView
from widget_server.storage.tables import Dialog, Visitor, VisitorToken


@dataclass(frozen=True)
class FollowedLink:
    dialog: Dialog
    who: Identified


def _invalid() -> InvalidInput:
    return InvalidInput("This link is invalid or has expired", "invalid_link")


async def follow_link(
    ctx: Context, line: LineView, link: str, current_token: str | None, language: str | None
) -> FollowedLink:
    now = ctx.clock.now()
    grant = read_resume_token(ctx.settings.secret, line.id, link, now)
    if grant is None:
        raise _invalid()
    async with ctx.db.write() as s:
        dialog = await s.get(Dialog, grant.dialog_id)
        if dialog is None or dialog.line_id != line.id:
            raise _invalid()
        visitor = await s.get(Visitor, dialog.visitor_id)
        assert visitor is not None and visitor.id is not None
        current = await visitor_for_token(s, current_token) if current_token else None
        if current is not None and current.id == visitor.id:
            token = current_token
        else:
            token = new_token()
            s.add(VisitorToken(token_hash=token_hash(token), visitor_id=visitor.id, created_at=now))
        visitor.last_seen_at = now
        if language:
            visitor.language = language
    assert token is not None
    return FollowedLink(dialog, Identified(visitor, token, is_new=False, token_was_invalid=False))
