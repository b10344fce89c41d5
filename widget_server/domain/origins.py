"""Which page origins may open a line's widget.

Origins are compared whole (scheme, host, port) after normalising case and default ports, never by prefix or
suffix: `https://site.example.evil.com` must not pass for `https://site.example`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str | None:
    """`https://Site.Example:443/` -> `https://site.example`; None for anything that is not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if parts.username or parts.password:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    if not origin:
        return False
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    return any(normalize_origin(entry) == normalized for entry in allowed)
