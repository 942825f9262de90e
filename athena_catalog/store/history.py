"""Writing query history and usage: the dialect's upsert every concurrent writer relies on,
and what each history row was resolved under (read and written by
:mod:`athena_catalog.lineage.resolve`, the one parse pipeline of usage and lineage).

The tables are defined in :mod:`athena_catalog.store.schema` and re-exported here, where the
usage code has always imported them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update

from athena_catalog.store.schema import (
    column_usage_daily,
    history_cursors,
    history_rejects,
    query_columns,
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


def unresolved(version: str) -> Any:
    """Rows not resolved under parser ``version``: never resolved, or by another parser."""
    h = query_history.c
    return or_(h.parser_version.is_(None), h.parser_version != version)


def resolutions(conn: Connection, version: str) -> list[tuple[str, str]]:
    """The distinct ``(fingerprint, schema_version)`` pairs rows of ``version`` were parsed
    under: what a schema change can make stale."""
    h = query_history.c
    rows = conn.execute(
        select(h.fingerprint, h.schema_version)
        .where(h.parser_version == version, h.fingerprint.is_not(None))
        .distinct()
    )
    return [(fp, sv) for fp, sv in rows]


def unresolve(conn: Connection, version: str, stale: Sequence[tuple[str, str | None]]) -> None:
    """Mark the rows parsed as one of the ``stale`` ``(fingerprint, schema_version)`` pairs
    unresolved, so the next resolution parses them again."""
    h = query_history.c
    if stale:
        conn.execute(
            update(query_history)
            .where(
                h.parser_version == version,
                h.fingerprint == bindparam("fp"),
                h.schema_version == bindparam("sv"),
            )
            .values(parser_version=None),
            [{"fp": fp, "sv": sv} for fp, sv in stale],
        )


def unresolve_all(conn: Connection) -> None:
    conn.execute(update(query_history).values(parser_version=None))


def resolved_already(conn: Connection, query_ids: list[str], version: str) -> set[str]:
    """Which of ``query_ids`` are resolved under ``version``. Read inside the write transaction
    that would resolve them: a concurrent run may have done it since they were read."""
    h = query_history.c
    found: set[str] = set()
    for start in range(0, len(query_ids), 500):
        chunk = query_ids[start : start + 500]
        # Look the ids up by primary key and compare the version here: with the version in
        # the WHERE clause SQLite picks the version index and scans every row already
        # resolved, once per chunk - resolving grew with the square of the history.
        rows = conn.execute(select(h.query_id, h.parser_version).where(h.query_id.in_(chunk)))
        found.update(query_id for query_id, resolved in rows if resolved == version)
    return found


def replace_usage(
    conn: Connection,
    query_ids: Iterable[str],
    tables: list[dict[str, Any]],
    joins: list[dict[str, Any]],
    shapes: dict[str, str],
    columns: list[dict[str, Any]],
) -> None:
    """Replace the read/write sets, join keys and columns read of ``query_ids`` (resolved
    again or for the first time) and add the normalized text of new fingerprints."""
    ids = list(query_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for table in (query_tables, query_joins, query_columns):
            conn.execute(delete(table).where(table.c.query_id.in_(chunk)))
    if tables:
        conn.execute(dialect_insert(conn, query_tables).on_conflict_do_nothing(), tables)
    if joins:
        conn.execute(dialect_insert(conn, query_joins).on_conflict_do_nothing(), joins)
    if columns:
        conn.execute(insert(query_columns), columns)
    if shapes:
        conn.execute(
            dialect_insert(conn, query_fingerprints).on_conflict_do_nothing(),
            [{"fingerprint": k, "normalized": v} for k, v in shapes.items()],
        )


def mark_resolved(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Record ``parser_version``, ``fingerprint`` and ``schema_version`` per ``query_id``."""
    if rows:
        conn.execute(
            update(query_history)
            .where(query_history.c.query_id == bindparam("qid"))
            .values(
                parser_version=bindparam("v"),
                fingerprint=bindparam("fp"),
                schema_version=bindparam("sv"),
            ),
            [
                {"qid": r["query_id"], "v": r["parser_version"]}
                | {"fp": r["fingerprint"], "sv": r["schema_version"]}
                for r in rows
            ],
        )


__all__ = [
    "column_usage_daily",
    "dialect_insert",
    "history_cursors",
    "history_rejects",
    "mark_resolved",
    "query_columns",
    "query_fingerprints",
    "query_history",
    "query_joins",
    "query_tables",
    "replace_usage",
    "resolutions",
    "resolved_already",
    "table_joins",
    "table_top_queries",
    "table_usage_daily",
    "table_usage_summary",
    "unresolve",
    "unresolve_all",
    "unresolved",
    "work_group_cost_daily",
]
