"""Exactly-once, in-order delivery of a dialog's messages to one connection.

Messages are committed with gap-free `seq` numbers, but their live notifications can arrive out of order or
twice (two processes, a resume racing a live event). Each connection remembers the last `seq` it delivered per
dialog and decides, for every incoming notification, whether to send it, drop it, or first read the missing
range from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    SEND = "send"
    DROP = "drop"
    FILL_GAP = "fill_gap"


@dataclass
class DeliveryTracker:
    delivered: dict[int, int] = field(default_factory=dict)

    def start(self, dialog_id: int, last_seq: int) -> None:
        """The client has everything up to `last_seq` (it said so, or we just sent it)."""
        self.delivered[dialog_id] = max(last_seq, self.delivered.get(dialog_id, 0))

    def knows(self, dialog_id: int) -> bool:
        return dialog_id in self.delivered

    def last(self, dialog_id: int) -> int:
        return self.delivered.get(dialog_id, 0)

    def judge(self, dialog_id: int, seq: int) -> Verdict:
        last = self.delivered.get(dialog_id)
        if last is None:
            return Verdict.SEND
        if seq <= last:
            return Verdict.DROP
        if seq == last + 1:
            return Verdict.SEND
        return Verdict.FILL_GAP

    def mark(self, dialog_id: int, seq: int) -> None:
        self.delivered[dialog_id] = max(seq, self.delivered.get(dialog_id, 0))

    def forget(self, dialog_id: int) -> None:
        self.delivered.pop(dialog_id, None)
