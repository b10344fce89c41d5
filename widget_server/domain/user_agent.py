"""A browser's User-Agent in the few words an operator needs: "Chrome 131 on Windows"."""

from __future__ import annotations

import re

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", so the specific ones come first.
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Yandex Browser", re.compile(r"YaBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\w+ )?Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("Linux", re.compile(r"Linux")),
)


def describe_user_agent(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    browser = next((f"{name} {m.group(1)}" for name, rx in _BROWSERS if (m := rx.search(user_agent))), None)
    system = next((name for name, rx in _SYSTEMS if rx.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:80]
