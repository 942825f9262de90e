"""The ``usage`` group: ``query_history`` (Athena's executions, kept whole and read
incrementally) and ``table_usage`` (reads, writes, bytes, cost and popularity per table).

Thin Dagster wiring over ``athena_catalog.usage``: config, resources, and metadata the UI shows.
"""

from typing import Any

import dagster as dg
from pydantic import Field
from sqlalchemy import func, select

from athena_catalog.defs.examples import EXAMPLES, NOT_ANALYSED_SQL, counted, examples_table
from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.observations import observe_usage
from athena_catalog.lineage.resolve import resolve_history
from athena_catalog.store.history import history_rejects
from athena_catalog.store.history import query_history as query_history_table
from athena_catalog.store.table_pages import ColumnUse, UsagePage, usage_pages
from athena_catalog.usage.aggregate import UsageOptions, UsageSummary, aggregate
from athena_catalog.usage.ingest import IngestOptions, IngestStats, ingest

GROUP = "usage"


# Bounds of the day windows: ten years is past any Athena history, and far from the dates
# Python cannot represent.
MAX_DAYS = 3650
# Rows per write transaction: large enough for any speed-up, small enough to bound memory.
MAX_CHUNK_SIZE = 1_000_000


class QueryHistoryConfig(dg.Config):
    query_log_days: int = Field(
        default=7,
        ge=1,
        le=MAX_DAYS,
        description=(
            f"First run per work group: read executions of this many past days (1-{MAX_DAYS})."
        ),
    )
    chunk_size: int = Field(
        default=5000,
        ge=1,
        le=MAX_CHUNK_SIZE,
        description=f"Executions stored per transaction, bounding memory (1-{MAX_CHUNK_SIZE:,}).",
    )


class TableUsageConfig(dg.Config):
    window_days: int = Field(
        default=30, ge=1, le=MAX_DAYS, description=f"Days the usage covers (1-{MAX_DAYS})."
    )
    unused_days: int = Field(
        default=30,
        ge=1,
        le=MAX_DAYS,
        description=f"A cataloged table not read for this many days is unused (1-{MAX_DAYS}).",
    )
    price_per_tb_usd: float = Field(
        default=5.0,
        ge=0,
        allow_inf_nan=False,
        description="Athena's price per TB scanned (10**12 bytes), in USD (>= 0).",
    )
    top_queries_per_table: int = Field(
        default=5,
        ge=0,
        le=1000,
        description="Query fingerprints kept per table, most frequent first (0-1000).",
    )


@dg.asset(
    group_name=GROUP,
    kinds={"athena"},
    description=(
        "Every Athena query execution (full text, state, context, bytes, time), read "
        "incrementally per work group and deduplicated by query id."
    ),
)
def query_history(
    context: dg.AssetExecutionContext,
    config: QueryHistoryConfig,
    athena: AthenaResource,
    catalog_store: CatalogStoreResource,
) -> dg.MaterializeResult:
    options = IngestOptions(query_log_days=config.query_log_days, chunk_size=config.chunk_size)
    with athena.get_engine() as engine, catalog_store.open() as store:
        stats = ingest(engine, store, options, run_id=context.run_id)
        with store.read() as conn:
            total = conn.execute(select(func.count()).select_from(query_history_table)).scalar()
            rejects = _rejects(conn, context.run_id)
    if rejects:
        context.log.warning(
            counted(
                sum(stats.rejected.values()),
                ("history record was rejected", "history records were rejected"),
                [(r[0] or "(no query id)", f"{r[1]}: {r[2]}") for r in rejects],
                f"The first {EXAMPLES} are in this materialization's `rejected_records`; all "
                "of them are in the store: SELECT query_id, work_group, reason, detail FROM "
                f"history_rejects WHERE run_id = '{context.run_id}'",
            )
        )
    for note in stats.notes:
        context.log.warning(note)
    for error in stats.errors:
        context.log.warning(f"history not read completely, cursor held: {error}")
    # Throttling never fails the run; being denied every work group's history does.
    if stats.errors and len(stats.errors) == len(stats.work_groups) and not stats.throttled:
        raise dg.Failure(
            description="Could not read the query history of any work group",
            metadata={"errors": dg.MetadataValue.json(stats.errors)},
        )
    metadata = _history_metadata(stats, total or 0)
    metadata["rejected_records"] = examples_table(["query id", "reason", "detail"], rejects)
    return dg.MaterializeResult(metadata=metadata)


def _rejects(conn: Any, run_id: str) -> list[tuple[str | None, str, str | None]]:
    """The first records this run rejected, as stored in ``history_rejects``."""
    r = history_rejects.c
    rows = conn.execute(
        select(r.query_id, r.reason, r.detail)
        .where(r.run_id == run_id)
        .order_by(r.id)
        .limit(EXAMPLES)
    )
    return [tuple(row) for row in rows]


def _history_metadata(stats: IngestStats, total: int) -> dict[str, Any]:
    return {
        "dagster/row_count": total,
        "new_queries": stats.stored,
        "already_stored": stats.already_stored,
        "pending": stats.pending,
        "outside_window": stats.outside_window,
        "rejected": sum(stats.rejected.values()),
        "rejected_by_reason": dg.MetadataValue.json(dict(stats.rejected)),
        "repaired_by_reason": dg.MetadataValue.json(dict(stats.repaired)),
        "by_source": dg.MetadataValue.json(dict(stats.sources)),
        "by_work_group": dg.MetadataValue.json(dict(stats.by_work_group)),
        "work_groups": dg.MetadataValue.json(stats.work_groups),
        "batch_get_fallback_calls": stats.fallback_calls,
        "notes": dg.MetadataValue.json(stats.notes),
        "errors": dg.MetadataValue.json(stats.errors),
        "throttled_past_budget": stats.throttled,
    }


@dg.asset(
    group_name=GROUP,
    kinds={"athena"},
    deps=[query_history],
    description=(
        "Per table and day: reads, writes, work groups, bytes and cost; popularity, joins, top "
        "queries, unused tables and cost per work group over the window; per column and day: "
        "selects, filters, joins, group and order keys."
    ),
)
def table_usage(
    context: dg.AssetExecutionContext,
    config: TableUsageConfig,
    catalog_store: CatalogStoreResource,
) -> dg.MaterializeResult:
    options = UsageOptions(
        window_days=config.window_days,
        unused_days=config.unused_days,
        price_per_tb_usd=config.price_per_tb_usd,
        top_queries_per_table=config.top_queries_per_table,
    )
    with catalog_store.open() as store:
        resolved = resolve_history(store)
        summary = aggregate(store, options)
        with store.read() as conn:
            pages = usage_pages(conn)
        observe_usage(context, store, pages)
    if resolved.parse_errors:
        context.log.warning(
            counted(
                resolved.parse_errors,
                ("query could not be parsed", "queries could not be parsed"),
                resolved.unparsed,
                f"Their tables and joins may be incomplete in usage. The first {EXAMPLES} are "
                "in this materialization's `unparsed_queries`; the lineage asset keeps every "
                f"statement's outcome in the store: {NOT_ANALYSED_SQL}",
            )
        )
    return dg.MaterializeResult(
        metadata={
            "tables": summary.tables,
            "unused_tables": summary.unused,
            "queries_in_window": summary.queries,
            "cost_usd": round(summary.cost_usd, 4),
            "own_queries_cost_usd": round(summary.self_cost_usd, 4),
            "queries_resolved": resolved.queries,
            "parser_calls": resolved.parsed,
            "parse_errors": resolved.parse_errors,
            "unparsed_queries": examples_table(["query id", "reason"], resolved.unparsed),
            "summary": dg.MetadataValue.md(_usage_markdown(summary)),
            "columns_never_read": sum(len(p.never_read) for p in pages.values() if p.reads),
            "column_usage": dg.MetadataValue.md(_columns_markdown(pages)),
        }
    )


COLUMN_USAGE_ROWS = 50  # tables shown, most queried first; the store has them all


def _columns_markdown(pages: dict[str, UsagePage], shown_columns: int = 3) -> str:
    """Per table read in the window: most and least used columns (queries touching each),
    and the cataloged columns no query read (candidates to drop)."""

    def shown(columns: list[ColumnUse]) -> str:
        return ", ".join(f"{c.column} ({c.queries})" for c in columns) or "-"

    tables = sorted(
        (p for p in pages.values() if p.reads and p.columns),
        key=lambda p: (-sum(c.queries for c in p.columns), p.fqn),
    )
    rows: list[list[object]] = []
    for page in tables[:COLUMN_USAGE_ROWS]:
        most = page.columns[:shown_columns]  # most queries first
        least = sorted(page.columns[shown_columns:], key=lambda c: (c.queries, c.column))
        never = ", ".join(page.never_read) or "-"
        rows.append([page.fqn, shown(most), shown(least[:shown_columns]), never])
    more = len(tables) - COLUMN_USAGE_ROWS
    note = (
        f"\n\n{more} more tables: `SELECT * FROM column_usage_daily` in the store."
        if more > 0
        else ""
    )
    return (
        "**Columns by use** (queries touching each, over the window)\n\n"
        + md_table(["table", "most used", "least used", "never read"], rows)
        + note
    )


def _usage_markdown(summary: UsageSummary) -> str:
    def row(r: dict[str, Any]) -> list[object]:
        return [
            r["table_fqn"],
            r["read_count"],
            r["write_count"],
            f"{r['popularity_percentile']:g}",
            _bytes(r["bytes_scanned"]),
            f"{r['cost_usd']:.4f}",
            r["last_read_at"].isoformat(timespec="minutes") if r["last_read_at"] else "-",
        ]

    header = ["table", "reads", "writes", "percentile", "scanned", "cost USD", "last read"]
    parts = [
        "**Top tables by reads**\n\n" + md_table(header, [row(r) for r in summary.top_tables]),
        "**Top tables by cost**\n\n" + md_table(header, [row(r) for r in summary.top_cost]),
        "**Cost per work group**\n\n"
        + md_table(
            ["work group", "queries", "failed", "scanned", "cost USD"],
            [
                [
                    w["work_group"],
                    w["queries"],
                    w["failed"],
                    _bytes(w["bytes_scanned"]),
                    f"{w['cost_usd'] or 0:.4f}",
                ]
                for w in summary.work_groups
            ],
        ),
    ]
    if summary.joins:
        parts.append(
            "**Frequently joined** (tables and the columns they are joined on)\n\n"
            + md_table(
                ["left", "right", "on (left = right)", "queries"],
                [
                    [j["left_fqn"], j["right_fqn"], j["columns"], j["query_count"]]
                    for j in summary.joins
                ],
            )
        )
    return "\n\n".join(parts)


def _bytes(n: int | None) -> str:
    value, unit = float(n or 0), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
