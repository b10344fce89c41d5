"""The inbox list: the dialogs of the operator's lines under a filter, newest activity first, page by page.

Everything is one SQL query on indexed columns (`ix_dialogs_*`); the search words go through the full-text index
(`storage/fulltext.py`), never a scan of the messages. Pages are cut by a keyset cursor (last activity, id), so a
page is as fast at the ten-thousandth dialog as at the first and a dialog moving up does not shift the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    and_,
    any_,
    bindparam,
    exists,
    false,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select, Subquery
from sqlalchemy.sql.elements import ColumnElement

from widget_server.domain.inbox_filter import ChatType, InboxFilter
from widget_server.domain.search_terms import fts5_match, pg_tsquery, search_terms
from widget_server.errors import InvalidInput
from widget_server.services.context import Context
from widget_server.services.dialogs import check_operator_access
from widget_server.services.operators import OperatorIdentity
from widget_server.services.summaries import D, order, page_of, read_summaries
from widget_server.storage import fulltext
from widget_server.storage.tables import DialogOperator, Message, table_of

PAGE_SIZE = 50
MAX_PAGE = 200
# Above this many matching messages (SQLite), the list walks the dialogs in order rather than look each one up.
DENSE_MATCHES = 2000


def encode_cursor(dialog: dict[str, Any]) -> str:
    stamp = datetime.strptime(dialog["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return f"{int(stamp.timestamp() * 1_000_000)}_{dialog['id']}"


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        micros, dialog_id = raw.split("_", 1)
        when = datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
        return when, int(dialog_id)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("cursor: use the next_cursor of the previous page") from None


_added_table = table_of(DialogOperator)
_messages = table_of(Message)
# More operators than this in one filter share one index walk (an IN) instead of one walk each.
MAX_OPERATOR_BRANCHES = 4


def _responsible(operator_ids: frozenset[int]) -> ColumnElement[bool]:
    return D.operator_id.in_(operator_ids)


def _added(operator_ids: frozenset[int]) -> ColumnElement[bool]:
    return D.id.in_(select(_added_table.c.dialog_id).where(_added_table.c.operator_id.in_(operator_ids)))


def _alternatives(who: OperatorIdentity, f: InboxFilter) -> list[list[ColumnElement[bool]]]:
    """The facets whose values are alternatives served by different indexes, spelt out as separate branches.

    "Operator X or Y" and "assigned to me" mean *responsible for it, or added to it*: one index walk for each
    side, each already in the list's order, instead of one condition with an OR that no index can serve.
    """
    branches: list[list[ColumnElement[bool]]] = [[]]

    def times(options: list[list[ColumnElement[bool]]]) -> None:
        nonlocal branches
        branches = [branch + option for branch in branches for option in options]

    if f.operator_ids:
        # Each operator's own walk of (operator_id, updated_at) is already in the list's order.
        ids = sorted(f.operator_ids)
        groups = [frozenset({i}) for i in ids] if len(ids) <= MAX_OPERATOR_BRANCHES else [frozenset(ids)]
        times([[_responsible(g)] for g in groups] + [[_added(f.operator_ids)]])
    if f.chat_types:
        options: list[list[ColumnElement[bool]]] = []
        for kind in sorted(f.chat_types):
            if kind is ChatType.UNASSIGNED:
                options.append([D.operator_id.is_(None)])
            elif kind is ChatType.MINE:
                options += [[_responsible(frozenset({who.id}))], [_added(frozenset({who.id}))]]
            else:
                options.append([D.waiting_since.is_not(None)])
        times(options)
    return branches


async def _search(
    conn: AsyncConnection, is_sqlite: bool, terms: tuple[str, ...], number: int | None
) -> ColumnElement[bool]:
    """The dialogs whose messages hold every word, or whose client's name does, or with that number."""
    # Typed, not `list[Any]`: mypy 2.4.1 crashes on `union(*found) if ... else found[0]` with Any elements, the
    # union's variadic type being expanded in the context of `... | Any`.
    found: list[Select[Any]] = []
    if number is not None:
        found.append(select(D.id).where(D.number == number))
    dense = False
    if terms and is_sqlite:
        match = fts5_match(terms)
        # The rowid is the message's place (storage/fulltext.py): shifting it gives the dialog, no row read.
        found.append(
            select(literal_column(f"messages_fts.rowid >> {fulltext.MESSAGE_KEY_BITS}").label("dialog_id"))
            .select_from(table("messages_fts"))
            .where(literal_column("messages_fts").op("MATCH")(match))
        )
        found.append(
            select(D.id).where(
                D.visitor_id.in_(
                    text("SELECT rowid FROM visitors_fts WHERE visitors_fts MATCH :vq").bindparams(vq=match)
                )
            )
        )
        # SQLite cannot guess how many rows a MATCH gives, so it is asked (the index counts fast). Few: look the
        # dialogs up one by one. Many: walk the dialogs in the list's order and keep those in the set.
        counted = await conn.execute(
            text("SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q LIMIT :cap)"),
            {"q": match, "cap": DENSE_MATCHES + 1},
        )
        dense = int(counted.scalar_one()) > DENSE_MATCHES
    elif terms:
        return await _search_postgres(conn, terms, number)
    ids = union(*found) if len(found) > 1 else found[0]
    # `+dialogs.id` keeps SQLite from driving the query by the id list (the walk in list order, for many matches).
    target = literal_column("+dialogs.id") if dense else D.id
    return target.in_(ids)


async def _search_postgres(conn: AsyncConnection, terms: tuple[str, ...], number: int | None) -> ColumnElement[bool]:
    """PostgreSQL guesses a prefix query's hits badly (hundreds for sixty), then picks a plan for the wrong size;
    so the index is asked first. Few messages match: their dialogs go in as an array of known length. Many: the
    page walks the dialogs in the list's order, checking each one's messages (a handful of index reads) until the
    page is full."""
    query = pg_tsquery(terms)
    matches = text(f"{fulltext.PG_MESSAGE_VECTOR} @@ to_tsquery('simple'::regconfig, :mq)").bindparams(mq=query)
    hits = list((await conn.execute(select(_messages.c.dialog_id).where(matches).limit(DENSE_MATCHES + 1))).scalars())
    names = list(
        (
            await conn.execute(
                text(
                    f"SELECT visitors.id FROM visitors WHERE {fulltext.PG_VISITOR_VECTOR} "
                    "@@ to_tsquery('simple'::regconfig, :vq) LIMIT 10000"
                ),
                {"vq": query},
            )
        ).scalars()
    )
    found: list[ColumnElement[bool]] = []
    if number is not None:
        found.append(D.number == number)
    if names:
        found.append(D.visitor_id == any_(bindparam("names", names, type_=ARRAY(Integer))))
    if len(hits) > DENSE_MATCHES:
        found.append(exists(select(1).select_from(_messages).where(_messages.c.dialog_id == D.id, matches)))
    elif hits:
        found.append(D.id == any_(bindparam("matched", sorted(set(hits)), type_=ARRAY(Integer))))
    return or_(*found) if found else false()


def _page(conditions: list[ColumnElement[bool]], branches: list[list[ColumnElement[bool]]], limit: int) -> Subquery:
    if len(branches) == 1:
        return page_of(conditions + branches[0], limit)
    parts = [
        select(D.id, D.updated_at).where(*conditions, *branch).order_by(*order()).limit(limit).subquery()
        for branch in branches
    ]
    merged = union(*(select(part.c.id, part.c.updated_at) for part in parts)).subquery("merged")
    return select(merged.c.id).order_by(merged.c.updated_at.desc(), merged.c.id.desc()).limit(limit).subquery("page")


async def list_dialogs(
    ctx: Context, who: OperatorIdentity, f: InboxFilter, cursor: str | None = None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    if not who.line_ids:
        return {"items": [], "next_cursor": None}
    conditions: list[ColumnElement[bool]] = [D.line_id.in_(who.line_ids)]
    if f.channels:
        conditions.append(D.channel.in_(f.channels))
    if f.statuses:
        conditions.append(D.status.in_([st.value for st in f.statuses]))
    if cursor:
        when, last_id = decode_cursor(cursor)
        conditions.append(or_(D.updated_at < when, and_(D.updated_at == when, D.id < last_id)))
    async with ctx.db.connect() as conn:
        if f.terms or f.number is not None:
            conditions.append(await _search(conn, ctx.db.is_sqlite, f.terms, f.number))
        rows = await read_summaries(conn, _page(conditions, _alternatives(who, f), limit + 1))
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1]) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}


async def search_in_dialog(ctx: Context, who: OperatorIdentity, dialog_id: int, raw: str) -> list[int]:
    """The seqs of this dialog's entries (notes included) that hold every word, oldest first, by the index."""
    await check_operator_access(ctx, who, dialog_id)
    terms = search_terms(raw)
    if not terms:
        raise InvalidInput("q: search for words of at least 2 letters or digits")
    async with ctx.db.read() as s:
        if ctx.db.is_sqlite:
            low = dialog_id << fulltext.MESSAGE_KEY_BITS
            rows = await s.execute(
                text(
                    f"SELECT rowid - {low} FROM messages_fts WHERE messages_fts MATCH :q "
                    "AND rowid BETWEEN :low AND :high ORDER BY rowid"
                ),
                {"q": fts5_match(terms), "low": low, "high": low + 2**fulltext.MESSAGE_KEY_BITS - 1},
            )
        else:
            rows = await s.execute(
                text(
                    f"SELECT seq FROM messages WHERE dialog_id = :d AND {fulltext.PG_MESSAGE_VECTOR} "
                    "@@ to_tsquery('simple'::regconfig, :q) ORDER BY seq"
                ),
                {"d": dialog_id, "q": pg_tsquery(terms)},
            )
        return [int(seq) for seq in rows.scalars()]
