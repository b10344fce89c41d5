"""How many widget pages each visitor has open on each line, in this process.

"The visitor closed the page" means their last page with the line's widget went away. A visitor whose other tab
is served by another process looks gone here; the unread e-mail then leaves after the page-closed grace instead
of the minute (docs/email.md).
"""

from __future__ import annotations

from collections import Counter


class VisitorPages:
    def __init__(self) -> None:
        self._open: Counter[tuple[int, str]] = Counter()

    def opened(self, visitor_id: int, line_id: str) -> None:
        self._open[(visitor_id, line_id)] += 1

    def closed(self, visitor_id: int, line_id: str) -> bool:
        """Count a page as closed; True when it was the visitor's last one on the line."""
        key = (visitor_id, line_id)
        self._open[key] -= 1
        if self._open[key] > 0:
            return False
        del self._open[key]
        return True
