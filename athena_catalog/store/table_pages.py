"""What the store knows about each table, read for its page: the crawl's marks (to tell what a
crawl changed), and the table's usage over the last ``table_usage`` window, down to columns.

Plain reads over the tables ``metadata`` and ``table_usage`` write; the Dagster layer
(:mod:`athena_catalog.defs.tables.observations`) turns them into observations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from athena_catalog.engines.aws.glue_mapping import estimates_from_parameters
from athena_catalog.engines.records import Column
from athena_catalog.store.lineage_reads import aware
from athena_catalog.store.schema import (
    catalog_columns,
    catalog_tables,
    column_usage_daily,
    table_joins,
    table_usage_daily,
    table_usage_summary,
)


@dataclass(frozen=True)
class TableName:
    """A live table's parts, as the translator makes its asset key from them."""

    fqn: str
    catalog: str
    database: str
    name: str


@dataclass(frozen=True)
class CrawlMark:
    """What the crawl last stored about a table that a later crawl can change."""

    updated_at: datetime | None  # Glue's UpdateTime
    size_bytes: int | None  # from the table parameters (Glue statistics), where present
    columns: tuple[tuple[str, str], ...]  # (name, type) in order


def live_tables(conn: Connection) -> dict[str, TableName]:
    t = catalog_tables.c
    rows = conn.execute(
        select(t.fqn, t.catalog, t.database, t.name).where(t.deleted.is_(False)).order_by(t.fqn)
    )
    return {r.fqn: TableName(r.fqn, r.catalog, r.database, r.name) for r in rows}


def live_columns(conn: Connection) -> dict[str, list[Column]]:
    """Each live table's columns in their stored order (data columns, then partition keys),
    in one query."""
    c = catalog_columns.c
    columns: dict[str, list[Column]] = defaultdict(list)
    for fqn, name, data_type, description, is_key in conn.execute(
        select(c.table_fqn, c.name, c.data_type, c.description, c.is_partition_key)
        .join(catalog_tables, catalog_tables.c.fqn == c.table_fqn)
        .where(catalog_tables.c.deleted.is_(False))
        .order_by(c.table_fqn, c.ordinal)
    ):
        columns[fqn].append(Column(name, data_type, description, bool(is_key)))
    return columns


def crawl_marks(conn: Connection) -> dict[str, CrawlMark]:
    """Every live table's mark, in two queries."""
    t = catalog_tables.c
    columns = live_columns(conn)
    return {
        fqn: CrawlMark(
            aware(updated_at),
            estimates_from_parameters(dict(parameters or {})).size_bytes,
            tuple((c.name, c.data_type) for c in columns.get(fqn, ())),
        )
        for fqn, updated_at, parameters in conn.execute(
            select(t.fqn, t.updated_at, t.parameters).where(t.deleted.is_(False))
        )
    }


@dataclass(frozen=True)
class UsageDay:
    day: date
    reads: int
    writes: int
    bytes_scanned: int
    cost_usd: float


@dataclass(frozen=True)
class ColumnUse:
    """How often a column was read over the window, by clause; ``queries`` counts each
    query once per day it touched the column."""

    column: str
    selected: int = 0
    filtered: int = 0
    joined: int = 0
    grouped: int = 0
    ordered: int = 0
    queries: int = 0


@dataclass(frozen=True)
class JoinUse:
    other: str  # the table joined with
    columns: str  # "this_column = other_column"
    queries: int


@dataclass
class UsagePage:
    """A table's usage over the last computed window (``table_usage_summary``)."""

    fqn: str
    window_days: int
    computed_at: datetime
    reads: int
    writes: int
    bytes_scanned: int
    cost_usd: float
    popularity_percentile: float
    last_read_at: datetime | None
    days: list[UsageDay] = field(default_factory=list)  # oldest first, days with use only
    joins: list[JoinUse] = field(default_factory=list)  # most queries first
    columns: list[ColumnUse] = field(default_factory=list)  # most queries first
    never_read: list[str] = field(default_factory=list)  # cataloged columns, in table order
    columns_known: bool = False  # column usage was recorded in the window at all

    @property
    def start_day(self) -> date:
        """The window's first day, as ``table_usage`` measured it."""
        return (self.computed_at - timedelta(days=self.window_days)).date()


def usage_pages(conn: Connection, top_joins: int = 5) -> dict[str, UsagePage]:
    """The pages of every live table read or written in the window; others have no news."""
    s = table_usage_summary.c
    live = live_tables(conn)
    pages = {
        r.table_fqn: UsagePage(
            fqn=r.table_fqn,
            window_days=r.window_days,
            computed_at=aware(r.computed_at) or r.computed_at,
            reads=r.read_count,
            writes=r.write_count,
            bytes_scanned=int(r.bytes_scanned or 0),
            cost_usd=float(r.cost_usd or 0.0),
            popularity_percentile=float(r.popularity_percentile),
            last_read_at=aware(r.last_read_at),
        )
        for r in conn.execute(
            select(table_usage_summary).where(or_(s.read_count > 0, s.write_count > 0))
        )
        if r.table_fqn in live
    }
    if not pages:
        return pages
    start = min(p.start_day for p in pages.values())  # one window: every row has the same
    _days(conn, pages, start)
    _joins(conn, pages, top_joins)
    _columns(conn, pages, start)
    return pages


def _days(conn: Connection, pages: dict[str, UsagePage], start: date) -> None:
    d = table_usage_daily.c
    for r in conn.execute(
        select(table_usage_daily).where(d.day >= start).order_by(d.table_fqn, d.day)
    ):
        if r.table_fqn in pages:
            pages[r.table_fqn].days.append(
                UsageDay(r.day, r.read_count, r.write_count, int(r.bytes_scanned), r.cost_usd)
            )


def _joins(conn: Connection, pages: dict[str, UsagePage], top: int) -> None:
    """``table_joins`` holds each pair once (left, right); each side sees it from its end."""
    j = table_joins.c
    found: dict[str, list[JoinUse]] = defaultdict(list)
    for left, right, columns, n in conn.execute(
        select(j.left_fqn, j.right_fqn, j.columns, j.query_count)
    ):
        if left in pages:
            found[left].append(JoinUse(right, columns, n))
        if right in pages and right != left:
            mirrored = " = ".join(reversed(columns.split(" = ", 1)))
            found[right].append(JoinUse(left, mirrored, n))
    for fqn, joins in found.items():
        joins.sort(key=lambda u: (-u.queries, u.other, u.columns))
        pages[fqn].joins = joins[:top]


def _columns(conn: Connection, pages: dict[str, UsagePage], start: date) -> None:
    u, c = column_usage_daily.c, catalog_columns.c
    rows = conn.execute(
        select(
            u.table_fqn,
            u.column_name,
            func.sum(u.select_count),
            func.sum(u.filter_count),
            func.sum(u.join_count),
            func.sum(u.group_by_count),
            func.sum(u.order_by_count),
            func.sum(u.queries),
        )
        .where(u.day >= start)
        .group_by(u.table_fqn, u.column_name)
    )
    recorded = False
    for fqn, column, *counts in rows:
        recorded = True
        if fqn in pages:
            pages[fqn].columns.append(ColumnUse(column, *(int(n or 0) for n in counts)))
    if not recorded:  # a store whose history was resolved before column usage existed
        return
    read: dict[str, set[str]] = defaultdict(set)
    for page in pages.values():
        page.columns_known = True
        page.columns.sort(key=lambda x: (-x.queries, x.column))
        read[page.fqn] = {x.column.lower() for x in page.columns if x.queries}
    for fqn, name in conn.execute(select(c.table_fqn, c.name).order_by(c.table_fqn, c.ordinal)):
        if fqn in pages and name.lower() not in read[fqn]:
            pages[fqn].never_read.append(name)
