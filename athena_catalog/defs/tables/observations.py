"""Observations on the table assets: whenever the catalog learns something about a table, its
page gets an ``AssetObservation`` (a latest event, numbers Dagster plots over time).

Three assets report, each tagged ``athena_catalog/observed_by``:

* ``tables`` (the crawl): tables it created, changed, restored or saw modified (schema
  changes as a readable list, column count, size from the Glue statistics, Glue's last
  update time);
* ``table_usage``: every table read or written in the window, each run (reads, writes,
  bytes, cost per day and over the window, popularity, last read, top joins, column usage);
* ``lineage``: tables whose column lineage, upstream or downstream, changed.

Keys come from :class:`AthenaTableTranslator` (the same ``get_asset_key`` the specs use).
Nothing is emitted past ``ATHENA_CATALOG_TABLE_ASSETS`` live tables: there are no table assets
then, and the volume stays bounded by what changed or was used.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import dagster as dg

from athena_catalog import settings
from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.tables.readable import column_lineage_markdown, downstream_markdown
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.names import quote_part
from athena_catalog.store import ApplyResult, CatalogStore
from athena_catalog.store.lineage_reads import ColumnEdge, column_edges, lineage_digests
from athena_catalog.store.table_pages import (
    ColumnUse,
    CrawlMark,
    TableName,
    UsagePage,
    crawl_marks,
    live_tables,
)

OBSERVED_BY = "athena_catalog/observed_by"
COLUMN_ROWS = 50  # column usage rows shown; most used first


def crawl_marks_of(store: CatalogStore) -> dict[str, CrawlMark]:
    """Read before a crawl is applied, so the observations name what it changed."""
    with store.read() as conn:
        return crawl_marks(conn)


def observe_crawl(
    context: dg.AssetExecutionContext,
    store: CatalogStore,
    before: dict[str, CrawlMark],
    result: ApplyResult,
    translator: AthenaTableTranslator | None = None,
) -> int:
    """One observation per table the crawl created, changed, restored or saw modified."""
    with store.read() as conn:
        names, after = live_tables(conn), crawl_marks(conn)
    changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in result.schema_changes:
        changes[change["table_fqn"]].append(change)
    flagged = {
        **dict.fromkeys(result.changed_tables, "changed"),
        **dict.fromkeys(result.restored_tables, "restored"),
        **dict.fromkeys(result.new_tables, "created"),
    }
    news = {}
    for fqn, mark in after.items():
        what = flagged.get(fqn) or ("modified" if before.get(fqn) != mark else None)
        if what:
            news[fqn] = _crawl_metadata(what, mark, changes.get(fqn, []))
    return _emit(context, "crawl", names, news, translator)


def observe_usage(
    context: dg.AssetExecutionContext,
    store: CatalogStore,
    pages: dict[str, UsagePage],
    translator: AthenaTableTranslator | None = None,
) -> int:
    """One observation per table read or written in the window (``pages``, from
    :func:`~athena_catalog.store.table_pages.usage_pages`), on every run."""
    with store.read() as conn:
        names = live_tables(conn)
    news = {fqn: usage_metadata(page) for fqn, page in pages.items()}
    return _emit(context, "usage", names, news, translator)


def observe_lineage(
    context: dg.AssetExecutionContext,
    store: CatalogStore,
    translator: AthenaTableTranslator | None = None,
) -> int:
    """One observation per live table whose column edges (in or out) changed since the last
    lineage observations on this Dagster instance, whichever step (``lineage`` or
    ``table_usage``, through the shared parse pipeline) wrote them."""
    cursors = context.instance.daemon_cursor_storage
    key = _pages_key("lineage", store)
    before = json.loads(cursors.get_cursor_values({key}).get(key) or "{}")
    with store.read() as conn:
        names, after = live_tables(conn), lineage_digests(conn)
        changed = {f for f in set(before) | set(after) if before.get(f) != after.get(f)}
        changed &= set(names)
        edges = column_edges(conn, targets=changed, sources=changed) if changed else []
    into: dict[str, list[ColumnEdge]] = defaultdict(list)
    out: dict[str, list[ColumnEdge]] = defaultdict(list)
    for e in edges:
        into[e.target_table].append(e)
        out[e.source_table].append(e)
    news = {fqn: _lineage_metadata(fqn, into[fqn], out[fqn]) for fqn in sorted(changed)}
    emitted = _emit(context, "lineage", names, news, translator)
    if emitted or not news:  # what the pages now show; kept until they are shown
        cursors.set_cursor_values({key: json.dumps(after, sort_keys=True)})
    return emitted


def _pages_key(source: str, store: CatalogStore) -> str:
    """Where the instance keeps what the table pages last showed from ``source``, per store:
    a wiped instance (empty pages) starts afresh, and so does another store."""
    digest = hashlib.sha256(store.url.encode()).hexdigest()[:16]
    return f"athena_catalog/table_pages/{source}/{digest}"


def table_assets_exist(context: dg.AssetExecutionContext, live: int, what: str) -> bool:
    """Whether the table assets exist (``live`` tables within ``ATHENA_CATALOG_TABLE_ASSETS``),
    so observations have somewhere to show; if not, the run's log says ``what`` is skipped."""
    cap = settings.TABLE_ASSETS.read()
    if live <= cap:
        return True
    context.log.info(
        f"no {what}: {live} live tables exceed {settings.TABLE_ASSETS.name}={cap}, so there"
        " are no table assets"
    )
    return False


def _emit(
    context: dg.AssetExecutionContext,
    source: str,
    names: dict[str, TableName],
    news: dict[str, dict[str, Any]],
    translator: AthenaTableTranslator | None,
) -> int:
    if not table_assets_exist(context, len(names), f"{source} observations"):
        return 0
    translator = translator or AthenaTableTranslator()
    for fqn in sorted(news):
        context.log_event(
            dg.AssetObservation(
                asset_key=translator.get_asset_key(names[fqn]),
                description=f"What the {source} learned about {fqn}",
                metadata=news[fqn],
                tags={OBSERVED_BY: source},
            )
        )
    if news:
        context.log.info(f"{len(news)} table assets observed ({source})")
    return len(news)


def _crawl_metadata(what: str, mark: CrawlMark, changes: list[dict[str, Any]]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"crawl": what, "column_count": len(mark.columns)}
    if mark.size_bytes is not None:
        metadata["size_bytes"] = mark.size_bytes
    if mark.updated_at is not None:
        metadata["last_modified"] = dg.MetadataValue.timestamp(mark.updated_at)
    if changes:
        metadata["schema_changes"] = dg.MetadataValue.md(_changes_list(changes, mark))
    return metadata


def _changes_list(changes: list[dict[str, Any]], mark: CrawlMark) -> str:
    def line(ch: dict[str, Any]) -> str:
        column = f"`{quote_part(ch['column_name'])}`" if ch["column_name"] else ""
        kind = ch["change"]
        if kind == "table_created":
            return f"- table created with {len(mark.columns)} columns"
        if kind == "column_added":
            return f"- column {column} added ({ch['new_type']})"
        if kind == "column_removed":
            return f"- column {column} removed (was {ch['old_type']})"
        if kind == "column_type_changed":
            return f"- column {column} type changed: {ch['old_type']} -> {ch['new_type']}"
        return f"- {kind.replace('_', ' ')}"

    return "\n".join(line(ch) for ch in changes)


def usage_metadata(page: UsagePage) -> dict[str, Any]:
    """The usage observation of one table's page."""
    metadata: dict[str, Any] = {
        "reads": page.reads,
        "writes": page.writes,
        "bytes_scanned": page.bytes_scanned,
        "cost_usd": round(page.cost_usd, 6),
        "popularity_percentile": page.popularity_percentile,
        "window_days": page.window_days,
        "usage_by_day": dg.MetadataValue.md(
            md_table(
                ["day", "reads", "writes", "bytes scanned", "cost USD"],
                [
                    [
                        d.day.isoformat(),
                        d.reads,
                        d.writes,
                        f"{d.bytes_scanned:,}",
                        f"{d.cost_usd:.4f}",
                    ]
                    for d in reversed(page.days)
                ],
            )
        ),
    }
    if page.last_read_at:
        metadata["last_read"] = dg.MetadataValue.timestamp(page.last_read_at)
    if page.joins:
        metadata["top_joins"] = dg.MetadataValue.md(
            md_table(
                ["joined with", "on (this = other)", "queries"],
                [[j.other, j.columns, j.queries] for j in page.joins],
            )
        )
    if page.columns_known:
        metadata |= _columnusage_metadata(page)
    return metadata


def _columnusage_metadata(page: UsagePage) -> dict[str, Any]:
    used = [c for c in page.columns if c.queries]
    rows: list[list[object]] = [
        [quote_part(c.column), c.queries, c.selected, c.filtered, c.joined, c.grouped, c.ordered]
        for c in used[:COLUMN_ROWS]
    ]
    header = ["column", "queries", "select", "filter", "join", "group by", "order by"]
    shown = md_table(header, rows)
    if len(used) > COLUMN_ROWS:
        shown += f"\n\n{len(used) - COLUMN_ROWS} less used columns not shown"
    metadata: dict[str, Any] = {
        "columns_read": len(used),
        "columns_never_read_count": len(page.never_read),
        "column_usage": dg.MetadataValue.md(shown),
        "columns_never_read": dg.MetadataValue.md(
            ", ".join(f"`{quote_part(c)}`" for c in page.never_read) or "every column was read"
        ),
    }
    if used:
        metadata["most_used_columns"] = _names(used[:3])
        metadata["least_used_columns"] = _names(used[:-4:-1])
    return metadata


def _lineage_metadata(fqn: str, into: list[ColumnEdge], out: list[ColumnEdge]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "upstream_tables": len({e.source_table for e in into}),
        "upstream_column_edges": len(into),
        "downstream_tables": len({e.target_table for e in out}),
        "downstream_column_edges": len(out),
    }
    if into:
        metadata["column_lineage_table"] = dg.MetadataValue.md(column_lineage_markdown(fqn, into))
    if out:
        metadata["downstream_impact"] = dg.MetadataValue.md(downstream_markdown(fqn, out))
    return metadata


def _names(columns: Sequence[ColumnUse]) -> str:
    return ", ".join(quote_part(c.column) for c in columns)
