"""The built-in CRM: leads, contacts (clients), companies and deals, each with a timeline, in Openline's database.

`interface.py` is what the rest of the server uses; `builtin.py` implements it on our tables. An adapter for an
external CRM would implement the same interface (and, since it cannot join our transactions, queue its calls as
jobs). Matching and merging rules are pure functions in `widget_server/domain/contact_merge.py`.
"""
