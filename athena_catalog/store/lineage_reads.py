"""Reading the lineage graph back, edge by edge, for people: a table's page, the ``lineage``
command's tree, and the observations that tell a table's page its lineage changed.

The writers (:mod:`athena_catalog.store.lineage`) aggregate edges; this module only reads
``lineage_table_edges`` and ``lineage_column_edges``, in bounded IN-lists so a graph of any
size is read a level at a time. Before ``lineage`` first runs on a store made by an older
version the tables may be absent: every read then answers nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, case, func, inspect, select, union_all

from athena_catalog.batching import chunks
from athena_catalog.store.schema import lineage_column_edges, lineage_table_edges
from athena_catalog.timeutil import as_utc, iso_utc

IN_LIST = 500  # names per IN-list: far under SQLite's and PostgreSQL's bound


@dataclass(frozen=True)
class TableEdge:
    source: str
    target: str
    kind: str  # query, view, s3
    query_count: int
    last_seen: datetime | None


@dataclass(frozen=True)
class ColumnEdge:
    source_table: str
    source_column: str
    target_table: str
    target_column: str
    kind: str
    query_count: int
    last_seen: datetime | None


def table_edges(
    conn: Connection, *, targets: Collection[str] = (), sources: Collection[str] = ()
) -> list[TableEdge]:
    """Edges into ``targets`` and out of ``sources`` (each edge once), in a stable order."""
    e = lineage_table_edges.c
    rows = _rows(conn, lineage_table_edges, e.target_fqn, targets, e.source_fqn, sources)
    edges = {
        (r.source_fqn, r.target_fqn, r.kind): TableEdge(
            r.source_fqn, r.target_fqn, r.kind, r.query_count or 0, aware(r.last_seen)
        )
        for r in rows
    }
    return [edges[k] for k in sorted(edges)]


def column_edges(
    conn: Connection,
    *,
    targets: Collection[str] = (),
    sources: Collection[str] = (),
    every: bool = False,
) -> list[ColumnEdge]:
    """Column edges into the tables ``targets`` and out of the tables ``sources`` (each edge
    once), or with ``every`` the whole graph (what the code location reads once)."""
    e = lineage_column_edges.c
    if every:
        rows: Any = conn.execute(select(lineage_column_edges)) if _present(conn) else ()
    else:
        rows = _rows(
            conn, lineage_column_edges, e.target_table_fqn, targets, e.source_table_fqn, sources
        )
    edges = {
        (r.source_table_fqn, r.source_column, r.target_table_fqn, r.target_column, r.kind): (
            ColumnEdge(
                r.source_table_fqn,
                r.source_column,
                r.target_table_fqn,
                r.target_column,
                r.kind,
                r.query_count or 0,
                aware(r.last_seen),
            )
        )
        for r in rows
    }
    return [edges[k] for k in sorted(edges)]


def lineage_digests(conn: Connection) -> dict[str, str]:
    """Per table, a digest of the column edges it is the source or the target of (count,
    statements, last seen, kinds): comparing two readings tells which tables' lineage changed
    without holding the graph twice."""
    if not _present(conn):
        return {}
    e = lineage_column_edges.c
    sides = union_all(
        select(e.target_table_fqn.label("fqn"), e.query_count, e.last_seen, e.kind),
        select(e.source_table_fqn.label("fqn"), e.query_count, e.last_seen, e.kind),
    ).subquery()
    rows = conn.execute(
        select(
            sides.c.fqn,
            func.count(),
            func.coalesce(func.sum(sides.c.query_count), 0),
            # A view edge is re-seen on every crawl: only its presence is news.
            func.max(case((sides.c.kind != "view", sides.c.last_seen), else_=None)),
            func.count(func.distinct(sides.c.kind)),
        ).group_by(sides.c.fqn)
    )
    return {fqn: f"{n} {q} {iso_utc(aware(last))} {k}" for fqn, n, q, last, k in rows}


def known_names(conn: Connection, names: Collection[str]) -> set[str]:
    """Which of ``names`` appear in the lineage graph at all (as a source or a target)."""
    e = lineage_table_edges.c
    found: set[str] = set()
    if not _present(conn):
        return found
    for chunk in chunks(sorted(names), IN_LIST):
        for column in (e.source_fqn, e.target_fqn):
            found.update(conn.execute(select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


def _rows(
    conn: Connection,
    table: Table,
    target_column: Any,
    targets: Collection[str],
    source_column: Any,
    sources: Collection[str],
) -> Iterator[Any]:
    if not _present(conn):
        return
    for column, names in ((target_column, targets), (source_column, sources)):
        for chunk in chunks(sorted(set(names)), IN_LIST):
            yield from conn.execute(select(table).where(column.in_(chunk)))


def _present(conn: Connection) -> bool:
    return bool(inspect(conn).has_table(lineage_column_edges.name))


def aware(value: datetime | None) -> datetime | None:
    """A stored time, aware: SQLite hands back naive datetimes, which are UTC."""
    return None if value is None else as_utc(value)
