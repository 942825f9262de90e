"""Applying dbt artifact sets to the catalog store.

Every configured target is read and checked whole first (:mod:`athena_catalog.dbt.artifacts`);
a bad artifact fails before the store is opened for writing, so nothing stored is lost. Each
project is then applied in one write transaction: its nodes and columns replace the stored
ones, its test results are added to the time series, and the ``dbt`` lineage edges of all
projects are recomputed. A project whose artifact set has the digest it was last applied with
is not applied again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from athena_catalog.dbt.artifacts import DbtArtifacts, DbtNode, DbtResult
from athena_catalog.dbt.lineage import DbtLineage, dbt_lineage
from athena_catalog.dbt.mapping import Mapped, map_nodes, node_owners, node_relation, tested_node
from athena_catalog.lineage.result import LineageSchema
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.dbt import (
    add_results,
    lineage_nodes,
    project_rows,
    replace_project,
    stored_digest,
)
from athena_catalog.store.lineage import (
    lineage_column_edges,
    lineage_table_edges,
    read_schema,
    replace_edges,
)
from athena_catalog.store.schema import catalog_tables

# run_results status -> passed (None: not evaluated). dbt's compile-only "success" is a pass.
PASSED = {"pass": True, "success": True, "fail": False, "warn": False, "error": False}
FRESHNESS_PASSED = {"pass": True, "warn": False, "error": False, "runtime error": False}


@dataclass
class ProjectOutcome:
    project: str
    target: str
    applied: bool  # False: the same artifact set was applied before
    manifest_version: int
    adapter_type: str | None
    nodes: Counter[str] = field(default_factory=Counter)  # resource type -> count
    mapped: dict[str, str] = field(default_factory=dict)  # unique_id -> table fqn
    missing: dict[str, str] = field(default_factory=dict)  # unique_id -> relation not in catalog
    results: Counter[str] = field(default_factory=Counter)  # status -> new results stored
    new_results: int = 0


@dataclass
class IngestOutcome:
    projects: list[ProjectOutcome]
    lineage: DbtLineage | None = None  # None when nothing was applied


def apply_artifacts(
    store: CatalogStore, sets: Sequence[DbtArtifacts], now: datetime
) -> IngestOutcome:
    done = IngestOutcome([])
    for artifacts in sets:
        with store.write() as conn:
            outcome = _apply(conn, artifacts, now)
            if outcome.applied:
                done.lineage = _relineage(conn)
        done.projects.append(outcome)
    return done


def _apply(conn: Connection, artifacts: DbtArtifacts, now: datetime) -> ProjectOutcome:
    live = conn.execute(
        select(catalog_tables.c.fqn).where(catalog_tables.c.deleted.is_(False))
    ).scalars()
    mapped = map_nodes(artifacts, live)
    outcome = ProjectOutcome(
        project=artifacts.project,
        target=artifacts.target,
        applied=stored_digest(conn, artifacts.project) != artifacts.digest,
        manifest_version=artifacts.manifest_version,
        adapter_type=artifacts.adapter_type,
        nodes=Counter(n.resource_type for n in artifacts.nodes.values()),
        mapped=dict(mapped.tables),
        missing=dict(mapped.missing),
    )
    if not outcome.applied:
        return outcome
    project = {
        "project": artifacts.project,
        "target": artifacts.target,
        "digest": artifacts.digest,
        "manifest_version": f"v{artifacts.manifest_version}",
        "adapter_type": artifacts.adapter_type,
        "invocation_id": artifacts.invocation_id,
        "generated_at": artifacts.generated_at,
        "applied_at": now,
    }
    nodes = [_node_row(artifacts, node, mapped) for node in artifacts.nodes.values()]
    columns = [
        {
            "project": artifacts.project,
            "unique_id": node.unique_id,
            "column_name": column.name,
            "description": column.description,
            "data_type": column.data_type,
            "tags": list(column.tags),
            "meta": dict(column.meta),
        }
        for node in artifacts.nodes.values()
        for column in {c.name.lower(): c for c in node.columns}.values()
    ]
    replace_project(conn, project, nodes, columns)
    rows = [_result_row(artifacts, r, mapped, PASSED) for r in artifacts.results]
    rows += [_result_row(artifacts, r, mapped, FRESHNESS_PASSED) for r in artifacts.freshness]
    outcome.new_results = add_results(conn, rows)
    outcome.results = Counter(r.status for r in artifacts.results)
    return outcome


def _target_relation(artifacts: DbtArtifacts, node: DbtNode) -> str | None:
    """The fqn a node's table is at: its own relation, or for a test the tested node's."""
    if node.resource_type == "test":
        target = tested_node(artifacts, node)
        tested = artifacts.nodes.get(target) if target else None
        node = tested if tested is not None else node
    rel = node_relation(node)
    return rel.fqn if rel else None


def _node_row(artifacts: DbtArtifacts, node: DbtNode, mapped: Mapped) -> dict[str, Any]:
    relation = _target_relation(artifacts, node)
    return {
        "project": artifacts.project,
        "unique_id": node.unique_id,
        "resource_type": node.resource_type,
        "package": node.package,
        "name": node.name,
        "relation": relation,
        "table_fqn": relation if relation in mapped.tables.values() else None,
        "description": node.description,
        "tags": list(node.tags),
        "owners": node_owners(node),
        "meta": {**node.config_meta, **node.meta},
        "materialization": node.materialization,
        "raw_code": node.raw_code,
        "compiled_code": node.compiled_code,
        "depends_on": list(node.depends_on),
        "attached_node": tested_node(artifacts, node) if node.resource_type == "test" else None,
        "column_name": node.column_name,
        "test_name": node.test_name,
    }


def _result_row(
    artifacts: DbtArtifacts, result: DbtResult, mapped: Mapped, passed: dict[str, bool]
) -> dict[str, Any]:
    node = artifacts.nodes[result.unique_id]
    relation = _target_relation(artifacts, node)
    return {
        "project": artifacts.project,
        "test_unique_id": result.unique_id,
        "table_fqn": relation if relation in mapped.tables.values() else None,
        "column_name": node.column_name,
        "invocation_id": result.invocation_id,
        "evaluated_at": result.evaluated_at,
        "status": result.status,
        "passed": passed.get(result.status),
        "failures": result.failures,
        "message": result.message,
        "execution_time": result.execution_time,
        "compiled_code": result.compiled_code,
    }


def _relineage(conn: Connection) -> DbtLineage:
    """Every project's dbt edges again, replacing the stored ones of kind ``dbt``."""
    generated = {row["project"]: row["generated_at"] for row in project_rows(conn)}
    found = dbt_lineage(lineage_nodes(conn), LineageSchema(read_schema(conn)), generated)
    replace_edges(conn, lineage_table_edges, "dbt", found.edges.table_edges)
    replace_edges(conn, lineage_column_edges, "dbt", found.edges.column_edges)
    return found
