"""The demo's dbt project, built for real with dbt-duckdb into the embedded engine (once per
session), and the committed artifact fixtures made from such a run.

Needs dbt (``make test`` installs it into .venv-dbt); skipped without it unless
ATHENA_CATALOG_REQUIRE_DBT is set, as CI sets it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from athena_catalog.crawl import CrawlOptions, crawl
from athena_catalog.demo.dbt_run import (
    LOCATION_ROOT,
    DbtDemoSummary,
    demo_target,
)
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import EXTERNAL_TABLE, VIRTUAL_VIEW
from athena_catalog_tests.dbt_fixtures import built_dbt_demo
from athena_catalog_tests.fixtures.dbt import make_fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "dbt"
BUILT = {
    "seed.acme_lakehouse.country_regions": ("dbt_staging", "country_regions", EXTERNAL_TABLE),
    "seed.acme_lakehouse.order_statuses": ("dbt_staging", "order_statuses", EXTERNAL_TABLE),
    "model.acme_lakehouse.stg_orders": ("dbt_staging", "stg_orders", VIRTUAL_VIEW),
    "model.acme_lakehouse.stg_customers": ("dbt_staging", "stg_customers", VIRTUAL_VIEW),
    "model.acme_lakehouse.fct_orders": ("dbt_marts", "fct_orders", EXTERNAL_TABLE),
    "model.acme_lakehouse.dim_customers": ("dbt_marts", "dim_customers", EXTERNAL_TABLE),
}
UNIQUE_ORDER_ID = "test.acme_lakehouse.unique_fct_orders_order_id.523ddb6ce5"
NOT_PASSING = {
    UNIQUE_ORDER_ID: "fail",
    "test.acme_lakehouse.assert_customers_have_a_region": "fail",
    "test.acme_lakehouse.assert_one_rate_per_currency_and_day": "warn",
    "test.acme_lakehouse.source_not_null_raw_orders_customer_id.3962c6ab03": "warn",
    "test.acme_lakehouse.not_null_stg_customers_email.d7cf761533": "warn",
}


@pytest.fixture(scope="session")
def dbt_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtDemoSummary]:
    return built_dbt_demo(tmp_path_factory)


def _artifact(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / name).read_text())


def test_the_project_builds_every_seed_and_model_and_its_tests_run(dbt_demo) -> None:
    home, summary = dbt_demo
    assert summary.target == demo_target(home) == home / "dbt" / "target"
    assert (summary.models, summary.seeds) == (4, 2)  # the ephemeral model is not built
    assert summary.tests == {"pass": 17, "warn": 3, "fail": 2}
    results = _artifact(summary.target, "run_results.json")["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert {uid: statuses[uid] for uid in BUILT} == dict.fromkeys(BUILT, "success")
    not_passing = {r["unique_id"]: r for r in results if r["status"] not in ("pass", "success")}
    assert {uid: r["status"] for uid, r in not_passing.items()} == NOT_PASSING
    # The replayed delivery: 300 orders twice (raw.orders 5001-5300), whatever the day.
    assert not_passing[UNIQUE_ORDER_ID]["failures"] == 300
    assert not_passing[UNIQUE_ORDER_ID]["message"] == "Got 300 results, configured to fail if != 0"


def test_the_target_holds_the_builds_results_beside_docs_and_freshness(dbt_demo) -> None:
    """docs generate and source freshness ran apart: run_results.json is still the build's
    (tests pass/fail, not docs' compile-only ``success``), in the manifest's invocation."""
    _, summary = dbt_demo
    target = summary.target
    manifest = _artifact(target, "manifest.json")
    run_results = _artifact(target, "run_results.json")
    assert manifest["metadata"]["dbt_schema_version"].endswith("/manifest/v12.json")
    assert run_results["args"]["which"] == "build"
    tests = [r for r in run_results["results"] if r["unique_id"].startswith("test.")]
    assert len(tests) == 22 and {r["status"] for r in tests} == {"pass", "warn", "fail"}
    catalog = _artifact(target, "catalog.json")
    assert set(BUILT) <= set(catalog["nodes"])
    assert set(catalog["sources"]) == set(manifest["sources"])
    freshness = _artifact(target, "sources.json")
    assert [r["unique_id"] for r in freshness["results"]] == ["source.acme_lakehouse.raw.orders"]
    assert not (target.parent / "scratch").exists()


def test_models_are_listed_by_the_engine_in_the_glue_databases_named_as_their_schemas(
    dbt_demo,
) -> None:
    home, summary = dbt_demo
    manifest = _artifact(summary.target, "manifest.json")
    catalog = _artifact(summary.target, "catalog.json")
    engine = LocalEngine(home)
    try:
        listed = {}
        for database in ("dbt_staging", "dbt_marts"):
            listing = engine.list_tables("AwsDataCatalog", database)
            assert listing.incomplete is None
            listed |= {(database, t.name): t for t in listing}
        assert set(listed) == {(schema, name) for schema, name, _ in BUILT.values()}
        for uid, (schema, name, table_type) in BUILT.items():
            table = listed[schema, name]
            assert table.table_type == table_type
            columns = sorted(catalog["nodes"][uid]["columns"].values(), key=lambda c: c["index"])
            assert [c.name for c in table.columns] == [c["name"] for c in columns]
            if table_type == VIRTUAL_VIEW:
                assert table.view_sql == manifest["nodes"][uid]["compiled_code"].strip()
            else:
                assert table.location == f"{LOCATION_ROOT}/{schema}/{name}/"
                assert table.storage_format == "parquet"
        fct = {c.name: c.data_type for c in listed["dbt_marts", "fct_orders"].columns}
        assert fct["amount_usd"] == "decimal(14,2)" and fct["is_revenue"] == "boolean"
        # One row per staged order: the partner's repeated rates are averaged, not joined twice.
        staged = engine.execute("SELECT count(*) FROM dbt_staging.stg_orders").rows
        assert engine.execute("SELECT count(*) FROM dbt_marts.fct_orders").rows == staged
    finally:
        engine.close()


def test_the_crawl_finds_the_models_and_not_the_ephemeral_one(dbt_demo) -> None:
    home, _ = dbt_demo
    engine = LocalEngine(home)
    try:
        snapshot = crawl(engine, CrawlOptions())
    finally:
        engine.close()
    assert snapshot.errors == []
    crawled = {(t.database, t.name) for t in snapshot.all_tables()}
    assert {(schema, name) for schema, name, _ in BUILT.values()} <= crawled
    assert not any(name == "int_orders_usd" for _, name in crawled)


def _shape(artifacts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a fresh run must share with the fixtures (ids, relations, lineage, outcomes)."""
    manifest = artifacts["manifest.json"]
    nodes = {**manifest["nodes"], **manifest["sources"]}
    return {
        "nodes": {
            uid: (n["resource_type"], n.get("relation_name"), n.get("depends_on", {}).get("nodes"))
            for uid, n in nodes.items()
        },
        "statuses": {r["unique_id"]: r["status"] for r in artifacts["run_results.json"]["results"]},
        "catalog": sorted(artifacts["catalog.json"]["nodes"]),
    }


def test_the_committed_fixtures_are_a_run_of_this_project(dbt_demo) -> None:
    _, summary = dbt_demo
    fresh = make_fixtures._read(summary.target)
    committed = {n: _artifact(FIXTURES / "duckdb", n) for n in make_fixtures.ARTIFACTS}
    assert _shape(committed) == _shape(fresh)
    assert _shape(make_fixtures.trimmed(fresh)) == _shape(fresh)


def test_the_athena_fixtures_are_the_duckdb_ones_rewritten_by_the_script() -> None:
    """No hand edits: the committed athena/ and athena_v11/ are what make_fixtures.py makes
    of the committed duckdb/ run."""
    duckdb = {n: _artifact(FIXTURES / "duckdb", n) for n in make_fixtures.ARTIFACTS}
    athena = make_fixtures.to_athena(duckdb)
    for folder, expected in (("athena", athena), ("athena_v11", make_fixtures.to_v11(athena))):
        assert {n: _artifact(FIXTURES / folder, n) for n in make_fixtures.ARTIFACTS} == expected
    assert athena["manifest.json"]["metadata"]["adapter_type"] == "athena"
    relations = {n["relation_name"] for n in athena["manifest.json"]["nodes"].values()}
    assert '"awsdatacatalog"."dbt_marts"."fct_orders"' in relations
    v11 = make_fixtures.to_v11(athena)
    assert v11["manifest.json"]["metadata"]["dbt_schema_version"].endswith("/manifest/v11.json")
    assert v11["run_results.json"]["metadata"]["dbt_schema_version"].endswith("/v5.json")
    assert _shape(v11) == _shape(duckdb)
