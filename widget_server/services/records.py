"""The records use cases hand to the web layer, named here so that `web/` never imports `storage/`.

A handler reads these rows' attributes (a line's name, a dialog's id); it never queries, opens a session or writes
one back: that is what the use cases in this package are for.
"""

from __future__ import annotations

from widget_server.storage import snapshots, tables, welcome_read

Dialog = tables.Dialog
OpenLine = tables.OpenLine
Attachment = tables.Attachment
OutboxEmail = tables.OutboxEmail
# A row only read: the model or its snapshot (storage/snapshots.py).
LineView = snapshots.LineView
DialogView = snapshots.DialogView
# What a hello's one read told (services/welcome.py), and a row of it.
Arrival = welcome_read.Arrival
Row = welcome_read.Row
