"""The dbt domain in Dagster: ``dbt_artifacts`` materialized on a real instance, the dbt tests as
asset checks with the run's outcomes, and the dagster-dbt recipe loading beside the catalog."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import dagster as dg
import pytest

from athena_catalog.defs.dbt.assets import dbt_artifacts
from athena_catalog.defs.dbt.checks import dbt_checks
from athena_catalog.defs.dbt.definitions import definitions as dbt_definitions
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.defs.tables.state import read_tables_state
from athena_catalog.demo.dbt_run import dbt_executable
from athena_catalog_tests import dbt_fixtures

A = ["athena", "awsdatacatalog"]
EXAMPLE = Path(__file__).parents[1] / "examples" / "dagster_dbt_recipe.py"


@pytest.fixture
def lakehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    dbt_fixtures.crawled_lakehouse(tmp_path / "home", url)
    monkeypatch.setenv("ATHENA_CATALOG_STORE_URL", url)
    monkeypatch.setenv("ATHENA_CATALOG_HOME", str(tmp_path / "home"))
    return tmp_path, url


def resources(home: Path, url: str) -> dict[str, object]:
    return {
        "athena": AthenaResource(engine="local", local_home=str(home / "home")),
        "catalog_store": CatalogStoreResource(url=url),
    }


def test_dbt_tests_are_checks_with_the_runs_outcomes(lakehouse: tuple[Path, str]) -> None:
    home, url = lakehouse
    target = dbt_fixtures.write_target(home / "target")
    run_config = {"ops": {"dbt_artifacts": {"config": {"targets": [str(target)]}}}}
    instance = dg.DagsterInstance.ephemeral()
    first = dg.materialize(
        [dbt_artifacts], resources=resources(home, url), run_config=run_config, instance=instance
    )
    metadata = first.asset_materializations_for_node("dbt_artifacts")[0].metadata
    assert metadata["nodes_not_in_catalog"].value == 1
    assert "awsdatacatalog.marts.ghost" in metadata["not_in_catalog"].value
    assert metadata["dbt_table_edges"].value == 3
    # After the reload: the tests are checks on the table assets, beside the table specs.
    state = read_tables_state(url)
    checks = dbt_checks(state)
    specs = {s.key: s for c in checks for s in c.check_specs}
    by_name = {(k.asset_key.path[-1], k.name): k for k in specs}
    assert set(by_name) == {
        ("stg_orders", "dbt_unique_stg_orders_order_id"),
        ("customer_revenue", "dbt_not_null_customer_revenue_name"),
        ("stg_orders", "dbt_accepted_values_stg_orders_amount"),
        ("orders", "dbt_source_not_null_raw_orders_order_id"),
        ("customer_revenue", "dbt_assert_revenue_positive"),
        ("stg_orders", "dbt_relationships_skipped"),
    }
    unique = specs[by_name[("stg_orders", "dbt_unique_stg_orders_order_id")]]
    assert unique.asset_key == dg.AssetKey([*A, "staging", "stg_orders"])
    assert unique.metadata["column"] == "order_id"

    defs = dg.Definitions.merge(
        dbt_definitions(),
        dg.Definitions(assets=athena_table_specs(url), resources=resources(home, url)),
    )
    dg.Definitions.validate_loadable(defs)
    run = defs.resolve_job_def("dbt").execute_in_process(run_config=run_config, instance=instance)
    assert run.success
    evaluations = {e.check_name: e for e in run.get_asset_check_evaluations()}
    outcome = {name: (e.passed, e.severity) for name, e in evaluations.items()}
    error, warn = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
    assert outcome == {
        "dbt_unique_stg_orders_order_id": (True, error),
        "dbt_not_null_customer_revenue_name": (False, warn),
        "dbt_accepted_values_stg_orders_amount": (False, error),
        "dbt_source_not_null_raw_orders_order_id": (True, error),
        "dbt_assert_revenue_positive": (False, error),
    }
    failed = evaluations["dbt_accepted_values_stg_orders_amount"].metadata
    assert failed["failures"].value == 2 and failed["column"].value == "amount"
    assert failed["execution_time_s"].value == 0.25
    assert "accepted_values_stg_orders_amount" in failed["compiled_sql"].value
    errored = evaluations["dbt_assert_revenue_positive"]
    assert errored.description == "Runtime Error: COLUMN_NOT_FOUND: revenue_usd"
    # The skipped test yielded nothing: Dagster records it as skipped.
    # Planned and yielding nothing: in a finished run Dagster resolves it to SKIPPED.
    stg = dg.AssetKey([*A, "staging", "stg_orders"])
    skipped = dg.AssetCheckKey(stg, "dbt_relationships_skipped")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([skipped])[skipped]
    assert record.run_id == run.run_id and record.status.value == "PLANNED"
    assert "dbt_relationships_skipped" not in evaluations
    # The second run found the same artifact set: not applied again.
    second = run.asset_materializations_for_node("dbt_artifacts")[0].metadata
    assert second["applied"].value == 0 and "unchanged" in second["projects_table"].value


def test_each_stored_result_is_reported_once_in_time_order(lakehouse: tuple[Path, str]) -> None:
    """Two run_results files: two evaluations per test, oldest first (by dbt's time, not by
    file or storage order); the job again: nothing new, nothing reported; a new invocation: its
    results only."""
    home, url = lakehouse
    target = dbt_fixtures.write_target(home / "target")
    first = dbt_fixtures.INVOCATION  # run_results.json, at 05:59:59
    # Stored after it (file order), but dbt ran it an hour before.
    earlier = dbt_fixtures.write_invocation(
        target,
        "run_results_rerun.json",
        2,
        "2024-03-01T04:59:59.000000Z",
        accepted_values_stg_orders_amount="pass",
    )
    run_config = {"ops": {"dbt_artifacts": {"config": {"targets": [str(target)]}}}}
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize(
        [dbt_artifacts], resources=resources(home, url), run_config=run_config, instance=instance
    )
    defs = dg.Definitions.merge(
        dbt_definitions(),
        dg.Definitions(assets=athena_table_specs(url), resources=resources(home, url)),
    )
    job = defs.resolve_job_def("dbt")

    def reported(run: dg.ExecuteInProcessResult) -> dict[str, list[tuple[str, bool]]]:
        out: dict[str, list[tuple[str, bool]]] = {}
        for e in run.get_asset_check_evaluations():
            out.setdefault(e.check_name, []).append(
                (e.metadata["dbt_invocation_id"].value, e.passed)
            )
        return out

    run = job.execute_in_process(run_config=run_config, instance=instance)
    assert run.success
    reportable = {
        "dbt_unique_stg_orders_order_id": True,
        "dbt_not_null_customer_revenue_name": False,
        "dbt_source_not_null_raw_orders_order_id": True,
        "dbt_assert_revenue_positive": False,
    }  # the same in both; relationships_skipped is skipped in both: never reported
    expected = {name: [(earlier, ok), (first, ok)] for name, ok in reportable.items()}
    expected["dbt_accepted_values_stg_orders_amount"] = [(earlier, True), (first, False)]
    assert reported(run) == expected
    stg = dg.AssetKey([*A, "staging", "stg_orders"])
    accepted = dg.AssetCheckKey(stg, "dbt_accepted_values_stg_orders_amount")
    skipped = dg.AssetCheckKey(stg, "dbt_relationships_skipped")
    history = instance.event_log_storage.get_asset_check_execution_history(accepted, limit=10)
    assert [(r.run_id, r.status.value) for r in history] == [(run.run_id, "FAILED")]  # newest

    again = job.execute_in_process(run_config=run_config, instance=instance)
    assert again.success and reported(again) == {}
    latest = instance.event_log_storage.get_asset_check_summary_records([accepted, skipped])
    record = latest[accepted].last_completed_check_execution_record
    assert record is not None and record.run_id == run.run_id
    assert latest[skipped].last_completed_check_execution_record is None

    later = dbt_fixtures.write_invocation(
        target,
        "run_results_next.json",
        3,
        "2024-03-01T07:00:00.000000Z",
        accepted_values_stg_orders_amount="pass",
    )
    third = job.execute_in_process(run_config=run_config, instance=instance)
    assert third.success
    expected = {name: [(later, ok)] for name, ok in reportable.items()}
    expected["dbt_accepted_values_stg_orders_amount"] = [(later, True)]
    assert reported(third) == expected


def test_a_bad_artifact_fails_the_run_naming_file_and_path(lakehouse: tuple[Path, str]) -> None:
    home, url = lakehouse
    target = dbt_fixtures.write_target(home / "target")
    text = (target / "manifest.json").read_text()
    (target / "manifest.json").write_text(text.replace("/manifest/v12.json", "/manifest/v9.json"))
    run_config = {"ops": {"dbt_artifacts": {"config": {"targets": [str(target)]}}}}
    with pytest.raises(dg.Failure, match=r"manifest\.json: \$\.metadata\.dbt_schema_version"):
        dg.materialize([dbt_artifacts], resources=resources(home, url), run_config=run_config)


def test_targets_from_the_environment(
    lakehouse: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, url = lakehouse
    one = dbt_fixtures.write_target(home / "one")
    monkeypatch.setenv("ATHENA_CATALOG_DBT_TARGET", f"{one},{home / 'nowhere'}")
    with pytest.raises(dg.Failure, match="nowhere: not a folder"):
        dg.materialize([dbt_artifacts], resources=resources(home, url))
    monkeypatch.setenv("ATHENA_CATALOG_DBT_TARGET", str(one))
    result = dg.materialize([dbt_artifacts], resources=resources(home, url))
    assert result.asset_materializations_for_node("dbt_artifacts")[0].metadata["applied"].value == 1
    monkeypatch.setenv("ATHENA_CATALOG_DBT_TARGET", "s3://dbt-artifacts/shop/target/")
    with pytest.raises(dg.Failure, match="s3:// targets are read with the aws engine, not 'local'"):
        dg.materialize([dbt_artifacts], resources=resources(home, url))


def _ingested(home: Path, url: str) -> Path:
    target = dbt_fixtures.write_target(home / "project" / "target")
    dg.materialize(
        [dbt_artifacts],
        resources=resources(home, url),
        run_config={"ops": {"dbt_artifacts": {"config": {"targets": [str(target)]}}}},
    )
    return target


def _assert_no_clash(defs: dg.Definitions, dbt_keys: set[dg.AssetKey]) -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    stg = dg.AssetKey([*A, "staging", "stg_orders"])
    revenue = dg.AssetKey([*A, "marts", "customer_revenue"])
    # dbt materializes the models' tables: their keys are the catalog's, and the catalog's
    # external specs yielded to them; sources stay the catalog's external tables.
    assert dbt_keys >= {stg, revenue}
    assert graph.get(stg).is_materializable and graph.get(revenue).is_materializable
    orders = dg.AssetKey([*A, "raw", "orders"])
    assert not graph.get(orders).is_materializable
    assert orders in graph.get(stg).parent_keys
    # The catalog's dbt checks still sit on the table keys dbt now materializes.
    assert dg.AssetCheckKey(stg, "dbt_unique_stg_orders_order_id") in graph.asset_check_keys


def test_dbt_assets_with_the_translator_replace_the_table_specs(
    lakehouse: tuple[Path, str],
) -> None:
    from dagster_dbt import dbt_assets

    from athena_catalog.definitions import build_defs
    from athena_catalog.defs.dbt.dagster_dbt import AthenaDbtTranslator

    home, url = lakehouse
    target = _ingested(home, url)

    @dbt_assets(manifest=target / "manifest.json", dagster_dbt_translator=AthenaDbtTranslator())
    def shop(context):  # type: ignore[no-untyped-def]
        yield from ()

    _assert_no_clash(build_defs(dg.Definitions(assets=[shop])), set(shop.keys))


def test_the_dagster_dbt_recipe_loads_with_the_catalog(
    lakehouse: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dbt = dbt_executable()  # .venv-dbt's when `make test` installed it
    if dbt is None:  # DbtCliResource refuses to exist without it
        dbt_fixtures.without_dbt()
    home, url = lakehouse
    _ingested(home, url)
    (home / "project" / "dbt_project.yml").write_text("name: shop\nversion: '1.0'\n")
    monkeypatch.setenv("DBT_PROJECT_DIR", str(home / "project"))
    monkeypatch.setenv("DBT_EXECUTABLE", str(dbt))
    spec = importlib.util.spec_from_file_location("dagster_dbt_recipe", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "dagster_dbt_recipe", module)
    spec.loader.exec_module(module)
    _assert_no_clash(module.defs, set(module.dbt_models.keys))
