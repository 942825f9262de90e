"""The ``lineage`` asset: table and column lineage from query history and view definitions.

Thin Dagster wiring over :mod:`athena_catalog.lineage.resolve` (the parse pipeline lineage
shares with usage: whichever of ``lineage`` and ``table_usage`` runs first resolves new history
for both), :mod:`athena_catalog.lineage.graph` and :mod:`athena_catalog.store.lineage`. Each
run resolves the history not resolved yet, in chunks (one write transaction each), then
recomputes the view edges. Column lineage is surfaced per Athena table as
``dagster/column_lineage`` on the external table specs of
:mod:`athena_catalog.defs.tables.loader`, keyed ``["athena", catalog, database, table]``.
"""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pydantic import Field
from sqlalchemy import Connection, func, select

from athena_catalog.defs.examples import EXAMPLES, NOT_ANALYSED_SQL, counted, examples_table
from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.defs.tables.observations import observe_lineage
from athena_catalog.defs.usage.assets import MAX_CHUNK_SIZE
from athena_catalog.lineage.graph import LineageAnalyser, LineageBatch
from athena_catalog.lineage.resolve import ANALYSED, lineage_schema, resolve_history
from athena_catalog.store.history import query_history, unresolve_all
from athena_catalog.store.lineage import (
    clear_lineage,
    lineage_column_edges,
    lineage_table_edges,
    read_cache,
    read_views,
    replace_edges,
    statement_outcomes,
    write_cache,
)

GROUP = "lineage"
PREVIEW_ROWS = 25


class LineageConfig(dg.Config):
    full_refresh: bool = Field(
        default=False, description="Forget all edges and re-analyse the whole stored history."
    )
    workers: int = Field(
        default=2, ge=1, le=64, description="Processes parsing distinct statements (1-64)."
    )
    statement_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="Time limit per statement, in seconds (> 0, at most 3600).",
    )
    chunk_size: int = Field(
        default=50_000,
        ge=1,
        le=MAX_CHUNK_SIZE,
        description=f"History rows per write transaction (1-{MAX_CHUNK_SIZE:,}).",
    )


@dg.asset(
    group_name=GROUP,
    kinds={"athena"},
    deps=["query_history", "tables"],
    description=(
        "Table- and column-level lineage of Athena: CTAS, INSERT, MERGE, UPDATE, DELETE, views, "
        "UNLOAD and S3 locations, from successful query history and the catalog's views."
    ),
)
def lineage(
    context: dg.AssetExecutionContext, config: LineageConfig, catalog_store: CatalogStoreResource
) -> dg.MaterializeResult:
    with catalog_store.open() as store:
        summary = build_lineage(
            store,
            workers=config.workers,
            timeout_s=config.statement_timeout_s,
            chunk_size=config.chunk_size,
            full_refresh=config.full_refresh,
            warn=context.log.warning,
        )
        observe_lineage(context, store)
    return dg.MaterializeResult(metadata=summary)


def build_lineage(
    store: Any,
    *,
    workers: int = 2,
    timeout_s: float = 5.0,
    chunk_size: int = 50_000,
    full_refresh: bool = False,
    now: datetime | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Resolve new history and analyse all views into the store; returns the asset's
    metadata. ``warn`` receives one message per kind of shortfall, naming the first and where
    all are."""
    now = now or datetime.now(UTC)
    if full_refresh:
        with store.write() as conn:
            clear_lineage(conn)
            unresolve_all(conn)  # every stored statement is analysed again, from the cache
    resolved = resolve_history(
        store, workers=workers, timeout_s=timeout_s, chunk_size=chunk_size, now=now
    )
    run = Counter(resolved.outcomes)
    run["_parsed"], run["_cache_hits"] = resolved.parsed, resolved.cache_hits
    failed = resolved.not_analysed  # (query id, outcome) this run could not analyse
    with store.read() as conn:
        schema = lineage_schema(conn)
        views = read_views(conn)
    analyser = LineageAnalyser(schema, workers=workers, timeout_s=timeout_s, now=now)
    with store.read() as conn:
        view_batch = analyser.views(views, lambda fps: read_cache(conn, fps))
    with store.write() as conn:
        write_cache(conn, view_batch.cache_rows)
        replace_edges(conn, lineage_table_edges, "view", view_batch.table_edges)
        replace_edges(conn, lineage_column_edges, "view", view_batch.column_edges)
    views_failed = [(v, o) for v, o in view_batch.outcomes.items() if o not in ANALYSED]
    with store.read() as conn:
        examples = _with_text(conn, failed[:EXAMPLES])
        metadata = _metadata(conn, run, view_batch)
    metadata["not_analysed_examples"] = examples_table(["query id", "reason", "query"], examples)
    metadata["views_not_analysed_examples"] = examples_table(["view", "reason"], views_failed)
    if warn and failed:
        warn(
            counted(
                len(failed),
                ("statement could not be analysed", "statements could not be analysed"),
                failed,
                f"The first {EXAMPLES} are in this materialization's `not_analysed_examples`; "
                f"all of them are in the store: {NOT_ANALYSED_SQL}",
            )
        )
    if warn and views_failed:
        warn(
            counted(
                len(views_failed),
                ("view could not be analysed", "views could not be analysed"),
                views_failed,
                f"The first {EXAMPLES} are in this materialization's "
                "`views_not_analysed_examples`; their SQL is `view_sql` in `catalog_tables`.",
            )
        )
    return metadata


def _with_text(conn: Connection, failed: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The examples with their statement's text, so the reason can be checked at a glance."""
    h = query_history.c
    ids = [q for q, _ in failed]
    texts = dict(conn.execute(select(h.query_id, h.query).where(h.query_id.in_(ids))).all())
    return [(q, o, texts.get(q, "")) for q, o in failed]


def _metadata(conn: Connection, run: Counter[str], views: LineageBatch) -> dict[str, Any]:
    def count(table: Any, kind: str | None = None) -> int:
        query = select(func.count()).select_from(table)
        if kind:
            query = query.where(table.c.kind == kind)
        return conn.execute(query).scalar() or 0

    totals = statement_outcomes(conn)
    parsed, hits = run.pop("_parsed", 0), run.pop("_cache_hits", 0)
    not_analysed = {k: v for k, v in totals.items() if k not in ("ok", "no lineage")}
    edges = conn.execute(
        select(lineage_table_edges).order_by(lineage_table_edges.c.query_count.desc())
    ).mappings()
    preview = [
        [e["source_fqn"], e["target_fqn"], e["kind"], e["query_count"], e["last_seen"]]
        for e, _ in zip(edges, range(PREVIEW_ROWS), strict=False)
    ]
    return {
        "statements_analysed": sum(run.values()),
        "statements_analysed_total": sum(totals.values()),
        "distinct_statements_parsed": parsed,
        "parse_cache_hits": hits,
        "statements_with_lineage": totals.get("ok", 0),
        "not_analysed_by_reason": dg.MetadataValue.json(not_analysed),
        "views": len(views.outcomes),
        "views_not_analysed": dg.MetadataValue.json(
            {k: v for k, v in Counter(views.outcomes.values()).items() if k != "ok"}
        ),
        "table_edges": count(lineage_table_edges),
        "column_edges": count(lineage_column_edges),
        "table_edges_by_kind": dg.MetadataValue.json(
            {k: count(lineage_table_edges, k) for k in ("query", "view", "s3")}
        ),
        "preview": dg.MetadataValue.md(
            md_table(["source", "target", "kind", "statements", "last seen"], preview)
        ),
    }
