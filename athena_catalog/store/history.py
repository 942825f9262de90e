"""Writing query history and usage: the dialect's upsert every concurrent writer relies on.

The tables are defined in :mod:`athena_catalog.store.schema` and re-exported here, where the
usage code has always imported them from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

from athena_catalog.store.schema import (
    history_cursors,
    history_rejects,
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


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which has ON CONFLICT: rows may already be there when runs
    overlap or re-read, and both SQLite and PostgreSQL can skip or update them in place."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)


__all__ = [
    "dialect_insert",
    "history_cursors",
    "history_rejects",
    "query_fingerprints",
    "query_history",
    "query_joins",
    "query_tables",
    "table_joins",
    "table_top_queries",
    "table_usage_daily",
    "table_usage_summary",
    "work_group_cost_daily",
]
