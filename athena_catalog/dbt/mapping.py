"""dbt nodes onto Athena tables, through their relation.

With dbt-athena a node's ``database`` is the data catalog, its ``schema`` the Glue database and
its ``alias`` (a source's ``identifier``) the table, so its catalog table is
``table_fqn(database, schema, alias)``: lower-cased as Athena folds names, a part holding a
dot or a quote kept whole and quoted (``athena_catalog.names``). A node with no database (some
adapters leave it empty) is in ``AwsDataCatalog``. Ephemeral models have no relation.

The same relation rule serves the ingest (:func:`node_relation`) and dagster-dbt's translator,
which sees the manifest's raw node dicts (:func:`props_relation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from athena_catalog.dbt.artifacts import RELATION_TYPES, DbtArtifacts, DbtNode
from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.names import table_fqn
from athena_catalog.owners import dagster_owner

EPHEMERAL = "ephemeral"


@dataclass(frozen=True)
class Relation:
    """The Athena table a dbt node builds or reads; parts as Athena folds them."""

    catalog: str
    database: str
    name: str

    @property
    def fqn(self) -> str:
        return table_fqn(self.catalog, self.database, self.name)


def relation(
    resource_type: str,
    database: str | None,
    schema: str | None,
    identifier: str | None,
    name: str,
    materialization: str | None,
) -> Relation | None:
    if resource_type not in (*RELATION_TYPES, "source") or not schema:
        return None
    if materialization == EPHEMERAL:
        return None
    return Relation(
        (database or DEFAULT_CATALOG).lower(), schema.lower(), (identifier or name).lower()
    )


def node_relation(node: DbtNode) -> Relation | None:
    return relation(
        node.resource_type,
        node.database,
        node.schema,
        node.identifier,
        node.name,
        node.materialization,
    )


def props_relation(props: Mapping[str, Any]) -> Relation | None:
    """The relation of a manifest node dict (what dagster-dbt's translator is given)."""
    kind = props.get("resource_type", "")
    config = props.get("config") or {}
    return relation(
        kind,
        props.get("database"),
        props.get("schema"),
        props.get("identifier") if kind == "source" else props.get("alias"),
        props.get("name", ""),
        config.get("materialized"),
    )


def node_owners(node: DbtNode) -> list[str]:
    """``meta.owner``, ``config.meta.owner`` and ``meta.dagster.owners`` (dagster-dbt's key),
    as Dagster owners (an e-mail, else ``team:<name>``, see :mod:`athena_catalog.owners`)."""
    found: list[str] = []
    for meta in (node.meta, node.config_meta):
        found.extend(_texts(meta.get("owner")))
        dagster = meta.get("dagster")
        if isinstance(dagster, Mapping):
            found.extend(_texts(dagster.get("owners")))
    owners = (dagster_owner(text) for text in found)
    return list(dict.fromkeys(o for o in owners if o))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass(frozen=True)
class Mapped:
    """Where each relation node of a project lands: catalog tables, or not in the catalog."""

    tables: Mapping[str, str]  # unique_id -> table fqn in the catalog
    missing: Mapping[str, str]  # unique_id -> the relation's fqn, absent from the catalog
    ephemeral: tuple[str, ...]


def map_nodes(artifacts: DbtArtifacts, catalog_tables: Iterable[str]) -> Mapped:
    live = set(catalog_tables)
    tables: dict[str, str] = {}
    missing: dict[str, str] = {}
    ephemeral: list[str] = []
    for unique_id, node in artifacts.nodes.items():
        if node.resource_type == "test":
            continue
        rel = node_relation(node)
        if rel is None:
            ephemeral.append(unique_id)
        elif rel.fqn in live:
            tables[unique_id] = rel.fqn
        else:
            missing[unique_id] = rel.fqn
    return Mapped(tables, missing, tuple(ephemeral))


def tested_node(artifacts: DbtArtifacts, test: DbtNode) -> str | None:
    """The node a test checks: its ``attached_node``, else (a singular test) the first model,
    seed, snapshot or source it depends on."""
    if test.attached_node:
        return test.attached_node
    for unique_id in test.depends_on:
        node = artifacts.nodes.get(unique_id)
        if node is not None and node.resource_type != "test":
            return unique_id
    return None
