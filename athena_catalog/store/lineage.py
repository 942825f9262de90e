"""The lineage tables of the catalog store, and reading and writing them.

Edges are aggregated over every statement ever analysed: a statement's query id, fingerprint
and time are recorded in ``lineage_statements`` once analysed, so each run only adds history
it has not seen and lineage outlives the history table's retention. A statement resolved
again (new parser, changed schema) is marked not ``counted``; the edges are then recounted
from ``lineage_statements`` and the parse cache. View edges are recomputed from the current
view definitions on every run. ``lineage_parse_cache`` keeps one parse per statement
fingerprint across runs, valid while the schemas of the tables it touches are unchanged; it
is the one cache usage and lineage both parse through (:mod:`athena_catalog.lineage.resolve`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from athena_catalog.batching import chunks
from athena_catalog.store.schema import (
    catalog_columns,
    catalog_tables,
    lineage_column_edges,
    lineage_parse_cache,
    lineage_statements,
    lineage_table_edges,
)

EDGE_KEYS = {
    lineage_table_edges: ("source_fqn", "target_fqn", "kind"),
    lineage_column_edges: (
        "source_table_fqn",
        "source_column",
        "target_table_fqn",
        "target_column",
        "kind",
    ),
}


@dataclass
class EdgeStats:
    """Provenance of one edge: when it was first and last seen, how often, and an example."""

    first_seen: datetime | None
    last_seen: datetime | None
    query_count: int = 0
    example_query_id: str | None = None

    def add(self, other: EdgeStats) -> None:
        if other.first_seen and (not self.first_seen or other.first_seen < self.first_seen):
            self.first_seen = other.first_seen
        if other.last_seen and (not self.last_seen or other.last_seen >= self.last_seen):
            self.last_seen = other.last_seen
            self.example_query_id = other.example_query_id or self.example_query_id
        self.query_count += other.query_count


Edges = dict[tuple[str, ...], EdgeStats]


# -- the crawled catalog, as lineage needs it


def read_schema(conn: Connection) -> dict[str, dict[str, str]]:
    """``{table fqn: {column: type}}`` of every live table, columns in Athena's order."""
    rows = conn.execute(
        select(catalog_columns.c.table_fqn, catalog_columns.c.name, catalog_columns.c.data_type)
        .join(catalog_tables, catalog_tables.c.fqn == catalog_columns.c.table_fqn)
        .where(catalog_tables.c.deleted.is_(False))
        .order_by(catalog_columns.c.table_fqn, catalog_columns.c.ordinal)
    )
    schema: dict[str, dict[str, str]] = {}
    for fqn, name, data_type in rows:
        schema.setdefault(fqn, {})[name.lower()] = data_type
    return schema


@dataclass(frozen=True)
class ViewDefinition:
    fqn: str
    catalog: str
    database: str
    name: str
    sql: str
    first_seen: datetime
    last_seen: datetime


def read_views(conn: Connection) -> list[ViewDefinition]:
    rows = conn.execute(
        select(
            catalog_tables.c.fqn,
            catalog_tables.c.catalog,
            catalog_tables.c.database,
            catalog_tables.c.name,
            catalog_tables.c.view_sql,
            catalog_tables.c.first_seen,
            catalog_tables.c.last_seen,
        ).where(catalog_tables.c.deleted.is_(False), catalog_tables.c.view_sql.is_not(None))
    )
    return [ViewDefinition(*row) for row in rows]


# -- the parse cache


def read_cache(conn: Connection, fingerprints: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Cached rows by fingerprint: ``schema_version``, ``tables`` and ``result``."""
    wanted = list(fingerprints)
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunks(wanted, 500):
        rows = conn.execute(
            select(lineage_parse_cache).where(lineage_parse_cache.c.fingerprint.in_(chunk))
        )
        for row in rows.mappings():
            out[row["fingerprint"]] = dict(row)
    return out


def cache_tables(conn: Connection, fingerprints: Iterable[str]) -> dict[str, list[str]]:
    """The tables each cached parse touched (what its schema digest covers), by fingerprint."""
    c = lineage_parse_cache.c
    out: dict[str, list[str]] = {}
    for chunk in chunks(list(fingerprints), 500):
        rows = conn.execute(select(c.fingerprint, c.tables).where(c.fingerprint.in_(chunk)))
        out.update((fp, tables) for fp, tables in rows)
    return out


def write_cache(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace cache rows (``fingerprint``, ``schema_version``, ``tables``,
    ``result``, ``parsed_at``)."""
    for chunk in chunks(rows, 500):
        conn.execute(
            delete(lineage_parse_cache).where(
                lineage_parse_cache.c.fingerprint.in_([r["fingerprint"] for r in chunk])
            )
        )
        conn.execute(insert(lineage_parse_cache), chunk)


# -- statements and edges


def record_statements(conn: Connection, rows: list[dict[str, Any]]) -> None:
    for chunk in chunks(rows, 1000):
        conn.execute(insert(lineage_statements), chunk)


def restate(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Statements analysed again: their new fingerprint and outcome, not ``counted`` until
    the edges are recounted (their old parse is still in them)."""
    if rows:
        s = lineage_statements.c
        conn.execute(
            update(lineage_statements)
            .where(s.query_id == bindparam("qid"))
            .values(
                fingerprint=bindparam("fp"),
                outcome=bindparam("o"),
                analysed_at=bindparam("at"),
                counted=False,
            ),
            [
                {"qid": r["query_id"], "fp": r["fingerprint"], "o": r["outcome"]}
                | {"at": r["analysed_at"]}
                for r in rows
            ],
        )


def needs_recount(conn: Connection) -> bool:
    s = lineage_statements.c
    return conn.execute(select(s.query_id).where(s.counted.is_(False)).limit(1)).first() is not None


@dataclass(frozen=True)
class FingerprintStats:
    """The statements of one fingerprint, together: their edges' provenance."""

    fingerprint: str
    statements: int
    first_seen: datetime | None
    last_seen: datetime | None
    example_query_id: str | None


def fingerprint_stats(conn: Connection) -> list[FingerprintStats]:
    """Per fingerprint: how many statements, first and last seen, and the latest one's id
    (the greatest among equally late ones, as adding them in order would pick)."""
    s = lineage_statements.c
    groups = (
        select(
            s.fingerprint,
            func.count().label("n"),
            func.min(s.submitted_at).label("first"),
            func.max(s.submitted_at).label("last"),
        )
        .group_by(s.fingerprint)
        .subquery()
    )
    latest = dict(
        conn.execute(
            select(s.fingerprint, func.max(s.query_id))
            .join(
                groups,
                and_(groups.c.fingerprint == s.fingerprint, groups.c.last == s.submitted_at),
            )
            .group_by(s.fingerprint)
        ).all()
    )
    return [
        FingerprintStats(fp, n, first, last, latest.get(fp))
        for fp, n, first, last in conn.execute(select(groups))
    ]


# Edges no statement or view made: dbt's, recomputed from the stored dbt nodes on each apply
# (athena_catalog.dbt.ingest). A recount or full refresh of history keeps them.
KEPT_KINDS = ("dbt",)


def clear_edges(conn: Connection) -> None:
    for table in (lineage_table_edges, lineage_column_edges):
        conn.execute(delete(table).where(table.c.kind.not_in(KEPT_KINDS)))


def mark_counted(conn: Connection) -> None:
    conn.execute(
        update(lineage_statements)
        .where(lineage_statements.c.counted.is_(False))
        .values(counted=True)
    )


def analysed(conn: Connection, query_ids: Iterable[str]) -> set[str]:
    """Which of ``query_ids`` are recorded as analysed. Read inside the write transaction
    that would record them: a concurrent run may have analysed them since they were read."""
    found: set[str] = set()
    for chunk in chunks(list(query_ids), 500):
        found.update(
            conn.execute(
                select(lineage_statements.c.query_id).where(
                    lineage_statements.c.query_id.in_(chunk)
                )
            ).scalars()
        )
    return found


def statement_outcomes(conn: Connection) -> dict[str, int]:
    """How many statements were analysed, by outcome, over all runs."""
    rows = conn.execute(
        select(lineage_statements.c.outcome, func.count()).group_by(lineage_statements.c.outcome)
    )
    return {outcome: n for outcome, n in rows}


def merge_edges(conn: Connection, table: Table, edges: Edges) -> None:
    """Add ``edges`` to the stored ones: counts add up, first/last seen widen.

    One upsert per edge (``INSERT ... ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike)
    through the primary key: a merge costs what it adds, never a read of the stored edges of
    popular source tables, which grew with the graph.
    """
    if not edges:
        return
    keys = EDGE_KEYS[table]
    rows = [{**dict(zip(keys, key, strict=True)), **vars(stats)} for key, stats in edges.items()]
    upsert = (postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
    new, old = upsert.excluded, table.c
    later = and_(
        new.last_seen.is_not(None), or_(old.last_seen.is_(None), new.last_seen >= old.last_seen)
    )
    earlier = and_(
        new.first_seen.is_not(None), or_(old.first_seen.is_(None), new.first_seen < old.first_seen)
    )
    statement = upsert.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            "query_count": old.query_count + new.query_count,
            "first_seen": case((earlier, new.first_seen), else_=old.first_seen),
            "last_seen": case((later, new.last_seen), else_=old.last_seen),
            "example_query_id": case(
                (later, func.coalesce(new.example_query_id, old.example_query_id)),
                else_=old.example_query_id,
            ),
        },
    )
    for chunk in chunks(rows, 1000):
        conn.execute(statement, chunk)


def replace_edges(conn: Connection, table: Table, kind: str, edges: Edges) -> None:
    """Replace every edge of one kind (views are recomputed, not accumulated)."""
    conn.execute(delete(table).where(table.c.kind == kind))
    merge_edges(conn, table, edges)


def read_edges(
    conn: Connection,
    table: Table,
    kinds: set[str] | None = None,
    sources: set[str] | None = None,
) -> Edges:
    """Stored edges, optionally only those of these kinds and out of these source tables."""
    keys = EDGE_KEYS[table]
    query = select(table)
    if kinds is not None:
        query = query.where(table.c.kind.in_(sorted(kinds)))
    groups = [None] if sources is None else list(chunks(sorted(sources), 500))
    out: Edges = {}
    for group in groups:
        some = query if group is None else query.where(table.c[keys[0]].in_(group))
        for row in conn.execute(some).mappings():
            out[tuple(row[k] for k in keys)] = EdgeStats(
                row["first_seen"], row["last_seen"], row["query_count"], row["example_query_id"]
            )
    return out


def clear_lineage(conn: Connection) -> None:
    """Forget every edge of history and views and every analysed statement (a full refresh);
    the parse cache and dbt's edges stay."""
    clear_edges(conn)
    conn.execute(delete(lineage_statements))


__all__ = [
    "EdgeStats",
    "Edges",
    "FingerprintStats",
    "ViewDefinition",
    "analysed",
    "cache_tables",
    "clear_edges",
    "clear_lineage",
    "fingerprint_stats",
    "lineage_column_edges",
    "lineage_parse_cache",
    "lineage_statements",
    "lineage_table_edges",
    "mark_counted",
    "merge_edges",
    "needs_recount",
    "read_cache",
    "read_edges",
    "read_schema",
    "read_views",
    "record_statements",
    "replace_edges",
    "restate",
    "statement_outcomes",
    "write_cache",
]
