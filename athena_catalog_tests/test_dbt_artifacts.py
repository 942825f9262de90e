"""Reading dbt artifacts: manifest v11 and v12, catalog.json over the manifest, bad artifacts
named by file and JSON path, S3 targets on moto's server, and the relation mapping."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import dagster as dg
import pytest
from sqlalchemy import select

from athena_catalog.dbt import mapping
from athena_catalog.dbt.artifacts import ArtifactError, parse_artifacts, read_artifacts, read_target
from athena_catalog.dbt.mapping import map_nodes, node_owners, props_relation
from athena_catalog.defs.dbt.assets import dbt_artifacts
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.store import CatalogStore
from athena_catalog.store.schema import dbt_nodes, dbt_projects, dbt_test_results
from athena_catalog_tests import dbt_fixtures
from athena_catalog_tests.aws_fakes import glue_tables
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import SESSION_HOOKS, HookedAthenaResource


@pytest.mark.parametrize(("version", "rr"), [(11, 5), (12, 6)])
def test_manifest_versions_read_alike(tmp_path: Path, version: int, rr: int) -> None:
    target = dbt_fixtures.write_target(tmp_path / "t", version)
    (artifacts,) = read_artifacts([str(target)])
    assert artifacts.manifest_version == version
    assert artifacts.project == "shop" and artifacts.adapter_type == "athena"
    stg = artifacts.nodes["model.shop.stg_orders"]
    assert (stg.database, stg.schema, stg.identifier, stg.materialization) == (
        "awsdatacatalog",
        "staging",
        "stg_orders",
        "table",
    )
    assert stg.depends_on == ("source.shop.raw.orders",)
    assert stg.tags == ("staging", "orders")
    # Only test results are kept (the model's "success" entry is not a test result).
    statuses = {r.unique_id.split(".")[-1]: r.status for r in artifacts.results}
    assert statuses == {
        "unique_stg_orders_order_id": "pass",
        "not_null_customer_revenue_name": "warn",
        "accepted_values_stg_orders_amount": "fail",
        "source_not_null_raw_orders_order_id": "pass",
        "assert_revenue_positive": "error",
        "relationships_skipped": "skipped",
    }
    warn = artifacts.nodes["test.shop.not_null_customer_revenue_name"]
    assert (warn.test_name, warn.column_name, warn.severity) == ("not_null", "name", "WARN")


def test_catalog_json_descriptions_win_over_the_manifest(tmp_path: Path) -> None:
    (artifacts,) = read_artifacts([str(dbt_fixtures.write_target(tmp_path / "t"))])
    revenue = artifacts.nodes["model.shop.customer_revenue"]
    assert revenue.description == "Revenue per customer (warehouse comment)"
    columns = {c.name: (c.description, c.data_type) for c in revenue.columns}
    # catalog.json's comment over the manifest's description; no comment keeps the manifest's.
    assert columns == {
        "customer_id": (None, "bigint"),
        "name": (None, "varchar"),
        "revenue": ("Sum of paid orders", "double"),
    }
    stg = artifacts.nodes["model.shop.stg_orders"]  # not in catalog.json: the manifest's
    assert stg.description == "Orders without the cancelled ones"


def test_owners_from_meta_config_meta_and_dagster_owners(tmp_path: Path) -> None:
    (artifacts,) = read_artifacts([str(dbt_fixtures.write_target(tmp_path / "t"))])
    assert node_owners(artifacts.nodes["model.shop.stg_orders"]) == ["team:data-platform"]
    assert node_owners(artifacts.nodes["model.shop.customer_revenue"]) == [
        "team:finance",
        "ana@example.com",
    ]


def _rewrite(target: Path, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads((target / name).read_text())
    edit(doc)
    (target / name).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "manifest.json",
            lambda d: d["metadata"].update(
                dbt_schema_version="https://schemas.getdbt.com/dbt/manifest/v10.json"
            ),
            "manifest.json: $.metadata.dbt_schema_version: manifest v10 is not supported "
            "(this version reads v11, v12)",
        ),
        (
            "manifest.json",
            lambda d: d["nodes"]["model.shop.stg_orders"].pop("package_name"),
            "manifest.json: $.nodes['model.shop.stg_orders'].package_name: missing required key",
        ),
        (
            "manifest.json",
            lambda d: d["nodes"]["model.shop.stg_orders"]["depends_on"].update(nodes="x"),
            "manifest.json: $.nodes['model.shop.stg_orders'].depends_on.nodes: expected a list, "
            "got str",
        ),
        (
            "manifest.json",
            lambda d: d.pop("sources"),
            "manifest.json: $.sources: missing required key",
        ),
        (
            "catalog.json",
            lambda d: d["nodes"]["model.shop.customer_revenue"]["columns"]["revenue"].pop("name"),
            "catalog.json: $.nodes['model.shop.customer_revenue'].columns.revenue.name: "
            "missing required key",
        ),
        (
            "run_results.json",
            lambda d: d["results"][2].pop("status"),
            "run_results.json: $.results[2].status: missing required key",
        ),
        (
            "run_results.json",
            lambda d: d["metadata"].update(
                dbt_schema_version="https://schemas.getdbt.com/dbt/run-results/v9.json"
            ),
            "run_results.json: $.metadata.dbt_schema_version: run-results v9 is not supported "
            "(this version reads v4, v5, v6)",
        ),
    ],
)
def test_a_bad_artifact_names_the_file_and_the_json_path(
    tmp_path: Path, name: str, edit, message: str
) -> None:  # type: ignore[no-untyped-def]
    target = dbt_fixtures.write_target(tmp_path / "t")
    _rewrite(target, name, edit)
    with pytest.raises(ArtifactError) as raised:
        read_artifacts([str(target)])
    assert str(raised.value) == message


def test_truncated_json_names_the_value_it_stopped_in(tmp_path: Path) -> None:
    target = dbt_fixtures.write_target(tmp_path / "t")
    text = (target / "manifest.json").read_text()
    cut = text.index("where status <> 'cancelled'")  # inside stg_orders' raw_code
    (target / "manifest.json").write_text(text[:cut])
    with pytest.raises(ArtifactError) as raised:
        read_artifacts([str(target)])
    message = str(raised.value)
    assert message.startswith(
        "manifest.json: $.nodes['model.shop.stg_orders'].raw_code: truncated JSON at line "
    )


def test_no_manifest_is_an_error_naming_the_target(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="missing: not a folder"):
        read_target(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match=r"empty: no manifest\.json"):
        read_target(str(tmp_path / "empty"))


def test_relations_map_lower_cased_onto_catalog_tables(tmp_path: Path) -> None:
    (artifacts,) = read_artifacts([str(dbt_fixtures.write_target(tmp_path / "t"))])
    mapped = map_nodes(
        artifacts,
        [
            "awsdatacatalog.raw.orders",
            "awsdatacatalog.raw.customers",
            "awsdatacatalog.staging.stg_orders",
            "awsdatacatalog.marts.customer_revenue",
        ],
    )
    # "AwsDataCatalog"."raw"."Customers" is Athena's awsdatacatalog.raw.customers.
    assert mapped.tables["source.shop.raw.customers"] == "awsdatacatalog.raw.customers"
    assert mapped.missing == {"model.shop.ghost": "awsdatacatalog.marts.ghost"}
    assert mapped.ephemeral == ("model.shop.int_paid",)
    singular = artifacts.nodes["test.shop.assert_revenue_positive"]
    assert mapping.tested_node(artifacts, singular) == "model.shop.customer_revenue"


def test_quoted_names_keep_their_dots() -> None:
    props = {
        "resource_type": "model",
        "database": "awsdatacatalog",
        "schema": "Sales.EU",
        "alias": "Daily Totals",
        "name": "daily",
        "config": {"materialized": "table"},
    }
    relation = props_relation(props)
    assert relation is not None
    assert relation.fqn == 'awsdatacatalog."sales.eu".daily totals'
    assert props_relation({**props, "config": {"materialized": "ephemeral"}}) is None


def test_artifacts_from_an_s3_prefix_on_moto(tmp_path: Path, moto_endpoint: str) -> None:
    local = dbt_fixtures.write_target(tmp_path / "t")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="dbt-artifacts")
    for path in local.iterdir():
        s3.put_object(
            Bucket="dbt-artifacts", Key=f"shop/target/{path.name}", Body=path.read_bytes()
        )
    s3.put_object(Bucket="dbt-artifacts", Key="shop/target/graph.gpickle", Body=b"not read")
    s3.put_object(Bucket="dbt-artifacts", Key="shop/target/run/x/run_results.json", Body=b"{")
    (from_s3,) = read_artifacts(["s3://dbt-artifacts/shop/target/"], s3)
    (from_disk,) = read_artifacts([str(local)])
    assert from_s3.digest == from_disk.digest
    assert from_s3.files == ("catalog.json", "manifest.json", "run_results.json")
    assert from_s3.nodes == from_disk.nodes
    with pytest.raises(ArtifactError, match=r"s3://dbt-artifacts/none/: no manifest\.json"):
        read_artifacts(["s3://dbt-artifacts/none/"], s3)
    with pytest.raises(ArtifactError) as raised:
        read_artifacts(["s3://no-such-bucket/target/"], s3)
    assert str(raised.value) == (
        "s3://no-such-bucket/target/: s3:ListObjectsV2 failed: NoSuchBucket: "
        "The specified bucket does not exist"
    )


def test_parse_is_deterministic_and_the_digest_follows_the_bytes(tmp_path: Path) -> None:
    target = dbt_fixtures.write_target(tmp_path / "t")
    files = read_target(str(target))
    assert parse_artifacts("a", files).digest == parse_artifacts("b", files).digest
    changed = dict(files, **{"run_results.json": files["run_results.json"] + b" "})
    assert parse_artifacts("a", changed).digest != parse_artifacts("a", files).digest


def _upload(s3, local: Path, bucket: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    s3.create_bucket(Bucket=bucket)
    for path in local.iterdir():
        s3.put_object(Bucket=bucket, Key=f"{prefix}{path.name}", Body=path.read_bytes())


def _glue_lakehouse(moto_endpoint: str) -> None:
    """The fixture project's tables in moto's Glue (raw.customers is dbt's raw.Customers)."""
    session = boto3.Session(region_name=FAKE_REGION)
    tables = {
        "raw": ["orders", "customers"],
        "staging": ["stg_orders"],
        "marts": ["customer_revenue"],
    }
    for database, names in tables.items():
        inputs = [
            {
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {
                    "Columns": [{"Name": "id", "Type": "bigint"}],
                    "Location": f"s3://lake/{database}/{name}/",
                },
            }
            for name in names
        ]
        glue_tables(session, moto_endpoint, database, *inputs)


def test_the_asset_reads_an_s3_target_with_the_engines_client(
    tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ATHENA_CATALOG_DBT_TARGET=s3://...`` through the athena resource on moto's server: the
    S3 calls go to the resource's endpoint with the AWS engine's client settings."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=FAKE_REGION)
    _upload(s3, dbt_fixtures.write_target(tmp_path / "t"), "dbt-artifacts", "shop/target/")
    _glue_lakehouse(moto_endpoint)
    monkeypatch.setenv("ATHENA_CATALOG_DBT_TARGET", "s3://dbt-artifacts/shop/target/")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    agents: list[str] = []
    SESSION_HOOKS.append(
        (
            "before-send.s3.*",
            lambda request, **_: agents.append(
                f"{request.url.split('?')[0]} {request.headers['User-Agent'].decode()}"
            ),
        )
    )
    resources = {
        "athena": HookedAthenaResource(
            engine="aws", region_name=FAKE_REGION, endpoint_url=moto_endpoint, max_attempts=7
        ),
        "catalog_store": CatalogStoreResource(url=url),
    }
    assert dg.materialize([metadata], resources=resources).success
    result = dg.materialize([dbt_artifacts], resources=resources)
    meta = result.asset_materializations_for_node("dbt_artifacts")[0].metadata
    assert (meta["projects"].value, meta["applied"].value) == (1, 1)
    assert meta["nodes_in_catalog"].value == 4 and meta["nodes_not_in_catalog"].value == 1
    store = CatalogStore(url)
    with store.read() as conn:
        (target,) = conn.execute(select(dbt_projects.c.target)).scalars()
        mapped = conn.execute(
            select(dbt_nodes.c.unique_id, dbt_nodes.c.table_fqn).where(
                dbt_nodes.c.resource_type.in_(["model", "source"])
            )
        ).all()
        results = conn.execute(select(dbt_test_results.c.test_unique_id)).scalars().all()
    store.close()
    assert target == "s3://dbt-artifacts/shop/target/"
    assert dict(mapped)["source.shop.raw.customers"] == "awsdatacatalog.raw.customers"
    assert dict(mapped)["model.shop.ghost"] is None
    assert len(results) == 6
    # ListObjectsV2 and the GetObjects of manifest, catalog and run_results, on moto's endpoint,
    # from the engine's client (its user agent and standard retries with the resource's 7 attempts).
    assert len(agents) == 4
    assert all(a.startswith(f"{moto_endpoint}/dbt-artifacts") for a in agents)
    assert all("athena-catalog" in a and "cfg/retry-mode#standard" in a for a in agents)
