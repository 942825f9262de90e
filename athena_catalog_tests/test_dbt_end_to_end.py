"""The demo's dbt project end to end on the embedded engine: the demo lakehouse with the project
built into it by dbt-duckdb, crawled by the real ``metadata`` asset, then the committed artifacts
of such a run (fixtures/dbt/: duckdb, dbt-athena's shape, and dbt 1.7's v11) ingested.

Expected docs, owners, tags, outcomes and lineage are read by hand off the project's YAML and
SQL (athena_catalog/demo/dbt_project/). Needs dbt to build the models' tables (``make test``
installs it into .venv-dbt; CI requires it)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from athena_catalog import cli
from athena_catalog.dbt.artifacts import read_artifacts
from athena_catalog.dbt.ingest import IngestOutcome, apply_artifacts
from athena_catalog.defs.dbt.assets import dbt_artifacts
from athena_catalog.defs.dbt.definitions import definitions as dbt_definitions
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.demo.dbt_run import DbtDemoSummary
from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges, read_edges
from athena_catalog.store.schema import dbt_columns, dbt_projects
from athena_catalog.timeutil import utc_now
from athena_catalog_tests import dbt_fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "dbt"
A = "awsdatacatalog"
RAW_ORDERS, RAW_CUSTOMERS = f"{A}.raw.orders", f"{A}.raw.customers"
RATES = "partner_lake.reference.currency_rates"
STG_ORDERS, STG_CUSTOMERS = f"{A}.dbt_staging.stg_orders", f"{A}.dbt_staging.stg_customers"
STATUSES, REGIONS = f"{A}.dbt_staging.order_statuses", f"{A}.dbt_staging.country_regions"
FCT, DIM = f"{A}.dbt_marts.fct_orders", f"{A}.dbt_marts.dim_customers"

# depends_on, with the ephemeral int_orders_usd (stg_orders, currency_rates, order_statuses)
# followed through into fct_orders and dim_customers.
TABLE_EDGES = {
    (RAW_ORDERS, STG_ORDERS),
    (RAW_CUSTOMERS, STG_CUSTOMERS),
    *((up, FCT) for up in (STG_ORDERS, RATES, STATUSES)),
    *((up, DIM) for up in (STG_ORDERS, RATES, STATUSES, STG_CUSTOMERS, REGIONS)),
}
# Column by column off each model's SELECT (filters, joins and group keys are no sources;
# count(*) reads no column).
COLUMN_EDGES = {
    # stg_orders: raw.orders' columns, order_date = cast(order_ts as date)
    *((RAW_ORDERS, c, STG_ORDERS, c) for c in ("order_id", "customer_id", "order_ts")),
    *((RAW_ORDERS, c, STG_ORDERS, c) for c in ("status", "channel", "amount", "currency")),
    (RAW_ORDERS, "order_ts", STG_ORDERS, "order_date"),
    # stg_customers: email = lower(email), country_code = country
    *((RAW_CUSTOMERS, c, STG_CUSTOMERS, c) for c in ("customer_id", "email", "full_name")),
    *((RAW_CUSTOMERS, c, STG_CUSTOMERS, c) for c in ("segment", "signup_date")),
    (RAW_CUSTOMERS, "country", STG_CUSTOMERS, "country_code"),
    # fct_orders through int_orders_usd: amount_usd = amount * coalesce(usd_rate, 1),
    # is_revenue = coalesce(order_statuses.is_revenue, false)
    *((STG_ORDERS, c, FCT, c) for c in ("order_id", "customer_id", "order_date", "status")),
    *((STG_ORDERS, c, FCT, c) for c in ("channel", "currency", "amount")),
    (STG_ORDERS, "amount", FCT, "amount_usd"),
    (RATES, "usd_rate", FCT, "amount_usd"),
    (STATUSES, "is_revenue", FCT, "is_revenue"),
    # dim_customers: stg_customers, the region seed, and the orders CTE over int_orders_usd:
    # revenue_usd = sum(case when is_revenue then amount_usd ...)
    *((STG_CUSTOMERS, c, DIM, c) for c in ("customer_id", "email", "segment")),
    *((STG_CUSTOMERS, c, DIM, c) for c in ("country_code", "signup_date")),
    (REGIONS, "region", DIM, "region"),
    (STG_ORDERS, "amount", DIM, "revenue_usd"),
    (RATES, "usd_rate", DIM, "revenue_usd"),
    (STATUSES, "is_revenue", DIM, "revenue_usd"),
    (STG_ORDERS, "order_date", DIM, "first_order_date"),
    (STG_ORDERS, "order_date", DIM, "last_order_date"),
}
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
# The run's tests that did not pass (test_dbt_demo.py checks the run itself).
NOT_PASSING = {
    (FCT, "dbt_unique_fct_orders_order_id"): (False, ERROR),
    (DIM, "dbt_assert_customers_have_a_region"): (False, ERROR),
    (RATES, "dbt_assert_one_rate_per_currency_and_day"): (False, WARN),
    (RAW_ORDERS, "dbt_source_not_null_raw_orders_customer_id"): (False, WARN),
    (STG_CUSTOMERS, "dbt_not_null_stg_customers_email"): (False, WARN),
    (RAW_ORDERS, "dbt_freshness"): (False, WARN),  # sources.json: past warn_after (12 hours)
}

DEFINITIONS = "athena_catalog.definitions"


@pytest.fixture(scope="session")
def dbt_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtDemoSummary]:
    return dbt_fixtures.built_dbt_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def crawled(dbt_demo: tuple[Path, DbtDemoSummary], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo lakehouse with the dbt models, crawled once into an SQLite store file."""
    home, _ = dbt_demo
    path = tmp_path_factory.mktemp("crawled") / "catalog.db"
    dbt_fixtures.crawl_into(home, f"sqlite:///{path}")
    return home, path


@pytest.fixture
def store_url(crawled: tuple[Path, Path], tmp_path: Path) -> str:
    """A copy of the crawled store for one test."""
    _, path = crawled
    shutil.copy(path, tmp_path / "catalog.db")
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def ingest(url: str, fixture: str) -> IngestOutcome:
    store = CatalogStore(url)
    try:
        return apply_artifacts(store, read_artifacts([str(FIXTURES / fixture)]), utc_now())
    finally:
        store.close()


def fqn_name(key: dg.AssetKey) -> str:
    return ".".join(key.path[1:])


@pytest.mark.parametrize("fixture", ["duckdb", "athena", "athena_v11"])
def test_every_node_lands_on_its_table_with_the_projects_lineage(
    store_url: str, fixture: str
) -> None:
    """The three shapes of one run map and link alike: dbt-duckdb's, dbt-athena's (adapter
    athena, Athena's type names, an Iceberg table) and dbt 1.7's manifest v11."""
    project = ingest(store_url, fixture).projects[0]
    assert project.applied and project.missing == {}
    assert project.manifest_version == (11 if fixture == "athena_v11" else 12)
    assert project.adapter_type == ("duckdb" if fixture == "duckdb" else "athena")
    assert set(project.mapped.values()) == {
        RAW_ORDERS,
        RAW_CUSTOMERS,
        RATES,
        STG_ORDERS,
        STG_CUSTOMERS,
        STATUSES,
        REGIONS,
        FCT,
        DIM,
    }  # the ephemeral int_orders_usd has no table
    assert project.results == {"pass": 17, "warn": 3, "fail": 2}
    store = CatalogStore(store_url)
    with store.read() as conn:
        tables = {(up, down) for up, down, _ in read_edges(conn, lineage_table_edges, {"dbt"})}
        columns = {e[:4] for e in read_edges(conn, lineage_column_edges, {"dbt"})}
        stored = conn.execute(select(dbt_projects.c.manifest_version)).scalar_one()
        columns_of_fct = select(dbt_columns.c.column_name, dbt_columns.c.data_type).where(
            dbt_columns.c.unique_id == "model.acme_lakehouse.fct_orders"
        )
        types = {name: data_type for name, data_type in conn.execute(columns_of_fct)}
    store.close()
    assert tables == TABLE_EDGES
    assert columns == COLUMN_EDGES
    assert stored == f"v{project.manifest_version}"
    # catalog.json's types (DuckDB's names, or Athena's in dbt-athena's artifacts)
    catalog = json.loads((FIXTURES / fixture / "catalog.json").read_text())
    typed = catalog["nodes"]["model.acme_lakehouse.fct_orders"]["columns"]
    assert types == {name: column["type"] for name, column in typed.items()}
    assert types["amount_usd"] == ("DECIMAL(14,2)" if fixture == "duckdb" else "decimal(14,2)")


def test_table_assets_show_the_projects_docs_owners_and_tags(store_url: str) -> None:
    ingest(store_url, "duckdb")
    specs = {fqn_name(s.key): s for s in athena_table_specs(store_url)}
    fct, dim = specs[FCT], specs[DIM]
    assert fct.description == "One row per order, in USD, with whether it counts as revenue."
    assert fct.owners == ["team:analytics"]  # marts' meta.dagster.owners
    assert set(fct.metadata["dbt_tags"]) == {"marts", "finance"}
    assert fct.metadata["dbt_materialization"] == "table"
    assert fct.metadata["dbt_unique_id"] == "model.acme_lakehouse.fct_orders"
    # The ephemeral model's SQL is inlined in the compiled code, ref() in the raw code.
    assert "__dbt__cte__int_orders_usd" in fct.metadata["dbt_compiled_sql"].value
    assert "{{ ref('int_orders_usd') }}" in fct.metadata["dbt_raw_sql"].value
    described = {c.name: c.description for c in fct.metadata["dagster/column_schema"].columns}
    assert described["amount_usd"] == "Order total in USD."
    assert described["channel"] is None
    # config(meta=...) in the model's SQL, and the marts folder's dagster owners
    assert dim.owners == ["crm-analytics@acme.example", "team:analytics"]
    stg = specs[STG_CUSTOMERS]
    assert stg.owners == ["data-platform@acme.example"]
    assert set(stg.metadata["dbt_tags"]) == {"staging", "pii"}
    assert stg.metadata["dbt_materialization"] == "view"
    assert specs[REGIONS].metadata["dbt_resource_type"] == "seed"
    source = specs[RAW_ORDERS]  # catalog.json's comment (the table's) over the manifest's
    assert source.description == "Shop orders, one file per day"
    assert source.metadata["dbt_resource_type"] == "source"
    # dbt lineage on the assets: deps through the ephemeral model, column lineage by hand
    assert {fqn_name(d.asset_key) for d in fct.deps} >= {STG_ORDERS, RATES, STATUSES}
    lineage = fct.metadata["dagster/column_lineage"].deps_by_column
    assert {(fqn_name(d.asset_key), d.column_name) for d in lineage["amount_usd"]} == {
        (STG_ORDERS, "amount"),
        (RATES, "usd_rate"),
    }


def test_the_dbt_job_reports_the_runs_outcomes_as_checks(
    crawled: tuple[Path, Path], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = crawled
    monkeypatch.setenv("ATHENA_CATALOG_STORE_URL", store_url)
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=store_url),
    }
    run_config = {"ops": {"dbt_artifacts": {"config": {"targets": [str(FIXTURES / "duckdb")]}}}}
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        [dbt_artifacts], resources=resources, run_config=run_config, instance=instance
    ).success
    defs = dg.Definitions.merge(
        dbt_definitions(), dg.Definitions(assets=athena_table_specs(store_url), resources=resources)
    )
    run = defs.resolve_job_def("dbt").execute_in_process(run_config=run_config, instance=instance)
    assert run.success  # failing checks do not fail the run
    outcome = {
        (fqn_name(e.asset_key), e.check_name): (e.passed, e.severity)
        for e in run.get_asset_check_evaluations()
    }
    assert len(outcome) == 22 + 1  # every test, and raw.orders' freshness
    assert {k: v for k, v in outcome.items() if not v[0]} == NOT_PASSING
    assert outcome[(FCT, "dbt_not_null_fct_orders_order_id")] == (True, ERROR)
    evaluations = {e.check_name: e for e in run.get_asset_check_evaluations()}
    unique = evaluations["dbt_unique_fct_orders_order_id"]
    assert unique.metadata["failures"].value == 300  # the replayed delivery
    assert unique.metadata["column"].value == "order_id"
    assert unique.description == "Got 300 results, configured to fail if != 0"
    assert "count(*) > 1" in unique.metadata["compiled_sql"].value


def test_the_demo_target_is_the_default_on_the_local_engine(
    crawled: tuple[Path, Path], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing configured: the local engine's ``<home>/dbt/target`` (the demo writes it); the
    AWS engine has no default."""
    _, _ = crawled
    monkeypatch.delenv("ATHENA_CATALOG_DBT_TARGET", raising=False)
    home = tmp_path / "home"
    shutil.copytree(FIXTURES / "duckdb", home / "dbt" / "target")

    def run(engine: str) -> dict[str, object]:
        resources = {
            "athena": AthenaResource(engine=engine, local_home=str(home), region_name="eu-west-1"),
            "catalog_store": CatalogStoreResource(url=store_url),
        }
        result = dg.materialize([dbt_artifacts], resources=resources)
        return {
            k: v.value
            for k, v in result.asset_materializations_for_node("dbt_artifacts")[0].metadata.items()
        }  # type: ignore[union-attr]

    assert run("aws")["projects"] == 0
    local = run("local")
    assert (local["projects"], local["applied"], local["nodes_not_in_catalog"]) == (1, 1, 0)


def test_the_demo_command_ingests_the_dbt_project_and_says_so(
    dbt_demo: tuple[Path, DbtDemoSummary],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``athena-catalog demo`` after the build: its jobs, the dbt job among them, and the
    summary's dbt lines (a copy of the built home, so other tests' store is untouched)."""
    built, _ = dbt_demo
    home = tmp_path / "home"
    shutil.copytree(built, home, ignore=shutil.ignore_patterns("catalog.db*"))
    monkeypatch.delenv("ATHENA_CATALOG_STORE_URL", raising=False)
    # Both set by the command for itself: recorded here so they are undone after the test.
    monkeypatch.setenv("ATHENA_CATALOG_DBT_TARGET", "")
    monkeypatch.setenv("ATHENA_CATALOG_ENGINE", "local")
    monkeypatch.setenv("ATHENA_CATALOG_HOME", str(home))
    (tmp_path / "dagster").mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # what `make ui` shows
    # The command runs in a process of its own: its code location is loaded with this home,
    # and forgotten afterwards (later tests import the module over their own stores).
    before = sys.modules.pop(DEFINITIONS, None)
    try:
        assert cli._materialize_demo() == 0
    finally:
        sys.modules.pop(DEFINITIONS, None)
        if before is not None:
            sys.modules[DEFINITIONS] = before
    summary = dict(
        line.strip().rsplit(None, 1)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  dbt ")
    )
    assert summary == {
        "dbt nodes on tables": "9",
        "dbt tests passed": "17",
        "dbt tests warned": "3",
        "dbt tests failed": "2",
    }
    # The checks' evaluations are in the instance, with the run's outcomes.
    fct = dg.AssetKey(["athena", *FCT.split(".")])
    unique = dg.AssetCheckKey(fct, "dbt_unique_fct_orders_order_id")
    not_null = dg.AssetCheckKey(fct, "dbt_not_null_fct_orders_order_id")
    with dg.DagsterInstance.get() as instance:
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [unique, not_null]
        )
    assert {k.name: r.status.value for k, r in records.items()} == {
        unique.name: "FAILED",
        not_null.name: "SUCCEEDED",
    }
