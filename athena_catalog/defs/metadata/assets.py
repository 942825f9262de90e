"""The ``metadata`` group: data catalogs (``databases``), Glue databases (``schemas``) and
tables and views with their columns (``tables``).

One multi-asset crawls all three in one step so a single snapshot is applied to the store in
one transaction; the ingestion options are its run config, named as OpenMetadata names them.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import Field

from athena_catalog.crawl import CrawlOptions, Snapshot, crawl, schema_key
from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.observations import crawl_marks_of, observe_crawl
from athena_catalog.filters import FilterPattern, InvalidFilterError
from athena_catalog.store import ApplyResult, DeletionPolicy, apply_snapshot
from athena_catalog.store.catalog import MassDeletionError

GROUP = "metadata"
LEVELS = ("databases", "schemas", "tables")  # the asset of each crawl depth
PREVIEW_ROWS = 25


class FilterPatternConfig(dg.Config):
    includes: list[str] = Field(default=[], description="Regular expressions; keep matches.")
    excludes: list[str] = Field(default=[], description="Regular expressions; drop matches.")

    def compile(self, option: str) -> FilterPattern:
        return FilterPattern.compile(self.includes, self.excludes, option=option)


class MetadataIngestionConfig(dg.Config):
    """OpenMetadata's "Metadata Ingestion Options", in snake case."""

    database_filter_pattern: FilterPatternConfig = Field(
        default=FilterPatternConfig(), description="Filter on Athena data catalog names."
    )
    schema_filter_pattern: FilterPatternConfig = Field(
        default=FilterPatternConfig(), description="Filter on Glue / Athena database names."
    )
    table_filter_pattern: FilterPatternConfig = Field(
        default=FilterPatternConfig(), description="Filter on table and view names."
    )
    include_views: bool = Field(default=True, description="Ingest views as well as tables.")
    include_tags: bool = Field(default=True, description="Ingest the tables' resource tags.")
    mark_deleted_tables: bool = Field(
        default=True, description="Soft-delete what a complete listing no longer shows."
    )
    mark_deleted_tables_from_filter_only: bool = Field(
        default=False, description="Only soft-delete objects these filters cover."
    )
    max_deletion_ratio: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Refuse a crawl that would soft-delete more than this share (0 to 1) of"
        " the live tables its complete listings covered, unless allow_mass_deletion is set.",
    )
    allow_mass_deletion: bool = Field(
        default=False,
        description="Apply a crawl even when it soft-deletes more than max_deletion_ratio.",
    )
    min_mass_deletion: int = Field(
        default=5,
        ge=1,
        le=1_000_000,
        description="The guard of max_deletion_ratio applies from this many deletions on.",
    )
    enable_debug_log: bool = Field(default=False, description="Log at DEBUG level.")

    def crawl_options(self, athena: AthenaResource, depth: str) -> CrawlOptions:
        """Compiles every pattern first, so a bad regex fails before any AWS call."""
        return CrawlOptions(
            database_filter=self.database_filter_pattern.compile("database_filter_pattern"),
            schema_filter=self.schema_filter_pattern.compile("schema_filter_pattern"),
            table_filter=self.table_filter_pattern.compile("table_filter_pattern"),
            include_views=self.include_views,
            include_tags=self.include_tags,
            only_database=athena.database,
            max_workers=athena.max_workers,
            depth=depth,
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "databases",
            group_name=GROUP,
            kinds={"athena"},
            description="Athena data catalogs (AwsDataCatalog, cross-account Glue, federated).",
        ),
        dg.AssetSpec(
            "schemas",
            group_name=GROUP,
            kinds={"athena", "glue"},
            deps=["databases"],
            description="Glue / Athena databases of every kept data catalog.",
        ),
        dg.AssetSpec(
            "tables",
            group_name=GROUP,
            kinds={"athena", "glue"},
            deps=["schemas"],
            description="Tables and views with their columns, partition keys, tags and SQL.",
        ),
    ],
    name="metadata",
    can_subset=True,
)
def metadata(
    context: dg.AssetExecutionContext,
    config: MetadataIngestionConfig,
    athena: AthenaResource,
    catalog_store: CatalogStoreResource,
) -> Iterator[dg.MaterializeResult]:
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    # Crawl as deep as the deepest selected asset; what is crawled is stored.
    depth = CrawlOptions.DEPTHS[max(LEVELS.index(name) for name in selected)]
    try:
        options = config.crawl_options(athena, depth)
    except InvalidFilterError as e:
        raise dg.Failure(description=f"Invalid run config: {e}", allow_retries=False) from e
    with _debug_logging(config.enable_debug_log), athena.get_engine() as engine:
        snap = crawl(engine, options)
    for error in snap.errors:
        context.log.warning(f"not read, left as stored: {error}")
    if not snap.catalog_listing.ok:
        raise dg.Failure(
            description=f"Could not list data catalogs: {snap.errors[0]}",
            metadata={"errors": dg.MetadataValue.json(snap.errors)},
        )
    policy = DeletionPolicy(
        mark_deleted_tables=config.mark_deleted_tables,
        from_filter_only=config.mark_deleted_tables_from_filter_only,
        max_deletion_ratio=config.max_deletion_ratio,
        allow_mass_deletion=config.allow_mass_deletion,
        min_mass_deletion=config.min_mass_deletion,
    )
    with catalog_store.open() as store:
        marks = crawl_marks_of(store)
        try:
            result = apply_snapshot(
                store, snap, options, policy, engine_kind=engine.kind, run_id=context.run_id
            )
        except MassDeletionError as e:
            raise dg.Failure(
                description=str(e),
                metadata={"deleting": e.deleting, "live_tables": e.live},
                allow_retries=False,
            ) from e
        observe_crawl(context, store, marks, result)
    for name in LEVELS:
        if name in selected:
            yield dg.MaterializeResult(asset_key=name, metadata=_metadata(name, snap, result))


def _metadata(name: str, snap: Snapshot, result: ApplyResult) -> dict[str, Any]:
    c = result.counts
    if name == "databases":
        return {
            "catalogs": c["catalogs"],
            "new": c["catalogs_new"],
            "changed": c["catalogs_changed"],
            "deleted": c["catalogs_deleted"],
            "listing_errors": dg.MetadataValue.json(snap.errors),
            "preview": dg.MetadataValue.md(
                md_table(["catalog", "type"], [[x.name, x.type] for x in snap.catalogs])
            ),
        }
    if name == "schemas":
        return _schemas_metadata(snap, result)
    return _tables_metadata(snap, result)


def _schemas_metadata(snap: Snapshot, result: ApplyResult) -> dict[str, Any]:
    c = result.counts
    schema_rows = [
        [d.catalog, d.name, len(snap.tables.get(schema_key(d.catalog, d.name), []))]
        for dbs in snap.databases.values()
        for d in dbs
    ]
    return {
        "schemas": c["schemas"],
        "new": c["schemas_new"],
        "changed": c["schemas_changed"],
        "deleted": c["schemas_deleted"],
        "listing_errors": dg.MetadataValue.json(snap.errors),
        "preview": dg.MetadataValue.md(md_table(["catalog", "schema", "tables"], schema_rows)),
    }


def _tables_metadata(snap: Snapshot, result: ApplyResult) -> dict[str, Any]:
    c = result.counts
    return {
        "tables": c["tables"],
        "views": c["views"],
        "columns": c["columns"],
        "new": len(result.new_tables),
        "changed": len(result.changed_tables),
        "deleted": len(result.deleted_tables),
        "restored": len(result.restored_tables),
        "schema_changes": len(result.schema_changes),
        "filtered_out": snap.filtered_out,
        "listing_errors": dg.MetadataValue.json(snap.errors),
        "preview": dg.MetadataValue.md(_tables_preview(snap, result)),
    }


def _tables_preview(snap: Snapshot, result: ApplyResult) -> str:
    rows = [
        [t.fqn, t.table_type, len(t.columns), ", ".join(t.partition_keys) or "-"]
        for t in sorted(snap.all_tables(), key=lambda t: t.fqn)[:PREVIEW_ROWS]
    ]
    parts = [md_table(["table", "type", "columns", "partition keys"], rows)]
    if result.schema_changes:
        changes = [
            [
                ch["table_fqn"],
                ch["change"],
                ch["column_name"] or "",
                ch["old_type"] or "",
                ch["new_type"] or "",
            ]
            for ch in result.schema_changes[:PREVIEW_ROWS]
        ]
        parts.append(
            "**Schema changes**\n\n"
            + md_table(["table", "change", "column", "old type", "new type"], changes)
        )
    return "\n\n".join(parts)


@contextmanager
def _debug_logging(enabled: bool) -> Iterator[None]:
    """OpenMetadata's enableDebugLog: the project's loggers go to DEBUG for this run."""
    logger = logging.getLogger("athena_catalog")
    previous = logger.level
    if enabled:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.setLevel(previous)
