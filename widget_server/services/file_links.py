"""How a file is described in a message, with a signed link that works for whoever was shown it."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from widget_server.domain import signed_links
from widget_server.domain.file_types import IMAGE_TYPES
from widget_server.services.context import Context
from widget_server.storage.snapshots import AttachmentView


def file_url(ctx: Context, attachment: AttachmentView) -> str:
    """An absolute link to the file, valid for FILE_LINK_TTL_HOURS (rounded up to the hour, so that links made
    within the same hour are the same and caches can keep the file)."""
    deadline = ctx.clock.now() + timedelta(hours=ctx.settings.file_link_ttl_hours)
    expires = math.ceil(deadline.timestamp() / 3600) * 3600
    signature = signed_links.sign(ctx.settings.secret, attachment.id, expires)
    path = f"/files/{attachment.id}/{quote(attachment.name, safe='')}"
    return f"{ctx.settings.public_url}{path}?exp={expires}&sig={signature}"


def file_info(ctx: Context, attachment: AttachmentView) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "is_image": attachment.content_type in IMAGE_TYPES,
        "url": file_url(ctx, attachment),
    }
