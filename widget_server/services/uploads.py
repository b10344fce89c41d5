"""Receiving a file: counted, checked and stored before any database row mentions it.

The bytes go to the store's staging area while their size is counted (the upload stops at MAX_UPLOAD_BYTES) and
their SHA-256 computed; the first bytes decide the type (`domain/file_types.py`). Only an accepted file is moved
into the store under a random id. If the message that should carry it is then not written (a duplicate
`client_msg_id`, a finished dialog, a fault), `discard` removes the file again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio

from widget_server.domain.file_types import Accepted, check_upload, clean_filename
from widget_server.errors import InvalidInput
from widget_server.services.context import Context
from widget_server.storage.file_store import FileStore, LocalFileStore
from widget_server.storage.tables import Attachment, Dialog

HEAD_BYTES = 512


@dataclass(frozen=True)
class StagedFile:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


class TooLarge(InvalidInput):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than {limit} bytes", "too_large")


def file_store(ctx: Context) -> FileStore:
    if ctx.files is None:
        ctx.files = LocalFileStore(ctx.settings.upload_dir)
    return ctx.files


async def receive(ctx: Context, chunks: AsyncIterator[bytes], declared_type: str | None, raw_name: str) -> StagedFile:
    store = file_store(ctx)
    limit = ctx.settings.max_upload_bytes
    name = clean_filename(raw_name)
    staging = store.staging_path()
    digest = hashlib.sha256()
    head = b""
    size = 0
    try:
        async with await anyio.open_file(staging, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                await out.write(chunk)
        verdict = check_upload(declared_type, name, head, ctx.settings.allowed_upload_types)
        if not isinstance(verdict, Accepted):
            raise InvalidInput(verdict.message, verdict.code)
        file_id = secrets.token_urlsafe(16)
        key = f"{file_id[:2]}/{file_id}"
        await store.put(key, staging)
    except BaseException:
        await anyio.to_thread.run_sync(lambda: staging.unlink(missing_ok=True))
        raise
    return StagedFile(file_id, name, verdict.content_type, size, digest.hexdigest(), key)


async def attachment(ctx: Context, file_id: str) -> tuple[Attachment | None, Dialog | None]:
    """A stored file's row and its dialog's (for who may download it)."""
    async with ctx.db.read() as s:
        found = await s.get(Attachment, file_id)
        return found, await s.get(Dialog, found.dialog_id) if found else None


async def discard(ctx: Context, staged: StagedFile) -> None:
    await file_store(ctx).delete(staged.storage_key)
