"""The ``dbt_artifacts`` asset: dbt target folders (local or S3) into the catalog store.

Thin wiring over :mod:`athena_catalog.dbt.artifacts` (reading and checking) and
:mod:`athena_catalog.dbt.ingest` (applying). S3 targets are read with the AWS engine's
own S3 client: the ``athena`` resource's session (keys, profile or assumed role), endpoint, TLS
and retry settings.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from athena_catalog import settings
from athena_catalog.dbt.artifacts import ArtifactError, DbtArtifacts, read_artifacts
from athena_catalog.dbt.ingest import IngestOutcome, apply_artifacts
from athena_catalog.dbt.targets import dbt_targets
from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.timeutil import utc_now

GROUP = "dbt"
KEY = dg.AssetKey("dbt_artifacts")
MISSING_ROWS = 50  # nodes not in the catalog listed in the metadata (all are counted)


class DbtArtifactsConfig(dg.Config):
    targets: list[str] = Field(
        default_factory=list,
        description=(
            "dbt target folders or s3:// prefixes, one per dbt project (manifest.json required; "
            "catalog.json, sources.json, run_results*.json read when present). "
            "Empty: ATHENA_CATALOG_DBT_TARGET, else on the local engine "
            "<ATHENA_CATALOG_HOME>/dbt/target when it exists (the demo's)."
        ),
    )


@dg.asset(
    key=KEY,
    group_name=GROUP,
    kinds={"dbt"},
    deps=["tables"],
    description=(
        "dbt projects' artifacts: models, seeds, snapshots and sources mapped onto the catalog's "
        "tables with their docs and owners, test results, and dbt lineage."
    ),
)
def dbt_artifacts(
    context: dg.AssetExecutionContext,
    config: DbtArtifactsConfig,
    catalog_store: CatalogStoreResource,
    athena: AthenaResource,
) -> dg.MaterializeResult:
    targets = dbt_targets(
        config.targets, settings.DBT_TARGETS.read(), athena.engine, athena.local_home_path()
    )
    if not targets:
        context.log.info("no dbt target configured (run config or ATHENA_CATALOG_DBT_TARGET)")
        return dg.MaterializeResult(metadata={"projects": 0})
    try:
        sets = _read(targets, athena)
    except ArtifactError as e:
        raise dg.Failure(description=f"dbt artifacts not applied: {e}") from None
    with catalog_store.open() as store:
        outcome = apply_artifacts(store, sets, utc_now())
    for project in outcome.projects:
        if project.missing:
            context.log.warning(
                f"dbt project {project.project}: {len(project.missing)} nodes' tables are not "
                f"in the catalog (first: {next(iter(project.missing.values()))}); crawl them "
                "with `metadata`, or check the relation mapping"
            )
    return dg.MaterializeResult(metadata=_metadata(outcome))


def _read(targets: list[str], athena: AthenaResource) -> list[DbtArtifacts]:
    """S3 targets through the AWS engine's own S3 client, so they get the resource's endpoint,
    TLS and retry settings like every other AWS call of the catalog."""
    on_s3 = [t for t in targets if t.startswith("s3://")]
    if not on_s3:
        return read_artifacts(targets)
    if athena.engine_kind() != "aws":
        raise ArtifactError(
            f"{on_s3[0]}: s3:// targets are read with the aws engine, "
            f"not {athena.engine_kind()!r} (set a local folder, or engine aws)"
        )
    from athena_catalog.engines.aws import AwsEngine

    with athena.get_engine() as engine:
        assert isinstance(engine, AwsEngine)  # engine_kind() is aws
        return read_artifacts(targets, engine.s3)


def _metadata(outcome: IngestOutcome) -> dict[str, Any]:
    projects = outcome.projects
    rows: list[list[object]] = [
        [
            p.project,
            p.target,
            "applied" if p.applied else "unchanged",
            f"v{p.manifest_version}",
            p.adapter_type or "",
            *(p.nodes.get(k, 0) for k in ("model", "seed", "snapshot", "source", "test")),
            len(p.mapped),
            len(p.missing),
            p.new_results,
        ]
        for p in projects
    ]
    header = ["project", "target", "state", "manifest", "adapter", "models", "seeds"]
    header += ["snapshots", "sources", "tests", "in catalog", "not in catalog", "new results"]
    missing: list[list[object]] = [
        [p.project, unique_id, fqn]
        for p in projects
        for unique_id, fqn in sorted(p.missing.items())
    ]
    statuses: dict[str, int] = {}
    for p in projects:
        for status, n in p.results.items():
            statuses[status] = statuses.get(status, 0) + n
    metadata: dict[str, Any] = {
        "projects": len(projects),
        "applied": sum(p.applied for p in projects),
        "projects_table": dg.MetadataValue.md(md_table(header, rows)),
        "nodes_in_catalog": sum(len(p.mapped) for p in projects),
        "nodes_not_in_catalog": len(missing),
        "test_results": dg.MetadataValue.json(statuses),
    }
    if missing:
        metadata["not_in_catalog"] = dg.MetadataValue.md(
            md_table(["project", "node", "relation"], missing[:MISSING_ROWS])
        )
    if outcome.lineage is not None:
        edges = outcome.lineage.edges
        metadata["dbt_table_edges"] = len(edges.table_edges)
        metadata["dbt_column_edges"] = len(edges.column_edges)
        metadata["models_parsed"] = dg.MetadataValue.json(dict(outcome.lineage.outcomes))
        if outcome.lineage.not_parsed:
            metadata["models_not_parsed"] = dg.MetadataValue.md(
                md_table(
                    ["model", "reason"],
                    [[m, why] for m, why in sorted(outcome.lineage.not_parsed.items())],
                )
            )
    return metadata
