"""dbt lineage: table edges of kind ``dbt`` from each node's ``depends_on.nodes``, and column
edges of kind ``dbt`` from each model's ``compiled_code``, read by the project's own lineage
parser against the catalog's schema (so ``select *`` expands to the crawled columns).

Ephemeral models build no table: a node depending on one depends on what it depends on,
followed until real tables; their SQL is already inlined as ``__dbt__cte__`` CTEs in the
compiled code of the models that use them, so column lineage goes through them too.

The edges are recomputed from every stored project's nodes on each apply (they replace the
stored ``dbt`` edges), so a model dropped from a project loses its edges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from athena_catalog.lineage.graph import LineageBatch, outcome
from athena_catalog.lineage.parser import DEFAULT_TIMEOUT_S, parse_lineage
from athena_catalog.lineage.result import LineageResult, LineageSchema
from athena_catalog.names import sql_name, table_parts
from athena_catalog.store.dbt import LineageNode
from athena_catalog.store.lineage import EdgeStats

KIND = "dbt"
VIEW = "view"


@dataclass
class DbtLineage:
    edges: LineageBatch = field(default_factory=LineageBatch)  # kind dbt
    outcomes: Counter[str] = field(default_factory=Counter)  # parse outcome -> models
    not_parsed: dict[str, str] = field(default_factory=dict)  # unique_id -> why


def upstream_relations(node: LineageNode, nodes: Mapping[tuple[str, str], LineageNode]) -> set[str]:
    """The table fqns ``node`` reads, ephemeral models followed through to real tables."""
    found: set[str] = set()
    todo = list(node.depends_on)
    seen: set[str] = set()
    while todo:
        unique_id = todo.pop()
        if unique_id in seen:
            continue
        seen.add(unique_id)
        upstream = nodes.get((node.project, unique_id))
        if upstream is None:
            continue
        if upstream.relation:
            found.add(upstream.relation)
        else:  # ephemeral: what it reads
            todo.extend(upstream.depends_on)
    return found


def dbt_lineage(
    nodes: Iterable[LineageNode],
    schema: LineageSchema,
    generated_at: Mapping[str, datetime | None],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> DbtLineage:
    """Edges of every node; ``generated_at`` (per project) dates them."""
    by_id = {(n.project, n.unique_id): n for n in nodes}
    out = DbtLineage()
    for node in by_id.values():
        if not node.relation:
            continue
        when = generated_at.get(node.project)
        columns = _columns(node, schema, timeout_s, out)
        sources = upstream_relations(node, by_id) - {node.relation}
        edges = LineageResult(target=node.relation, sources=sources, columns=columns)
        out.edges.add(edges, KIND, EdgeStats(when, when, 0, None))
    return out


def _columns(
    node: LineageNode, schema: LineageSchema, timeout_s: float, out: DbtLineage
) -> dict[str, set[str]]:
    """A model's column lineage: its compiled SELECT read as the statement dbt runs."""
    if node.resource_type != "model" or not node.relation or not node.compiled_code:
        return {}
    catalog, database, name = table_parts(node.relation)
    verb = "CREATE OR REPLACE VIEW" if node.materialization == VIEW else "CREATE TABLE"
    sql = f"{verb} {sql_name(catalog, database, name)} AS\n{node.compiled_code}"
    result = parse_lineage(sql, catalog, database, schema, timeout_s=timeout_s)
    out.outcomes[outcome(result)] += 1
    if result.error:
        out.not_parsed[node.unique_id] = result.error
    return result.columns if result.target == node.relation else {}
