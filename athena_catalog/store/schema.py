"""Every table of the catalog store, defined in this one module on one ``metadata``.

The README's "Catalog store schema" section documents them. The schema in a store is managed
by the Alembic revisions in :mod:`athena_catalog.store.migrations`: a change here needs a new
revision there (the README's "The catalog store" section says how).

Names, fqns, ids, locations and work groups are unbounded ``Text``: AWS bounds some of them
(Glue names at 255 characters, work groups at 128) but a quoted fqn joins three names, and
imported history bounds nothing, so a length limit here would only move a failure into the
store. Short ``String`` columns hold the project's own codes (kinds, roles, states, digests).

``query_history`` keeps every field Athena reports (OpenMetadata's usage keeps few), plus what
ingestion derives once: ``source`` (user, athena_catalog, dbt), ``day`` (UTC date, so usage
groups by day the same way on SQLite and PostgreSQL) and ``billed_bytes`` (Athena's billing
rule, see ``athena_catalog.usage.ingest.billed_bytes``). ``history_cursors`` holds, per engine
and work group, the submission time up to which history is completely stored; it is written
in the same transaction as the rows it covers. ``query_tables`` is the resolved read/write set
of each query (from the lineage parser), the one input every usage aggregate is computed from
in SQL, and ``query_joins`` its join keys; the ``table_*`` and ``work_group_*`` tables are the
aggregates, rebuilt over the usage window on each ``table_usage`` run.

Lineage edges are aggregated over every statement ever analysed (``lineage_statements``).
``lineage_parse_cache`` keeps one parse per statement fingerprint, the one cache usage and
lineage both resolve history through; ``query_history``'s ``parser_version``, ``fingerprint``
and ``schema_version`` say what each row was resolved under, so a new parser or a changed
table schema re-resolves it (``athena_catalog.lineage.resolve``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)

metadata = MetaData()

# Timestamps are timezone-aware UTC everywhere.
TS = DateTime(timezone=True)

catalog_catalogs = Table(
    "catalog_catalogs",
    metadata,
    Column("name", Text, primary_key=True),  # lower case
    Column("display_name", Text, nullable=False),
    Column("catalog_type", Text, nullable=False),
    Column("description", Text),
    Column("parameters", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
)

catalog_schemas = Table(
    "catalog_schemas",
    metadata,
    Column("fqn", Text, primary_key=True),  # catalog.database, lower case
    Column("catalog", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("location", Text),
    Column("parameters", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
)

catalog_tables = Table(
    "catalog_tables",
    metadata,
    Column("fqn", Text, primary_key=True),  # catalog.database.table, lower case
    Column("catalog", Text, nullable=False),
    Column("database", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("table_type", Text, nullable=False),
    Column("description", Text),
    Column("location", Text),
    Column("storage_format", Text),
    Column("view_sql", Text),
    Column("owner", Text),
    Column("parameters", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", TS),
    Column("updated_at", TS),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
    Index("ix_catalog_tables_schema", "catalog", "database"),
)

catalog_columns = Table(
    "catalog_columns",
    metadata,
    Column("table_fqn", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("data_type", Text, nullable=False),
    Column("description", Text),
    Column("is_partition_key", Boolean, nullable=False, default=False),
)

schema_changes = Table(
    "schema_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("detected_at", TS, nullable=False),
    Column("table_fqn", Text, nullable=False, index=True),
    # table_created, table_deleted, table_restored, column_added, column_removed,
    # column_type_changed
    Column("change", String(32), nullable=False),
    Column("column_name", Text),
    Column("old_type", Text),
    Column("new_type", Text),
    Column("run_id", String(64)),
)

crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64)),
    Column("engine", String(16), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=False),
    Column("summary", JSON, nullable=False),  # counts and listing errors
)


# -- query history and usage

query_history = Table(
    "query_history",
    metadata,
    Column("query_id", Text, primary_key=True),
    Column("query", Text, nullable=False),
    Column("statement_type", String(16)),  # DDL, DML, UTILITY, or None when Athena omits it
    Column("state", String(16), nullable=False),  # SUCCEEDED, FAILED, CANCELLED
    Column("work_group", Text, nullable=False),
    Column("catalog", Text),
    Column("database", Text),
    Column("submitted_at", TS, nullable=False),
    Column("completed_at", TS),
    Column("day", Date, nullable=False),  # UTC date of submitted_at
    Column("data_scanned_bytes", BigInteger),
    Column("billed_bytes", BigInteger, nullable=False, default=0),
    Column("engine_ms", BigInteger),
    Column("error_message", Text),
    Column("source", String(16), nullable=False),  # user, athena_catalog, dbt
    Column("query_truncated", Boolean, nullable=False, default=False),
    # How the row was resolved into query_tables, query_joins and lineage_statements (see
    # athena_catalog.lineage.resolve): the parser version (None: not yet), the statement's
    # fingerprint and the digest of its tables' schemas (None when it is not parsed).
    Column("parser_version", String(16)),
    Column("fingerprint", String(64)),
    Column("schema_version", String(64)),
    Index("ix_query_history_day", "day"),
    Index("ix_query_history_wg_time", "work_group", "submitted_at"),
    Index("ix_query_history_resolution", "parser_version", "fingerprint", "schema_version"),
)

history_cursors = Table(
    "history_cursors",
    metadata,
    Column("engine", String(16), primary_key=True),
    Column("work_group", Text, primary_key=True),
    Column("submitted_at", TS, nullable=False),  # everything submitted before is stored
    Column("updated_at", TS, nullable=False),
)

# Records ingestion could not store, with why; ``query_id`` is None when even that was unusable.
history_rejects = Table(
    "history_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_id", Text),
    Column("work_group", Text),
    Column("reason", String(64), nullable=False),
    Column("detail", Text),
    Column("seen_at", TS, nullable=False),
    Column("run_id", String(64)),
)

query_tables = Table(
    "query_tables",
    metadata,
    Column("query_id", Text, primary_key=True),
    Column("table_fqn", Text, primary_key=True),
    Column("role", String(8), primary_key=True),  # read, write
    Column("fingerprint", String(40), nullable=False),
    Column("bytes_share", BigInteger, nullable=False, default=0),  # scanned bytes / tables read
    Column("billed_share", BigInteger, nullable=False, default=0),
    Index("ix_query_tables_table", "table_fqn", "role"),
)

query_joins = Table(
    "query_joins",
    metadata,
    Column("query_id", Text, primary_key=True),
    Column("left_fqn", Text, primary_key=True),
    Column("right_fqn", Text, primary_key=True),
    # One row per column pair the query equates in a join condition (the lineage parser's join
    # keys): "left_column = right_column", the columns of left_fqn and right_fqn.
    Column("columns", Text, primary_key=True),
)

# Column-level usage (README "Column-level usage"): which columns each read touched, and how,
# resolved through views and CTEs to base-table columns; aggregated per day like table usage.
query_columns = Table(
    "query_columns",
    metadata,
    Column("query_id", Text, primary_key=True),
    Column("table_fqn", Text, primary_key=True),
    Column("column_name", Text, primary_key=True),
    Column("selected", Boolean, nullable=False, default=False),
    Column("filtered", Boolean, nullable=False, default=False),
    Column("joined", Boolean, nullable=False, default=False),
    Column("grouped", Boolean, nullable=False, default=False),
    Column("ordered", Boolean, nullable=False, default=False),
    Index("ix_query_columns_table", "table_fqn"),
)

query_fingerprints = Table(
    "query_fingerprints",
    metadata,
    Column("fingerprint", String(40), primary_key=True),
    Column("normalized", Text, nullable=False),  # the query with literals and spacing folded
)

table_usage_daily = Table(
    "table_usage_daily",
    metadata,
    Column("table_fqn", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("read_count", Integer, nullable=False),
    Column("write_count", Integer, nullable=False),
    Column("work_groups", Integer, nullable=False),  # distinct work groups reading or writing
    Column("bytes_scanned", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("last_read_at", TS),
)

column_usage_daily = Table(
    "column_usage_daily",
    metadata,
    Column("table_fqn", Text, primary_key=True),
    Column("column_name", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("select_count", Integer, nullable=False),
    Column("filter_count", Integer, nullable=False),
    Column("join_count", Integer, nullable=False),
    Column("group_by_count", Integer, nullable=False),
    Column("order_by_count", Integer, nullable=False),
    Column("queries", Integer, nullable=False),  # distinct queries touching the column that day
)

table_usage_summary = Table(
    "table_usage_summary",
    metadata,
    Column("table_fqn", Text, primary_key=True),
    Column("window_days", Integer, nullable=False),
    Column("read_count", Integer, nullable=False),
    Column("write_count", Integer, nullable=False),
    Column("bytes_scanned", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("popularity_percentile", Float, nullable=False),  # 0..100, higher is more read
    Column("last_read_at", TS),
    Column("unused", Boolean, nullable=False),  # cataloged, not read within unused_days
    Column("size_bytes", BigInteger),  # from the table's parameters, where known
    Column("computed_at", TS, nullable=False),
)

# Frequently joined tables: queries in the window per table pair and join column pair.
table_joins = Table(
    "table_joins",
    metadata,
    Column("left_fqn", Text, primary_key=True),
    Column("right_fqn", Text, primary_key=True),
    Column("columns", Text, primary_key=True),  # "left_column = right_column"
    Column("query_count", Integer, nullable=False),
)

table_top_queries = Table(
    "table_top_queries",
    metadata,
    Column("table_fqn", Text, primary_key=True),
    Column("fingerprint", String(40), primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("query_count", Integer, nullable=False),
)

work_group_cost_daily = Table(
    "work_group_cost_daily",
    metadata,
    Column("work_group", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("queries", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("bytes_scanned", BigInteger, nullable=False),
    Column("billed_bytes", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
)


# -- lineage

_STATS = (
    Column("first_seen", TS),
    Column("last_seen", TS),
    Column("query_count", Integer, nullable=False, default=0),
    Column("example_query_id", Text),
)

lineage_table_edges = Table(
    "lineage_table_edges",
    metadata,
    Column("source_fqn", Text, primary_key=True),
    Column("target_fqn", Text, primary_key=True),
    Column("kind", String(16), primary_key=True),  # query, view, s3 (later dbt)
    *(c.copy() for c in _STATS),
    Index("ix_lineage_table_edges_target", "target_fqn"),
)

lineage_column_edges = Table(
    "lineage_column_edges",
    metadata,
    Column("source_table_fqn", Text, primary_key=True),
    Column("source_column", Text, primary_key=True),
    Column("target_table_fqn", Text, primary_key=True),
    Column("target_column", Text, primary_key=True),
    Column("kind", String(16), primary_key=True),
    *(c.copy() for c in _STATS),
    Index("ix_lineage_column_edges_target", "target_table_fqn"),
)

lineage_parse_cache = Table(
    "lineage_parse_cache",
    metadata,
    Column("fingerprint", String(64), primary_key=True),  # includes the parser version
    Column("schema_version", String(64), nullable=False),  # digest of the touched tables' schemas
    Column("tables", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("parsed_at", TS, nullable=False),
)

lineage_statements = Table(
    "lineage_statements",
    metadata,
    Column("query_id", Text, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("outcome", Text, nullable=False),  # "ok", "no lineage", or why it was not analysed
    Column("analysed_at", TS, nullable=False),
    Column("submitted_at", TS),  # the execution's, kept past the history's retention
    # False once re-resolved: its edges are then recounted from the parse cache.
    Column("counted", Boolean, nullable=False, default=True, server_default=true()),
)


# -- data quality (README "Data quality"): one row per check evaluation, never overwritten

quality_results = Table(
    "quality_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_fqn", Text, nullable=False),
    Column("check_name", Text, nullable=False),
    Column("test_definition", Text, nullable=False),  # OpenMetadata's name, or the GX expectation
    Column("column_name", Text),
    Column("evaluated_at", TS, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("severity", String(8), nullable=False),  # error, warn
    Column("observed_value", JSON),
    Column("element_count", BigInteger),
    Column("unexpected_count", BigInteger),
    Column("unexpected_percent", Float),
    Column("sample", JSON),  # capped unexpected values, failures only
    Column("error", Text),  # why the check's SQL failed; passed is then False
    Column("bytes_scanned", BigInteger),
    Column("statement_ids", JSON),
    Column("run_id", Text),
    Index("ix_quality_results_check", "table_fqn", "check_name", "evaluated_at"),
)


# -- profiler (README "Profiler"): time series, never overwritten

table_profiles = Table(
    "table_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_fqn", Text, nullable=False),
    Column("profiled_at", TS, nullable=False),
    Column("row_count", BigInteger),
    Column("column_count", Integer),
    Column("size_bytes", BigInteger),
    Column("last_modified", TS),
    Column("sample_type", String(16)),  # PERCENTAGE, ROWS, or NULL for the whole table
    Column("sample_value", Float),
    Column("partition_predicate", Text),
    Column("statements", Integer, nullable=False, default=0),
    Column("estimated_bytes", BigInteger),  # the cost guard's estimate before the scan
    Column("bytes_scanned", BigInteger),
    Column("cost_usd", Float),
    Column("error", Text),  # why the profile failed or was skipped
    Column("run_id", Text),
    Index("ix_table_profiles_table", "table_fqn", "profiled_at"),
)

column_profiles = Table(
    "column_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("profile_id", Integer, nullable=False),  # its table_profiles row
    Column("table_fqn", Text, nullable=False),
    Column("column_name", Text, nullable=False),  # struct leaves as parent.child
    Column("profiled_at", TS, nullable=False),
    Column("data_type", Text),
    Column("values_count", BigInteger),
    Column("null_count", BigInteger),
    Column("null_proportion", Float),
    Column("distinct_count", BigInteger),
    Column("distinct_proportion", Float),
    Column("unique_count", BigInteger),  # opt-in
    Column("duplicate_count", BigInteger),  # opt-in
    Column("min", JSON),  # keeps the value's type: number, string, date as ISO text
    Column("max", JSON),
    Column("mean", Float),
    Column("sum", Float),
    Column("stddev", Float),
    Column("median", Float),
    Column("first_quartile", Float),
    Column("third_quartile", Float),
    Column("inter_quartile_range", Float),
    Column("non_parametric_skew", Float),
    Column("min_length", Integer),
    Column("max_length", Integer),
    Column("histogram", JSON),  # opt-in
    Index("ix_column_profiles_table", "table_fqn", "profiled_at"),
    Index("ix_column_profiles_profile", "profile_id"),
)


# -- dbt (README "dbt"): the last applied artifact set per project, and test results over time

dbt_projects = Table(
    "dbt_projects",
    metadata,
    Column("project", Text, primary_key=True),  # dbt's project name
    Column("target", Text, nullable=False),  # where the artifacts were read from
    Column("digest", String(64), nullable=False),  # of the artifact set (unchanged: not re-applied)
    Column("manifest_version", String(16), nullable=False),
    Column("adapter_type", Text),
    Column("invocation_id", Text),
    Column("generated_at", TS),
    Column("applied_at", TS, nullable=False),
)

dbt_nodes = Table(
    "dbt_nodes",
    metadata,
    Column("project", Text, primary_key=True),
    Column("unique_id", Text, primary_key=True),
    Column("resource_type", String(16), nullable=False),  # model, seed, snapshot, source, test
    Column("package", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("relation", Text),  # catalog.database.table as dbt names it
    Column("table_fqn", Text),  # the catalog table it maps to; NULL when not in the catalog
    Column("description", Text),
    Column("tags", JSON, nullable=False),
    Column("owners", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("materialization", String(32)),
    Column("raw_code", Text),
    Column("compiled_code", Text),
    Column("depends_on", JSON, nullable=False),
    Column("attached_node", Text),  # tests: the node they test
    Column("column_name", Text),  # tests: the column they test
    Column("test_name", Text),  # tests: generic test name (unique, not_null, ...)
    Index("ix_dbt_nodes_table", "table_fqn"),
)

dbt_columns = Table(
    "dbt_columns",
    metadata,
    Column("project", Text, primary_key=True),
    Column("unique_id", Text, primary_key=True),
    Column("column_name", Text, primary_key=True),
    Column("description", Text),
    Column("data_type", Text),
    Column("tags", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
)

dbt_test_results = Table(
    "dbt_test_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", Text, nullable=False),
    Column("test_unique_id", Text, nullable=False),
    Column("table_fqn", Text),
    Column("column_name", Text),
    Column("invocation_id", Text, nullable=False),
    Column("evaluated_at", TS, nullable=False),
    Column("status", String(16), nullable=False),  # pass, fail, warn, error, skipped
    Column("passed", Boolean),  # NULL when skipped
    Column("failures", BigInteger),
    Column("message", Text),
    Column("execution_time", Float),
    Column("compiled_code", Text),
    Index("ix_dbt_test_results_test", "project", "test_unique_id", "evaluated_at"),
)
