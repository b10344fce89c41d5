"""Where attached files' bytes live, behind a small interface; the local disk under DATA_DIR by default.

Files are written to a staging area first (while their size is counted and their type checked) and only then
handed to the store under a key the server made up: nothing a client sends ever becomes part of a path.
A store for object storage (S3 and the like) would implement the same four methods.
"""

from __future__ import annotations

import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

CHUNK = 64 * 1024


class FileStore(ABC):
    @abstractmethod
    def staging_path(self) -> Path:
        """A fresh path to write an incoming upload to."""

    @abstractmethod
    async def put(self, key: str, staged: Path) -> None:
        """Take the finished staged file under `key` (the staged file is gone afterwards)."""

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, if the store keeps it there (then it is served directly)."""

    @abstractmethod
    def read(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes; raises FileNotFoundError (at the first chunk) when the store has no such file."""

    @abstractmethod
    async def delete(self, key: str) -> None: ...


class LocalFileStore(FileStore):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.staging = self.root / ".staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("a file key must stay inside the store")
        return path

    def staging_path(self) -> Path:
        return self.staging / secrets.token_hex(16)

    async def put(self, key: str, staged: Path) -> None:
        target = self._path(key)
        await anyio.to_thread.run_sync(lambda: target.parent.mkdir(parents=True, exist_ok=True))
        # Same file system: a rename, atomic, so a reader never sees half a file.
        await anyio.to_thread.run_sync(os.replace, staged, target)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
