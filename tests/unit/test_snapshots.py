from typing import Any

import pytest

from widget_server.storage import snapshots
from widget_server.storage.tables import Attachment, Dialog, DialogForm, Message, OpenLine, Visitor, table_of


@pytest.mark.parametrize(
    ("model", "snapshot"),
    [
        (OpenLine, snapshots.LineSnapshot),
        (Dialog, snapshots.DialogSnapshot),
        (Message, snapshots.MessageSnapshot),
        (Visitor, snapshots.VisitorSnapshot),
        (DialogForm, snapshots.FormSnapshot),
        (Attachment, snapshots.AttachmentSnapshot),
    ],
)
def test_a_snapshot_has_exactly_its_tables_columns(model: type, snapshot: Any) -> None:
    assert list(snapshot._fields) == [c.name for c in table_of(model).columns]


def test_a_snapshot_of_a_row_leaves_out_the_querys_extra_labels() -> None:
    row = {c.name: None for c in table_of(Dialog).columns} | {"id": 7, "visitor_has_email": True}
    dialog = snapshots.DialogSnapshot.of(row)
    assert dialog.id == 7
    assert not hasattr(dialog, "visitor_has_email")
