"""The dbt tables of the catalog store: the applied artifact set per project (``dbt_projects``),
its nodes and columns (replaced whole when a project's set changes) and its test results (a
time series: a result is kept once per test and dbt invocation, never overwritten).

Readers join a node to the catalog through its ``relation`` (the fqn of the table dbt builds or
reads), so a table crawled after the artifacts were applied still gets its dbt docs and checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, inspect, or_, select, tuple_

from athena_catalog.batching import chunks
from athena_catalog.store.schema import (
    catalog_tables,
    dbt_columns,
    dbt_nodes,
    dbt_projects,
    dbt_test_results,
)


def stored_digest(conn: Connection, project: str) -> str | None:
    return conn.execute(
        select(dbt_projects.c.digest).where(dbt_projects.c.project == project)
    ).scalar_one_or_none()


def replace_project(
    conn: Connection,
    project: Mapping[str, Any],
    nodes: list[dict[str, Any]],
    columns: list[dict[str, Any]],
) -> None:
    """The project's row, nodes and columns as given; other projects' rows are untouched."""
    name = project["project"]
    for table in (dbt_columns, dbt_nodes, dbt_projects):
        conn.execute(delete(table).where(table.c.project == name))
    conn.execute(insert(dbt_projects), [dict(project)])
    for table, rows in ((dbt_nodes, nodes), (dbt_columns, columns)):
        for chunk in chunks(rows, 500):
            conn.execute(insert(table), chunk)


def add_results(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the results not stored yet (one per project, test and invocation); how many."""
    r = dbt_test_results.c
    stored: set[tuple[str, str, str]] = set()
    keys = sorted({(row["project"], row["test_unique_id"], row["invocation_id"]) for row in rows})
    for chunk in chunks(keys, 300):
        stored.update(
            conn.execute(
                select(r.project, r.test_unique_id, r.invocation_id).where(
                    tuple_(r.project, r.test_unique_id, r.invocation_id).in_(chunk)
                )
            ).tuples()
        )
    new: list[dict[str, Any]] = []
    seen = set(stored)
    for row in rows:
        key = (row["project"], row["test_unique_id"], row["invocation_id"])
        if key not in seen:
            seen.add(key)
            new.append(row)
    for batch in chunks(new, 500):
        conn.execute(insert(dbt_test_results), batch)
    return len(new)


@dataclass(frozen=True)
class LineageNode:
    """What dbt lineage needs of a stored node."""

    project: str
    unique_id: str
    resource_type: str
    relation: str | None
    materialization: str | None
    compiled_code: str | None
    depends_on: tuple[str, ...]


def lineage_nodes(conn: Connection) -> list[LineageNode]:
    """Every project's models, seeds, snapshots and sources."""
    n = dbt_nodes.c
    rows = conn.execute(
        select(
            n.project,
            n.unique_id,
            n.resource_type,
            n.relation,
            n.materialization,
            n.compiled_code,
            n.depends_on,
        )
        .where(n.resource_type != "test")
        .order_by(n.project, n.unique_id)
    )
    return [LineageNode(*row[:6], tuple(row[6] or ())) for row in rows]


# -- what table assets and checks read


@dataclass(frozen=True)
class DbtDocs:
    """A table's dbt documentation: from the node that builds it (a model, seed or snapshot)
    or, failing one, the source that reads it."""

    project: str
    unique_id: str
    resource_type: str
    package: str
    description: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # column (lower case) -> text
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    materialization: str | None = None
    raw_code: str | None = None
    compiled_code: str | None = None


_SOURCE_LAST = {"model": 0, "snapshot": 1, "seed": 2, "source": 3}


def read_docs(conn: Connection, live: Iterable[str]) -> dict[str, DbtDocs]:
    """Docs per live table fqn."""
    wanted = set(live)
    n, c = dbt_nodes.c, dbt_columns.c
    rows = conn.execute(
        select(
            n.relation,
            n.project,
            n.unique_id,
            n.resource_type,
            n.package,
            n.description,
            n.tags,
            n.owners,
            n.materialization,
            n.raw_code,
            n.compiled_code,
        ).where(n.resource_type != "test", n.relation.is_not(None))
    ).all()
    best: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: (_SOURCE_LAST.get(r.resource_type, 9), r.project)):
        if row.relation in wanted:
            best.setdefault(row.relation, row)
    described: dict[tuple[str, str], dict[str, str]] = {}
    chosen = {(row.project, row.unique_id) for row in best.values()}
    for project, unique_id, column, description in conn.execute(
        select(c.project, c.unique_id, c.column_name, c.description).where(
            c.description.is_not(None)
        )
    ):
        if (project, unique_id) in chosen and description:
            described.setdefault((project, unique_id), {})[column.lower()] = description
    return {
        fqn: DbtDocs(
            project=row.project,
            unique_id=row.unique_id,
            resource_type=row.resource_type,
            package=row.package,
            description=row.description,
            columns=described.get((row.project, row.unique_id), {}),
            tags=tuple(row.tags or ()),
            owners=tuple(row.owners or ()),
            materialization=row.materialization,
            raw_code=row.raw_code,
            compiled_code=row.compiled_code,
        )
        for fqn, row in best.items()
    }


@dataclass(frozen=True)
class DbtTest:
    """A dbt test (or a source's freshness) on a live catalog table: one asset check."""

    project: str
    unique_id: str
    name: str
    table_fqn: str
    catalog: str
    database: str
    table: str
    column_name: str | None
    test_name: str | None  # generic test (unique, not_null, ...); None: singular or freshness
    kind: str  # test, freshness
    description: str | None = None


def read_tests(conn: Connection) -> list[DbtTest]:
    """Every stored test whose table is live in the catalog, and every source with freshness
    results, in a stable order."""
    n, t = dbt_nodes.c, catalog_tables.c
    joined = (
        select(
            n.project,
            n.unique_id,
            n.name,
            t.fqn,
            t.catalog,
            t.database,
            t.name.label("table"),
            n.column_name,
            n.test_name,
            n.resource_type,
            n.description,
        )
        .join(catalog_tables, catalog_tables.c.fqn == n.relation)
        .where(t.deleted.is_(False))
    )
    tests = conn.execute(joined.where(n.resource_type == "test")).all()
    fresh_ids = select(dbt_test_results.c.project, dbt_test_results.c.test_unique_id)
    sources = conn.execute(
        joined.where(n.resource_type == "source", tuple_(n.project, n.unique_id).in_(fresh_ids))
    ).all()
    out = [DbtTest(*row[:9], kind="test", description=row.description) for row in tests]
    out += [
        DbtTest(*row[:7], None, None, kind="freshness", description="dbt source freshness")
        for row in sources
    ]
    return sorted(out, key=lambda x: (x.table_fqn, x.project, x.unique_id))


@dataclass(frozen=True)
class DbtTestResult:
    id: int  # the row's: what a check evaluation records as reported
    status: str
    passed: bool | None
    invocation_id: str
    evaluated_at: datetime
    failures: int | None
    message: str | None
    execution_time: float | None
    compiled_code: str | None
    column_name: str | None


def results_after(
    conn: Connection, project: str, reported: Mapping[str, int | None]
) -> dict[str, list[DbtTestResult]]:
    """The stored results of each test of ``project`` in ``reported`` (test unique id -> the row
    id of the result last reported, None: never) that come after that one in time (evaluated at,
    then row id), oldest first. A result dbt evaluated before the reported one (an old
    run_results file stored late) is left out: the check keeps showing the newest outcome."""
    r = dbt_test_results.alias("r")
    m = dbt_test_results.alias("reported")
    after = tuple_(m.c.evaluated_at, m.c.id)
    out: dict[str, list[DbtTestResult]] = {}
    for chunk in chunks(sorted(reported), 300):
        marks = [reported[t] for t in chunk if reported[t] is not None]
        rows = conn.execute(
            select(
                r.c.id,
                r.c.test_unique_id,
                r.c.status,
                r.c.passed,
                r.c.invocation_id,
                r.c.evaluated_at,
                r.c.failures,
                r.c.message,
                r.c.execution_time,
                r.c.compiled_code,
                r.c.column_name,
            )
            .select_from(
                r.outerjoin(
                    m,
                    and_(
                        m.c.id.in_(marks),
                        m.c.project == r.c.project,
                        m.c.test_unique_id == r.c.test_unique_id,
                    ),
                )
            )
            .where(
                r.c.project == project,
                r.c.test_unique_id.in_(chunk),
                or_(m.c.id.is_(None), tuple_(r.c.evaluated_at, r.c.id) > after),
            )
            .order_by(r.c.evaluated_at, r.c.id)
        )
        for row in rows:
            out.setdefault(row.test_unique_id, []).append(
                DbtTestResult(
                    id=row.id,
                    status=row.status,
                    passed=row.passed,
                    invocation_id=row.invocation_id,
                    evaluated_at=row.evaluated_at,
                    failures=row.failures,
                    message=row.message,
                    execution_time=row.execution_time,
                    compiled_code=row.compiled_code,
                    column_name=row.column_name,
                )
            )
    return out


def project_rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(select(dbt_projects)).mappings()]


def read_dbt_state(
    conn: Connection, live: Iterable[str]
) -> tuple[dict[str, DbtDocs], list[DbtTest]]:
    """Docs per live table and the tests on live tables; nothing before revision 0006."""
    if not inspect(conn).has_table(dbt_nodes.name):
        return {}, []
    return read_docs(conn, live), read_tests(conn)
