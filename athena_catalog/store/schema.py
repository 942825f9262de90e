"""The catalog store's tables. The README's "Catalog store schema" section documents them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Timestamps are timezone-aware UTC everywhere.
TS = DateTime(timezone=True)

catalog_catalogs = Table(
    "catalog_catalogs",
    metadata,
    Column("name", String(255), primary_key=True),  # lower case
    Column("display_name", String(255), nullable=False),
    Column("catalog_type", String(32), nullable=False),
    Column("description", Text),
    Column("parameters", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
)

catalog_schemas = Table(
    "catalog_schemas",
    metadata,
    Column("fqn", String(512), primary_key=True),  # catalog.database, lower case
    Column("catalog", String(255), nullable=False),
    Column("name", String(255), nullable=False),
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
    Column("fqn", String(768), primary_key=True),  # catalog.database.table, lower case
    Column("catalog", String(255), nullable=False),
    Column("database", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("table_type", String(32), nullable=False),
    Column("description", Text),
    Column("location", Text),
    Column("storage_format", String(64)),
    Column("view_sql", Text),
    Column("owner", String(255)),
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
    Column("table_fqn", String(768), primary_key=True),
    Column("name", String(255), primary_key=True),
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
    Column("table_fqn", String(768), nullable=False, index=True),
    # table_created, table_deleted, table_restored, column_added, column_removed,
    # column_type_changed
    Column("change", String(32), nullable=False),
    Column("column_name", String(255)),
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
