"""The store's schema as athena-catalog created it before Alembic.

Stores created by that code (``metadata.create_all`` on every write, no version table) are
at this revision: the tables are created only where missing, exactly as that code did, so
the upgrade from a pre-Alembic store starts here. Frozen: never edit this file; change the
schema in a new revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_meta = sa.MetaData()

sa.Table(
    "catalog_catalogs",
    _meta,
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("display_name", sa.String(length=255), nullable=False),
    sa.Column("catalog_type", sa.String(length=32), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("parameters", sa.JSON(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("name"),
)
sa.Table(
    "catalog_columns",
    _meta,
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("ordinal", sa.Integer(), nullable=False),
    sa.Column("data_type", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("is_partition_key", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("table_fqn", "name"),
)
sa.Table(
    "catalog_schemas",
    _meta,
    sa.Column("fqn", sa.String(length=512), nullable=False),
    sa.Column("catalog", sa.String(length=255), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("location", sa.Text(), nullable=True),
    sa.Column("parameters", sa.JSON(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("fqn"),
)
sa.Table(
    "catalog_tables",
    _meta,
    sa.Column("fqn", sa.String(length=768), nullable=False),
    sa.Column("catalog", sa.String(length=255), nullable=False),
    sa.Column("database", sa.String(length=255), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("table_type", sa.String(length=32), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("location", sa.Text(), nullable=True),
    sa.Column("storage_format", sa.String(length=64), nullable=True),
    sa.Column("view_sql", sa.Text(), nullable=True),
    sa.Column("owner", sa.String(length=255), nullable=True),
    sa.Column("parameters", sa.JSON(), nullable=False),
    sa.Column("tags", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("fqn"),
)
sa.Index(
    "ix_catalog_tables_schema",
    *(
        _meta.tables["catalog_tables"].c[c]
        for c in (
            "catalog",
            "database",
        )
    ),
)
sa.Table(
    "crawl_runs",
    _meta,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("run_id", sa.String(length=64), nullable=True),
    sa.Column("engine", sa.String(length=16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "history_cursors",
    _meta,
    sa.Column("engine", sa.String(length=16), nullable=False),
    sa.Column("work_group", sa.String(length=128), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("engine", "work_group"),
)
sa.Table(
    "history_rejects",
    _meta,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("query_id", sa.String(length=128), nullable=True),
    sa.Column("work_group", sa.String(length=128), nullable=True),
    sa.Column("reason", sa.String(length=64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "lineage_column_edges",
    _meta,
    sa.Column("source_table_fqn", sa.String(length=1024), nullable=False),
    sa.Column("source_column", sa.String(length=255), nullable=False),
    sa.Column("target_table_fqn", sa.String(length=1024), nullable=False),
    sa.Column("target_column", sa.String(length=255), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("query_count", sa.Integer(), nullable=False),
    sa.Column("example_query_id", sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint(
        "source_table_fqn", "source_column", "target_table_fqn", "target_column", "kind"
    ),
)
sa.Index(
    "ix_lineage_column_edges_target",
    *(_meta.tables["lineage_column_edges"].c[c] for c in ("target_table_fqn",)),
)
sa.Table(
    "lineage_parse_cache",
    _meta,
    sa.Column("fingerprint", sa.String(length=64), nullable=False),
    sa.Column("schema_version", sa.String(length=64), nullable=False),
    sa.Column("tables", sa.JSON(), nullable=False),
    sa.Column("result", sa.JSON(), nullable=False),
    sa.Column("parsed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("fingerprint"),
)
sa.Table(
    "lineage_statements",
    _meta,
    sa.Column("query_id", sa.String(length=128), nullable=False),
    sa.Column("fingerprint", sa.String(length=64), nullable=False),
    sa.Column("outcome", sa.Text(), nullable=False),
    sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("query_id"),
)
sa.Table(
    "lineage_table_edges",
    _meta,
    sa.Column("source_fqn", sa.String(length=1024), nullable=False),
    sa.Column("target_fqn", sa.String(length=1024), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
    sa.Column("query_count", sa.Integer(), nullable=False),
    sa.Column("example_query_id", sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint("source_fqn", "target_fqn", "kind"),
)
sa.Index(
    "ix_lineage_table_edges_target",
    *(_meta.tables["lineage_table_edges"].c[c] for c in ("target_fqn",)),
)
sa.Table(
    "query_fingerprints",
    _meta,
    sa.Column("fingerprint", sa.String(length=40), nullable=False),
    sa.Column("normalized", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("fingerprint"),
)
sa.Table(
    "query_history",
    _meta,
    sa.Column("query_id", sa.String(length=128), nullable=False),
    sa.Column("query", sa.Text(), nullable=False),
    sa.Column("statement_type", sa.String(length=16), nullable=True),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("work_group", sa.String(length=128), nullable=False),
    sa.Column("catalog", sa.String(length=255), nullable=True),
    sa.Column("database", sa.String(length=255), nullable=True),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("data_scanned_bytes", sa.BigInteger(), nullable=True),
    sa.Column("billed_bytes", sa.BigInteger(), nullable=False),
    sa.Column("engine_ms", sa.BigInteger(), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("query_truncated", sa.Boolean(), nullable=False),
    sa.Column("resolved", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("query_id"),
)
sa.Index("ix_query_history_day", *(_meta.tables["query_history"].c[c] for c in ("day",)))
sa.Index(
    "ix_query_history_unresolved", *(_meta.tables["query_history"].c[c] for c in ("resolved",))
)
sa.Index(
    "ix_query_history_wg_time",
    *(
        _meta.tables["query_history"].c[c]
        for c in (
            "work_group",
            "submitted_at",
        )
    ),
)
sa.Table(
    "query_joins",
    _meta,
    sa.Column("query_id", sa.String(length=128), nullable=False),
    sa.Column("left_fqn", sa.String(length=768), nullable=False),
    sa.Column("right_fqn", sa.String(length=768), nullable=False),
    sa.Column("columns", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("query_id", "left_fqn", "right_fqn", "columns"),
)
sa.Table(
    "query_tables",
    _meta,
    sa.Column("query_id", sa.String(length=128), nullable=False),
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("role", sa.String(length=8), nullable=False),
    sa.Column("fingerprint", sa.String(length=40), nullable=False),
    sa.Column("bytes_share", sa.BigInteger(), nullable=False),
    sa.Column("billed_share", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("query_id", "table_fqn", "role"),
)
sa.Index(
    "ix_query_tables_table",
    *(
        _meta.tables["query_tables"].c[c]
        for c in (
            "table_fqn",
            "role",
        )
    ),
)
sa.Table(
    "schema_changes",
    _meta,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("change", sa.String(length=32), nullable=False),
    sa.Column("column_name", sa.String(length=255), nullable=True),
    sa.Column("old_type", sa.Text(), nullable=True),
    sa.Column("new_type", sa.Text(), nullable=True),
    sa.Column("run_id", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index(
    "ix_schema_changes_table_fqn", *(_meta.tables["schema_changes"].c[c] for c in ("table_fqn",))
)
sa.Table(
    "table_joins",
    _meta,
    sa.Column("left_fqn", sa.String(length=768), nullable=False),
    sa.Column("right_fqn", sa.String(length=768), nullable=False),
    sa.Column("columns", sa.Text(), nullable=False),
    sa.Column("query_count", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("left_fqn", "right_fqn", "columns"),
)
sa.Table(
    "table_top_queries",
    _meta,
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("fingerprint", sa.String(length=40), nullable=False),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.Column("query_count", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("table_fqn", "fingerprint"),
)
sa.Table(
    "table_usage_daily",
    _meta,
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("read_count", sa.Integer(), nullable=False),
    sa.Column("write_count", sa.Integer(), nullable=False),
    sa.Column("work_groups", sa.Integer(), nullable=False),
    sa.Column("bytes_scanned", sa.BigInteger(), nullable=False),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("table_fqn", "day"),
)
sa.Table(
    "table_usage_summary",
    _meta,
    sa.Column("table_fqn", sa.String(length=768), nullable=False),
    sa.Column("window_days", sa.Integer(), nullable=False),
    sa.Column("read_count", sa.Integer(), nullable=False),
    sa.Column("write_count", sa.Integer(), nullable=False),
    sa.Column("bytes_scanned", sa.BigInteger(), nullable=False),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.Column("popularity_percentile", sa.Float(), nullable=False),
    sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("unused", sa.Boolean(), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("table_fqn"),
)
sa.Table(
    "work_group_cost_daily",
    _meta,
    sa.Column("work_group", sa.String(length=128), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("queries", sa.Integer(), nullable=False),
    sa.Column("failed", sa.Integer(), nullable=False),
    sa.Column("bytes_scanned", sa.BigInteger(), nullable=False),
    sa.Column("billed_bytes", sa.BigInteger(), nullable=False),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("work_group", "day"),
)


def upgrade() -> None:
    _meta.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _meta.drop_all(op.get_bind())
