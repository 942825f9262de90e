"""Store tables of query history and usage, on the shared ``metadata``.

``query_history`` keeps every field Athena reports (OpenMetadata's usage keeps few), plus what
ingestion derives once: ``source`` (user, athena_catalog, dbt), ``day`` (UTC date, so usage
groups by day the same way on SQLite and PostgreSQL) and ``billed_bytes`` (Athena's billing
rule, see ``athena_catalog.usage.ingest.billed_bytes``). ``history_cursors`` holds, per engine
and work group, the submission time up to which history is completely stored; it is written
in the same transaction as the rows it covers.

``query_tables`` is the resolved read/write set of each query (from the lineage parser), the
one input every usage aggregate is computed from in SQL, and ``query_joins`` its join keys;
the remaining tables are the aggregates, rebuilt over the usage window on each
``table_usage`` run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from athena_catalog.store.schema import TS, metadata

query_history = Table(
    "query_history",
    metadata,
    Column("query_id", String(128), primary_key=True),
    Column("query", Text, nullable=False),
    Column("statement_type", String(16)),  # DDL, DML, UTILITY, or None when Athena omits it
    Column("state", String(16), nullable=False),  # SUCCEEDED, FAILED, CANCELLED
    Column("work_group", String(128), nullable=False),
    Column("catalog", String(255)),
    Column("database", String(255)),
    Column("submitted_at", TS, nullable=False),
    Column("completed_at", TS),
    Column("day", Date, nullable=False),  # UTC date of submitted_at
    Column("data_scanned_bytes", BigInteger),
    Column("billed_bytes", BigInteger, nullable=False, default=0),
    Column("engine_ms", BigInteger),
    Column("error_message", Text),
    Column("source", String(16), nullable=False),  # user, athena_catalog, dbt
    Column("query_truncated", Boolean, nullable=False, default=False),
    Column("resolved", Boolean, nullable=False, default=False),  # query_tables filled in
    Index("ix_query_history_day", "day"),
    Index("ix_query_history_wg_time", "work_group", "submitted_at"),
    Index("ix_query_history_unresolved", "resolved"),
)

history_cursors = Table(
    "history_cursors",
    metadata,
    Column("engine", String(16), primary_key=True),
    Column("work_group", String(128), primary_key=True),
    Column("submitted_at", TS, nullable=False),  # everything submitted before is stored
    Column("updated_at", TS, nullable=False),
)

# Records ingestion could not store, with why; ``query_id`` is None when even that was unusable.
history_rejects = Table(
    "history_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_id", String(128)),
    Column("work_group", String(128)),
    Column("reason", String(64), nullable=False),
    Column("detail", Text),
    Column("seen_at", TS, nullable=False),
    Column("run_id", String(64)),
)

query_tables = Table(
    "query_tables",
    metadata,
    Column("query_id", String(128), primary_key=True),
    Column("table_fqn", String(768), primary_key=True),
    Column("role", String(8), primary_key=True),  # read, write
    Column("fingerprint", String(40), nullable=False),
    Column("bytes_share", BigInteger, nullable=False, default=0),  # scanned bytes / tables read
    Column("billed_share", BigInteger, nullable=False, default=0),
    Index("ix_query_tables_table", "table_fqn", "role"),
)

query_joins = Table(
    "query_joins",
    metadata,
    Column("query_id", String(128), primary_key=True),
    Column("left_fqn", String(768), primary_key=True),
    Column("right_fqn", String(768), primary_key=True),
    # One row per column pair the query equates in a join condition (the lineage parser's join
    # keys): "left_column = right_column", the columns of left_fqn and right_fqn. "" was the
    # co-read approximation of stores resolved before join keys; resolve() replaces them.
    Column("columns", Text, primary_key=True),
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
    Column("table_fqn", String(768), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("read_count", Integer, nullable=False),
    Column("write_count", Integer, nullable=False),
    Column("work_groups", Integer, nullable=False),  # distinct work groups reading or writing
    Column("bytes_scanned", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("last_read_at", TS),
)

table_usage_summary = Table(
    "table_usage_summary",
    metadata,
    Column("table_fqn", String(768), primary_key=True),
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
    Column("left_fqn", String(768), primary_key=True),
    Column("right_fqn", String(768), primary_key=True),
    Column("columns", Text, primary_key=True),  # "left_column = right_column"
    Column("query_count", Integer, nullable=False),
)

table_top_queries = Table(
    "table_top_queries",
    metadata,
    Column("table_fqn", String(768), primary_key=True),
    Column("fingerprint", String(40), primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("query_count", Integer, nullable=False),
)

work_group_cost_daily = Table(
    "work_group_cost_daily",
    metadata,
    Column("work_group", String(128), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("queries", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("bytes_scanned", BigInteger, nullable=False),
    Column("billed_bytes", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
)


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which has ON CONFLICT: rows may already be there when runs
    overlap or re-read, and both SQLite and PostgreSQL can skip or update them in place."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)
