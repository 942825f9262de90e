"""Usage from the stored history: per-table and per-work-group aggregates, all computed in SQL
over the store so memory stays bounded.

Which tables each query read and wrote, and its join keys (``query_tables``, ``query_joins``),
come from :func:`athena_catalog.lineage.resolve.resolve_history`, the parse pipeline usage
shares with lineage (one parse per distinct statement, one cache). ``aggregate`` then rebuilds
``table_usage_daily`` and ``work_group_cost_daily`` for the days of the window, and the
summary, joins and top queries over the whole window.

Column usage (``athena_catalog.usage.columns``): ``column_usage_daily`` is rebuilt for the
window's days from ``query_columns``.

Joins are the parser's join keys (columns equated in join conditions), one ``query_joins``
row per query and column pair; ``table_joins`` counts the queries per table pair and column
pair, so a pair of tables joined on several columns has a row for each.

Bytes rule: Athena reports one total per query, so a query's scanned (and billed) bytes are
split equally across the distinct tables it reads (``query_tables.bytes_share``); tables it
only writes get none. Cost is the billed bytes (``ingest.billed_bytes``) times the price per
TB (10**12 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    delete,
    distinct,
    func,
    insert,
    literal,
    select,
)

from athena_catalog.markers import SOURCE_SELF
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.history import (
    query_history,
    query_joins,
    query_tables,
    table_joins,
    table_top_queries,
    table_usage_daily,
    table_usage_summary,
    work_group_cost_daily,
)
from athena_catalog.store.schema import catalog_tables
from athena_catalog.usage.columns import aggregate_columns

TB = 10**12
SIZE_PARAMETERS = ("totalSize", "rawDataSize")  # Hive / Glue statistics, where present


@dataclass(frozen=True)
class UsageOptions:
    window_days: int = 30
    unused_days: int = 30
    price_per_tb_usd: float = 5.0
    top_queries_per_table: int = 5
    now: datetime | None = None

    def as_of(self) -> datetime:
        """The clock every window is measured from (tests and demos pin it)."""
        return self.now or datetime.now(UTC)

    def start_day(self) -> date:
        return (self.as_of() - timedelta(days=self.window_days)).date()


@dataclass
class UsageSummary:
    """What the asset shows: counts, and the top tables and work groups by cost."""

    tables: int = 0
    unused: int = 0
    queries: int = 0
    cost_usd: float = 0.0
    self_cost_usd: float = 0.0  # the project's own queries, left out of usage
    top_tables: list[dict[str, Any]] = field(default_factory=list)
    top_cost: list[dict[str, Any]] = field(default_factory=list)
    work_groups: list[dict[str, Any]] = field(default_factory=list)
    joins: list[dict[str, Any]] = field(default_factory=list)


def aggregate(store: CatalogStore, options: UsageOptions, top: int = 10) -> UsageSummary:
    """Rebuild the usage tables for the window, in one write transaction."""
    options = replace(options, now=options.as_of())  # one clock reading for every window
    start = options.start_day()
    price = options.price_per_tb_usd / TB
    h, t = query_history.c, query_tables.c
    in_window = and_(h.day >= start, h.source != SOURCE_SELF)
    with store.write() as conn:
        conn.execute(delete(table_usage_daily).where(table_usage_daily.c.day >= start))
        is_read = t.role == "read"
        daily = (
            select(
                t.table_fqn,
                h.day,
                func.sum(case((is_read, 1), else_=0)),
                func.sum(case((is_read, 0), else_=1)),
                func.count(distinct(h.work_group)),
                func.sum(t.bytes_share),
                func.sum(t.billed_share) * literal(price),
                func.max(case((is_read, h.submitted_at), else_=None)),
            )
            .select_from(query_tables.join(query_history, h.query_id == t.query_id))
            .where(in_window)
            .group_by(t.table_fqn, h.day)
        )
        conn.execute(
            insert(table_usage_daily).from_select(
                [
                    "table_fqn",
                    "day",
                    "read_count",
                    "write_count",
                    "work_groups",
                    "bytes_scanned",
                    "cost_usd",
                    "last_read_at",
                ],
                daily,
            )
        )
        conn.execute(delete(work_group_cost_daily).where(work_group_cost_daily.c.day >= start))
        conn.execute(
            insert(work_group_cost_daily).from_select(
                [
                    "work_group",
                    "day",
                    "queries",
                    "failed",
                    "bytes_scanned",
                    "billed_bytes",
                    "cost_usd",
                ],
                select(
                    h.work_group,
                    h.day,
                    func.count(),
                    func.sum(case((h.state == "FAILED", 1), else_=0)),
                    func.coalesce(func.sum(h.data_scanned_bytes), 0),
                    func.sum(h.billed_bytes),
                    func.sum(h.billed_bytes) * literal(price),
                )
                .where(in_window)
                .group_by(h.work_group, h.day),
            )
        )
        summary = _summary(conn, options, start, price)
        aggregate_columns(conn, start)
        _rebuild_joins(conn, start)
        _rebuild_top_queries(conn, start, options.top_queries_per_table)
    return _report(store, summary, start, price, top)


def _summary(conn: Any, options: UsageOptions, start: date, price: float) -> list[dict]:
    """One row per table read, written or cataloged: window totals, rank, unused flag."""
    d = table_usage_daily.c
    window = {
        row.table_fqn: row
        for row in conn.execute(
            select(
                d.table_fqn,
                func.sum(d.read_count).label("reads"),
                func.sum(d.write_count).label("writes"),
                func.sum(d.bytes_scanned).label("bytes"),
                func.sum(d.cost_usd).label("cost"),
            )
            .where(d.day >= start)
            .group_by(d.table_fqn)
        )
    }
    t, h = query_tables.c, query_history.c
    last_read = dict(
        conn.execute(
            select(t.table_fqn, func.max(h.submitted_at))
            .select_from(query_tables.join(query_history, h.query_id == t.query_id))
            .where(t.role == "read")
            .group_by(t.table_fqn)
        ).all()
    )
    cataloged = {
        fqn: _size(parameters)
        for fqn, parameters in conn.execute(
            select(catalog_tables.c.fqn, catalog_tables.c.parameters).where(
                catalog_tables.c.deleted.is_(False)
            )
        )
    }
    names = sorted(set(window) | set(cataloged))
    reads = {name: int(window[name].reads) if name in window else 0 for name in names}
    ranks = _percent_ranks(reads)
    # Unused: cataloged, not read in the window nor within unused_days, both measured from
    # the same clock, so a table with reads in the window is never unused.
    unused_since = options.as_of() - timedelta(days=options.unused_days)
    now = options.as_of()  # computed_at: the time the window ends
    rows = []
    for name in names:
        w = window.get(name)
        last = _aware(last_read.get(name))
        rows.append(
            {
                "table_fqn": name,
                "window_days": options.window_days,
                "read_count": reads[name],
                "write_count": int(w.writes) if w else 0,
                "bytes_scanned": int(w.bytes or 0) if w else 0,
                "cost_usd": float(w.cost or 0.0) if w else 0.0,
                "popularity_percentile": ranks[name],
                "last_read_at": last,
                "unused": name in cataloged
                and not reads[name]
                and (last is None or last < unused_since),
                "size_bytes": cataloged.get(name),
                "computed_at": now,
            }
        )
    conn.execute(delete(table_usage_summary))
    if rows:
        conn.execute(insert(table_usage_summary), rows)
    return rows


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _size(parameters: dict[str, str] | None) -> int | None:
    for key in SIZE_PARAMETERS:
        value = (parameters or {}).get(key)
        if value is not None and str(value).isdigit():
            return int(value)
    return None


def _percent_ranks(reads: dict[str, int]) -> dict[str, float]:
    """SQL's PERCENT_RANK over read counts, as 0..100: the share of tables read less often."""
    ordered = sorted(reads.values())
    n = len(ordered)
    if n <= 1:
        return dict.fromkeys(reads, 100.0)
    below: dict[int, int] = {}
    for i, value in enumerate(ordered):
        below.setdefault(value, i)
    return {name: round(100.0 * below[count] / (n - 1), 2) for name, count in reads.items()}


def _rebuild_joins(conn: Any, start: date) -> None:
    j, h = query_joins.c, query_history.c
    conn.execute(delete(table_joins))
    conn.execute(
        insert(table_joins).from_select(
            ["left_fqn", "right_fqn", "columns", "query_count"],
            select(j.left_fqn, j.right_fqn, j.columns, func.count())
            .select_from(query_joins.join(query_history, h.query_id == j.query_id))
            .where(h.day >= start)
            .group_by(j.left_fqn, j.right_fqn, j.columns),
        )
    )


def _rebuild_top_queries(conn: Any, start: date, per_table: int) -> None:
    """Top fingerprints per table, streamed in (table, count desc) order: no full list."""
    t, h = query_tables.c, query_history.c
    counts = (
        select(t.table_fqn, t.fingerprint, func.count(distinct(t.query_id)).label("n"))
        .select_from(query_tables.join(query_history, h.query_id == t.query_id))
        .where(h.day >= start)
        .group_by(t.table_fqn, t.fingerprint)
        .order_by(t.table_fqn, func.count(distinct(t.query_id)).desc(), t.fingerprint)
    )
    conn.execute(delete(table_top_queries))
    batch: list[dict[str, Any]] = []
    current, rank = None, 0
    for row in conn.execute(counts).yield_per(10000):
        if row.table_fqn != current:
            current, rank = row.table_fqn, 0
        rank += 1
        if rank <= per_table:
            batch.append(
                {"table_fqn": current, "fingerprint": row.fingerprint, "rank": rank}
                | {"query_count": row.n}
            )
    if batch:
        conn.execute(insert(table_top_queries), batch)


def _report(
    store: CatalogStore, summary: list[dict], start: date, price: float, top: int
) -> UsageSummary:
    h, c = query_history.c, work_group_cost_daily.c
    out = UsageSummary(tables=len(summary), unused=sum(r["unused"] for r in summary))
    # Top lists hold only tables read (or billed) in the window: never an unused one.
    read = [r for r in summary if r["read_count"]]
    out.top_tables = sorted(read, key=lambda r: (-r["read_count"], r["table_fqn"]))[:top]
    out.top_cost = sorted(
        (r for r in read if r["cost_usd"]), key=lambda r: (-r["cost_usd"], r["table_fqn"])
    )[:top]
    with store.read() as conn:
        out.work_groups = [
            dict(row._mapping)
            for row in conn.execute(
                select(
                    c.work_group,
                    func.sum(c.queries).label("queries"),
                    func.sum(c.failed).label("failed"),
                    func.sum(c.bytes_scanned).label("bytes_scanned"),
                    func.sum(c.cost_usd).label("cost_usd"),
                )
                .where(c.day >= start)
                .group_by(c.work_group)
                .order_by(func.sum(c.cost_usd).desc())
            )
        ]
        out.queries = sum(int(w["queries"]) for w in out.work_groups)
        out.cost_usd = sum(float(w["cost_usd"] or 0) for w in out.work_groups)
        self_billed = conn.execute(
            select(func.coalesce(func.sum(h.billed_bytes), 0)).where(
                h.day >= start, h.source == SOURCE_SELF
            )
        ).scalar_one()
        out.self_cost_usd = float(self_billed) * price
        out.joins = [
            dict(row._mapping)
            for row in conn.execute(
                select(table_joins)
                .order_by(
                    table_joins.c.query_count.desc(),
                    table_joins.c.left_fqn,
                    table_joins.c.right_fqn,
                    table_joins.c.columns,
                )
                .limit(top)
            )
        ]
    return out
