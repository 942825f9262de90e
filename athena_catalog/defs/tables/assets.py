"""One external ``AssetSpec`` per live Athena table and view, so the Dagster UI shows the
crawled catalog natively: columns, description, table lineage as graph edges and column
lineage as ``dagster/column_lineage``.

The specs are built from the catalog store at definitions load time, in every code server and
run worker: never from AWS, in a few queries, and a store that does not exist yet (or cannot be
read) gives no specs rather than a broken code location. They appear after the next reload
following a ``metadata`` or ``lineage`` run.

``ATHENA_CATALOG_TABLE_ASSETS`` caps how many tables become assets (default 5000, 0 disables):
past it none are built and one warning is logged, because a truncated subset would draw an
incomplete lineage graph that looks complete.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from dagster._utils.tags import is_valid_strict_tag_value, is_valid_tag_key
from sqlalchemy import Connection, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from athena_catalog.engines.base import ICEBERG, VIRTUAL_VIEW
from athena_catalog.store.connection import default_store_url, redact_url
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
from athena_catalog.store.schema import catalog_columns, catalog_tables

GROUP = "athena_tables"
KEY_PREFIX = "athena"
CAP_ENV = "ATHENA_CATALOG_TABLE_ASSETS"
DEFAULT_CAP = 5000

log = logging.getLogger(__name__)

Fqn = str
Edge = tuple[Fqn, Fqn]  # (upstream, downstream)


def table_key(catalog: str, database: str, name: str) -> dg.AssetKey:
    """``athena/<catalog>/<database>/<table>``, lower case, from the table's parts as stored.

    Dagster accepts any string as a key component (dots, quotes, spaces, unicode, slashes),
    so each part is kept verbatim: one component per part makes the mapping injective (two
    tables never share a key) without sanitizing, and plain names read as in Athena."""
    return dg.AssetKey([KEY_PREFIX, catalog.lower(), database.lower(), name.lower()])


def table_cap() -> int:
    raw = os.environ.get(CAP_ENV, "")
    try:
        return int(raw) if raw.strip() else DEFAULT_CAP
    except ValueError:
        log.warning(f"{CAP_ENV}={raw!r} is not an integer; using {DEFAULT_CAP}")
        return DEFAULT_CAP


def athena_table_specs(
    store_url: str | None = None, limit: int | None = None
) -> list[dg.AssetSpec]:
    """The external specs of every live table and view in the store at ``store_url`` (default:
    the configured store); ``limit`` overrides ``ATHENA_CATALOG_TABLE_ASSETS``."""
    cap = table_cap() if limit is None else limit
    url = store_url or default_store_url()
    if cap <= 0 or not _store_exists(url):
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(catalog_tables.name):
                return []
            live = conn.execute(
                select(func.count()).where(catalog_tables.c.deleted.is_(False))
            ).scalar_one()
            if live > cap:
                log.warning(
                    f"{live} Athena tables exceed {CAP_ENV}={cap}: no table assets are built. "
                    f"Raise {CAP_ENV} to show them, or narrow the crawl's filters."
                )
                return []
            return _specs(conn)
    except SQLAlchemyError as e:
        log.warning(f"Athena table assets not built: cannot read {redact_url(url)}: {e}")
        return []
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


def _specs(conn: Connection) -> list[dg.AssetSpec]:
    t = catalog_tables.c
    tables = conn.execute(
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
        )
        .where(t.deleted.is_(False))
        .order_by(t.fqn)
    ).all()
    keys = {row.fqn: table_key(row.catalog, row.database, row.name) for row in tables}
    columns = _columns(conn)
    upstream, column_lineage = _lineage(conn, set(keys))
    deps, cyclic = _acyclic_deps(upstream)
    specs = []
    for row in tables:
        tags, other_tags = _split_tags(row.tags or {})
        metadata: dict[str, Any] = {
            **TableMetadataSet(
                table_name=row.fqn,
                column_schema=dg.TableSchema(columns=[c for c, _ in columns.get(row.fqn, [])]),
                column_lineage=_column_lineage(column_lineage.get(row.fqn, {}), keys),
            ),
            "table_type": row.table_type,
        }
        optional = {
            "dagster/uri": row.location,
            "storage_format": row.storage_format,
            "owner": row.owner,
            "partition_keys": [c.name for c, is_key in columns.get(row.fqn, []) if is_key],
            "athena_tags": dg.MetadataValue.json(other_tags) if other_tags else None,
            "cyclic_upstreams": sorted(cyclic.get(row.fqn, ())),
        }
        metadata |= {k: v for k, v in optional.items() if v}
        specs.append(
            dg.AssetSpec(
                key=keys[row.fqn],
                group_name=GROUP,
                description=row.description or None,
                kinds=_kinds(row.table_type),
                deps=[keys[u] for u in sorted(deps.get(row.fqn, ()))],
                tags=tags,
                metadata=metadata,
            )
        )
    return specs


def _kinds(table_type: str) -> set[str]:
    if table_type == ICEBERG:
        return {"athena", "iceberg"}
    if table_type == VIRTUAL_VIEW:
        return {"athena", "view"}
    return {"athena"}


def _split_tags(tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Athena tags Dagster accepts as tags, and the rest (spaces, colons, accents, system
    prefixes), which go to metadata instead of failing the whole code location."""
    valid, other = {}, {}
    for key, value in tags.items():
        ok = is_valid_tag_key(key) and is_valid_strict_tag_value(str(value))
        ok = ok and not key.startswith("dagster/")
        (valid if ok else other)[key] = str(value)
    return valid, other


def _columns(conn: Connection) -> dict[Fqn, list[tuple[dg.TableColumn, bool]]]:
    c = catalog_columns.c
    rows = conn.execute(
        select(c.table_fqn, c.name, c.data_type, c.description, c.is_partition_key)
        .join(catalog_tables, catalog_tables.c.fqn == c.table_fqn)
        .where(catalog_tables.c.deleted.is_(False))
        .order_by(c.table_fqn, c.ordinal)
    )
    out: dict[Fqn, list[tuple[dg.TableColumn, bool]]] = defaultdict(list)
    for fqn, name, data_type, description, is_key in rows:
        out[fqn].append((dg.TableColumn(name, data_type, description=description), bool(is_key)))
    return out


ColumnLineage = dict[str, set[tuple[Fqn, str]]]  # target column -> {(source fqn, column)}


def _lineage(conn: Connection, live: set[Fqn]) -> tuple[list[Edge], dict[Fqn, ColumnLineage]]:
    """Table edges between live tables (no S3 URIs), views' first then the most frequent, and
    column lineage per target table. Lineage tables are absent until ``lineage`` first runs."""
    inspector = inspect(conn)
    edges: list[Edge] = []
    columns: dict[Fqn, ColumnLineage] = defaultdict(lambda: defaultdict(set))
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


def _column_lineage(
    by_column: ColumnLineage, keys: Mapping[Fqn, dg.AssetKey]
) -> dg.TableColumnLineage | None:
    if not by_column:
        return None
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=keys[s], column_name=c) for s, c in sorted(deps)]
            for column, deps in sorted(by_column.items())
        }
    )


def _acyclic_deps(edges: Iterable[Edge]) -> tuple[dict[Fqn, set[Fqn]], dict[Fqn, set[Fqn]]]:
    """Upstreams per table for the asset graph, which must be acyclic, and the upstreams left
    out to keep it so. Athena history has cycles (``INSERT INTO t SELECT ... FROM t``, two
    tables loaded from each other); ``edges`` come in priority order and an edge is kept unless
    it closes a cycle among those already kept. Only edges inside one strongly connected
    component can, so the reachability search stays within small components."""
    edges = list(edges)
    component = _components({s for e in edges for s in e}, edges)
    deps: dict[Fqn, set[Fqn]] = defaultdict(set)
    dropped: dict[Fqn, set[Fqn]] = defaultdict(set)
    downstream: dict[Fqn, set[Fqn]] = defaultdict(set)  # kept edges inside components
    for source, target in edges:
        if component[source] == component[target]:
            if source == target or _reaches(downstream, target, source):
                dropped[target].add(source)
                continue
            downstream[source].add(target)
        deps[target].add(source)
    return deps, dropped


def _reaches(graph: Mapping[Fqn, set[Fqn]], start: Fqn, goal: Fqn) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _components(nodes: set[Fqn], edges: list[Edge]) -> dict[Fqn, int]:
    """Strongly connected component of each node (Tarjan's algorithm, iterative)."""
    graph: dict[Fqn, list[Fqn]] = defaultdict(list)
    for source, target in edges:
        graph[source].append(target)
    index: dict[Fqn, int] = {}
    low: dict[Fqn, int] = {}
    component: dict[Fqn, int] = {}
    stack: list[Fqn] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        component[member] = index[node]
                        if member == node:
                            break
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(graph[child])))
            elif child not in component:  # on the stack
                low[node] = min(low[node], index[child])
    return component
