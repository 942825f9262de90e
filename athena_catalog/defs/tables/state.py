"""What the catalog store holds about live tables, read once, in a few queries, as plain records.

The translator turns each :class:`TableRecord` into an asset spec; checks, profiles and dbt
read the same records. Nothing here imports Dagster.

A store that does not exist yet (or cannot be read) gives an empty state rather than a broken
code location, and so does a store with more live tables than the cap
(``ATHENA_CATALOG_TABLE_ASSETS``): a truncated subset would draw an incomplete lineage graph
that looks complete. Both are logged once as a warning.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from athena_catalog import settings
from athena_catalog.lineage.acyclic import Edge, acyclic_deps
from athena_catalog.store.connection import default_store_url, redact_url
from athena_catalog.store.dbt import DbtDocs, DbtTest, read_dbt_state
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
from athena_catalog.store.lineage_reads import ColumnEdge, column_edges
from athena_catalog.store.schema import catalog_tables
from athena_catalog.store.table_pages import live_columns

log = logging.getLogger(__name__)

Fqn = str
ColumnRef = tuple[Fqn, str]  # (table fqn, column name)


@dataclass(frozen=True)
class ColumnRecord:
    name: str
    data_type: str
    description: str | None = None
    is_partition_key: bool = False


@dataclass(frozen=True)
class TableRecord:
    """One live table or view as stored; ``catalog``, ``database`` and ``name`` as Athena
    spells them (``fqn`` is their quoted join, see :mod:`athena_catalog.names`)."""

    fqn: Fqn
    catalog: str
    database: str
    name: str
    table_type: str = "EXTERNAL_TABLE"
    description: str | None = None
    location: str | None = None
    storage_format: str | None = None
    owner: str | None = None  # Glue's Owner
    tags: Mapping[str, str] = field(default_factory=dict)
    columns: tuple[ColumnRecord, ...] = ()
    dbt: DbtDocs | None = None  # its dbt model's (or source's) docs, see athena_catalog.dbt
    view_sql: str | None = None


@dataclass(frozen=True)
class TablesState:
    """Every live table, and the lineage between them made acyclic (see lineage.acyclic)."""

    tables: Mapping[Fqn, TableRecord] = field(default_factory=dict)  # in fqn order
    upstreams: Mapping[Fqn, frozenset[Fqn]] = field(default_factory=dict)
    cyclic_upstreams: Mapping[Fqn, frozenset[Fqn]] = field(default_factory=dict)
    # target fqn -> target column -> its source columns
    column_lineage: Mapping[Fqn, Mapping[str, frozenset[ColumnRef]]] = field(default_factory=dict)
    dbt_tests: tuple[DbtTest, ...] = ()  # dbt tests on live tables: asset checks (defs/dbt)
    # Every column edge into (upstream) and out of (downstream) each live table, with its kind
    # and when it was last seen: the readable lineage of the table's page.
    upstream_edges: Mapping[Fqn, tuple[ColumnEdge, ...]] = field(default_factory=dict)
    downstream_edges: Mapping[Fqn, tuple[ColumnEdge, ...]] = field(default_factory=dict)


def read_tables_state(store_url: str | None = None, limit: int | None = None) -> TablesState:
    """The state of the store at ``store_url`` (default: the configured store); ``limit``
    overrides ``ATHENA_CATALOG_TABLE_ASSETS``."""
    cap = settings.TABLE_ASSETS.read() if limit is None else limit
    url = store_url or default_store_url()
    if cap <= 0 or not _store_exists(url):
        return TablesState()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(catalog_tables.name):
                return TablesState()
            live = conn.execute(
                select(func.count()).where(catalog_tables.c.deleted.is_(False))
            ).scalar_one()
            if live > cap:
                name = settings.TABLE_ASSETS.name
                log.warning(
                    f"{live} Athena tables exceed {name}={cap}: no table assets are built. "
                    f"Raise {name} to show them, or narrow the crawl's filters."
                )
                return TablesState()
            return _read(conn)
    except SQLAlchemyError as e:
        log.warning(f"Athena table assets not built: cannot read {redact_url(url)}: {e}")
        return TablesState()
    finally:
        engine.dispose()


def _store_exists(url: str) -> bool:
    """False for an SQLite file not created yet: connecting would create an empty one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        log.warning(f"Athena table assets not built: not a SQLAlchemy URL: {redact_url(url)}")
        return False
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and Path(parsed.database or "").is_file()


def _read(conn: Connection) -> TablesState:
    t = catalog_tables.c
    rows = conn.execute(
        select(
            t.fqn,
            t.catalog,
            t.database,
            t.name,
            t.table_type,
            t.description,
            t.location,
            t.storage_format,
            t.owner,
            t.tags,
            t.view_sql,
        )
        .where(t.deleted.is_(False))
        .order_by(t.fqn)
    ).all()
    columns = _columns(conn)
    dbt_docs, dbt_tests = read_dbt_state(conn, [row.fqn for row in rows])
    tables = {
        row.fqn: TableRecord(
            fqn=row.fqn,
            catalog=row.catalog,
            database=row.database,
            name=row.name,
            table_type=row.table_type,
            description=row.description or None,
            location=row.location,
            storage_format=row.storage_format,
            owner=row.owner,
            tags={k: str(v) for k, v in (row.tags or {}).items()},
            columns=tuple(columns.get(row.fqn, ())),
            dbt=dbt_docs.get(row.fqn),
            view_sql=row.view_sql,
        )
        for row in rows
    }
    upstream, downstream = _edges_by_table(conn, set(tables))
    edges, column_lineage = _lineage(conn, set(tables))
    deps, cyclic = acyclic_deps(edges)
    return TablesState(
        tables=tables,
        upstreams={fqn: frozenset(sources) for fqn, sources in deps.items()},
        cyclic_upstreams={fqn: frozenset(sources) for fqn, sources in cyclic.items()},
        column_lineage={
            fqn: {column: frozenset(refs) for column, refs in by_column.items()}
            for fqn, by_column in column_lineage.items()
        },
        upstream_edges=upstream,
        dbt_tests=tuple(dbt_tests),
        downstream_edges=downstream,
    )


def _edges_by_table(
    conn: Connection, live: set[Fqn]
) -> tuple[dict[Fqn, tuple[ColumnEdge, ...]], dict[Fqn, tuple[ColumnEdge, ...]]]:
    """Column edges into and out of each live table, S3 locations and other catalogs' tables
    included: a readable table names them even where no asset stands for them."""
    into: dict[Fqn, list[ColumnEdge]] = defaultdict(list)
    out: dict[Fqn, list[ColumnEdge]] = defaultdict(list)
    for edge in column_edges(conn, every=True):
        if edge.target_table in live:
            into[edge.target_table].append(edge)
        if edge.source_table in live:
            out[edge.source_table].append(edge)
    return {k: tuple(v) for k, v in into.items()}, {k: tuple(v) for k, v in out.items()}


def _columns(conn: Connection) -> dict[Fqn, list[ColumnRecord]]:
    return {
        fqn: [ColumnRecord(c.name, c.data_type, c.description, c.is_partition_key) for c in cs]
        for fqn, cs in live_columns(conn).items()
    }


def _lineage(
    conn: Connection, live: set[Fqn]
) -> tuple[list[Edge], dict[Fqn, dict[str, set[ColumnRef]]]]:
    """Table edges between live tables (no S3 URIs), views' first then the most frequent, and
    column lineage per target table. Lineage tables are absent until ``lineage`` first runs."""
    inspector = inspect(conn)
    edges: list[Edge] = []
    columns: dict[Fqn, dict[str, set[ColumnRef]]] = defaultdict(lambda: defaultdict(set))
    if inspector.has_table(lineage_table_edges.name):
        e = lineage_table_edges.c
        rows = conn.execute(
            select(e.source_fqn, e.target_fqn).order_by(
                (e.kind != "view"), e.query_count.desc(), e.source_fqn, e.target_fqn
            )
        )
        edges = list(dict.fromkeys((s, t) for s, t in rows if s in live and t in live))
    if inspector.has_table(lineage_column_edges.name):
        ce = lineage_column_edges.c
        for source, source_column, target, target_column in conn.execute(
            select(ce.source_table_fqn, ce.source_column, ce.target_table_fqn, ce.target_column)
        ):
            if source in live and target in live:
                columns[target][target_column].add((source, source_column))
    return edges, columns
