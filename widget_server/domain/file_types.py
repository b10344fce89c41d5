"""Which uploaded files are accepted, and as what type they are served.

The type a client declares is never trusted on its own: the first bytes must agree with it. A file is served
with the type found here, images inline (as previews) and everything else as a download, so that a file that
claims to be a picture but holds HTML or script can neither be uploaded as one nor run in anyone's browser.
SVG is not an image here for that reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

DEFAULT_ALLOWED = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)

# Containers: what the first bytes prove, and which declared types may live in them.
_ZIP_BASED = frozenset(
    {
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_TEXT = frozenset({"text/plain", "text/csv"})

_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True)
class Accepted:
    content_type: str
    is_image: bool


@dataclass(frozen=True)
class Refused:
    code: str
    message: str


def _magic(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    # The head may end inside a multi-byte character: ignore an incomplete tail, nothing else.
    text = head.decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) < len(head) - 3:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f" for ch in text)


def guess_declared(declared: str | None, filename: str) -> str:
    """The type the client meant: its header when it is specific, else the file name's extension."""
    kind = (declared or "").split(";", 1)[0].strip().lower()
    if kind and kind != "application/octet-stream":
        return kind
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _BY_EXTENSION.get(extension, "application/octet-stream")


def check_upload(declared: str | None, filename: str, head: bytes, allowed: frozenset[str]) -> Accepted | Refused:
    """Accept a file whose declared type is allowed and agrees with its first bytes (at least 16 of them)."""
    kind = guess_declared(declared, filename)
    if kind not in allowed:
        return Refused("type_not_allowed", f"Files of type {kind} are not accepted here")
    if not head:
        return Refused("empty", "The file is empty")
    found = _magic(head)
    if kind in _TEXT:
        ok = found is None and _looks_like_text(head)
    elif kind in _ZIP_BASED:
        ok = found == "application/zip"
    else:
        ok = found == kind
    if not ok:
        return Refused("type_mismatch", f"The file's content is not {kind}")
    return Accepted(kind, kind in IMAGE_TYPES)


def clean_filename(raw: str, max_chars: int = 200) -> str:
    """A name fit for a download: no path, no control characters, not empty."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    if len(name) > max_chars:
        stem, dot, extension = name.rpartition(".")
        keep = extension[:16] if dot else ""
        name = (stem if dot else name)[: max_chars - len(keep) - 1].rstrip() + (f".{keep}" if keep else "")
    return name or "file"
