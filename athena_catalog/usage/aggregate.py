"""Usage from the stored history: which tables each query read and wrote, then per-table and
per-work-group aggregates, all computed in SQL over the store so memory stays bounded.

1. ``resolve``: each stored query not yet resolved goes through the lineage parser once, with
   its own catalog and database as the defaults for unqualified names. Queries differing only
   in literals share the lineage package's fingerprint (which includes the context), so the
   parse is cached per fingerprint: dashboards repeat, the parser runs once per shape. Only
   successful user and dbt queries are parsed; the project's own (marked) queries, failed ones
   and UTILITY statements are resolved to nothing.
2. ``aggregate``: ``table_usage_daily`` and ``work_group_cost_daily`` are rebuilt for the days
   of the window, the summary, joins and top queries over the whole window.

Joins are the parser's join keys (columns equated in join conditions), one ``query_joins``
row per query and column pair; ``table_joins`` counts the queries per table pair and column
pair, so a pair of tables joined on several columns has a row for each.

Bytes rule: Athena reports one total per query, so a query's scanned (and billed) bytes are
split equally across the distinct tables it reads; tables it only writes get none. Cost is the
billed bytes (``ingest.billed_bytes``) times the price per TB (10**12 bytes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
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
    update,
)

from athena_catalog.lineage import LineageSchema, parse_lineage
from athena_catalog.lineage.fingerprint import fingerprint, normalize
from athena_catalog.lineage.result import is_s3
from athena_catalog.markers import SOURCE_SELF
from athena_catalog.names import quote_part, split_column_ref
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.history import (
    dialect_insert,
    query_fingerprints,
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

TB = 10**12
DEFAULT_CATALOG = "AwsDataCatalog"
DEFAULT_DATABASE = "default"
SIZE_PARAMETERS = ("totalSize", "rawDataSize")  # Hive / Glue statistics, where present


@dataclass(frozen=True)
class Resolved:
    """The tables one query reads and writes, and the column pairs it joins them on."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    # (left fqn, right fqn, "left_column = right_column"), one per equated column pair
    joins: tuple[tuple[str, str, str], ...] = ()
    error: str | None = None


Resolver = Callable[[str, str, str], Resolved]


def lineage_resolver(schema: LineageSchema | None = None) -> Resolver:
    """Table names and join keys through the lineage parser
    (``athena_catalog.lineage.parse_lineage``).

    S3 locations (UNLOAD targets, LOCATION sources) are not tables and are left out; CREATE
    VIEW writes the view and reads and joins nothing (its query runs when the view is read).
    Joins are the parser's join keys: columns equated by JOIN ... ON / USING, by WHERE across
    two tables, or by MERGE ... ON, traced to base table columns; tables merely read by the
    same query are not joined.
    """

    def resolve(sql: str, catalog: str, database: str) -> Resolved:
        result = parse_lineage(
            sql, default_catalog=catalog, default_database=database, schema=schema
        )
        # A view definition scans nothing: its sources are lineage, not reads.
        defining = result.statement == "view"
        sources = () if defining else result.sources
        reads = tuple(sorted(s.lower() for s in sources if not is_s3(s)))
        target = result.target
        writes = (target.lower(),) if target and not is_s3(target) else ()
        joins = () if defining else join_rows(result.joins)
        return Resolved(reads=reads, writes=writes, joins=joins, error=result.error)

    return resolve


def join_rows(keys: Iterable[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    """``(left table, right table, "left_column = right_column")`` of sorted column pairs;
    a column holding a dot or a double quote is quoted, as in its column ref."""
    rows = set()
    for a, b in keys:
        left, left_column = split_column_ref(a)
        right, right_column = split_column_ref(b)
        rows.add((left, right, f"{quote_part(left_column)} = {quote_part(right_column)}"))
    return tuple(sorted(rows))


@dataclass
class ResolveStats:
    queries: int = 0
    parsed: int = 0  # parser calls (cache misses)
    parse_errors: int = 0
    skipped: int = 0  # own, failed, utility: resolved to nothing
    # (query id, the parser's reason) of the first parse errors, for messages
    unparsed: list[tuple[str, str]] = field(default_factory=list)
    max_unparsed: int = 20


class _Cache:
    """A bounded LRU of resolutions, keyed by fingerprint."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[str, Resolved] = OrderedDict()

    def get(self, key: str, compute: Callable[[], Resolved]) -> Resolved:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = self.items[key] = compute()
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


def resolve(
    store: CatalogStore,
    resolver: Resolver,
    *,
    chunk_size: int = 5000,
    cache_size: int = 20000,
) -> ResolveStats:
    """Fill ``query_tables`` / ``query_joins`` for every query not yet resolved, chunk by chunk
    (each chunk one transaction that also marks its queries resolved)."""
    stats = ResolveStats()
    cache = _Cache(cache_size)
    h = query_history.c
    after = ""
    while True:
        with store.read() as conn:
            chunk = conn.execute(
                select(
                    h.query_id,
                    h.query,
                    h.catalog,
                    h.database,
                    h.state,
                    h.statement_type,
                    h.source,
                    h.data_scanned_bytes,
                    h.billed_bytes,
                )
                .where(h.resolved.is_(False), h.query_id > after)
                .order_by(h.query_id)
                .limit(chunk_size)
            ).all()
        if not chunk:
            return stats
        after = chunk[-1].query_id
        tables: list[dict[str, Any]] = []
        joins: list[dict[str, Any]] = []
        shapes: dict[str, str] = {}
        for row in chunk:
            stats.queries += 1
            if (
                row.source == SOURCE_SELF
                or row.state != "SUCCEEDED"
                or (row.statement_type == "UTILITY")
            ):
                stats.skipped += 1
                continue
            catalog = row.catalog or DEFAULT_CATALOG
            database = row.database or DEFAULT_DATABASE
            fp = fingerprint(row.query, catalog, database)
            if fp not in shapes and fp not in cache.items:
                shapes[fp] = normalize(row.query)

            def compute(row: Any = row, catalog: str = catalog, database: str = database):
                stats.parsed += 1
                return resolver(row.query, catalog, database)

            found = cache.get(fp, compute)
            if found.error:
                stats.parse_errors += 1
                if len(stats.unparsed) < stats.max_unparsed:
                    stats.unparsed.append((row.query_id, found.error))
            tables += _table_rows(row, fp, found)
            joins += [
                {"query_id": row.query_id, "left_fqn": a, "right_fqn": b, "columns": cols}
                for a, b, cols in found.joins
            ]
        with store.write() as conn:
            if tables:
                conn.execute(dialect_insert(conn, query_tables).on_conflict_do_nothing(), tables)
            if joins:
                conn.execute(dialect_insert(conn, query_joins).on_conflict_do_nothing(), joins)
            if shapes:
                conn.execute(
                    dialect_insert(conn, query_fingerprints).on_conflict_do_nothing(),
                    [{"fingerprint": k, "normalized": v} for k, v in shapes.items()],
                )
            conn.execute(
                update(query_history)
                .where(h.query_id.in_([r.query_id for r in chunk]))
                .values(resolved=True)
            )


def _table_rows(row: Any, fp: str, found: Resolved) -> list[dict[str, Any]]:
    reads = len(found.reads)
    scanned, billed = row.data_scanned_bytes or 0, row.billed_bytes or 0
    out = [
        {
            "query_id": row.query_id,
            "table_fqn": fqn,
            "role": "read",
            "fingerprint": fp,
            "bytes_share": scanned // reads,
            "billed_share": billed // reads,
        }
        for fqn in found.reads
    ]
    out += [
        {
            "query_id": row.query_id,
            "table_fqn": fqn,
            "role": "write",
            "fingerprint": fp,
            "bytes_share": 0,
            "billed_share": 0,
        }
        for fqn in found.writes
    ]
    return out


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
