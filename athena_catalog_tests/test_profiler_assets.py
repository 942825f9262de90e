"""The profiler's Dagster wiring on a real Dagster instance over the materialized demo: the
``table_profiles`` asset, its observations on the table assets (one point per run), the cost
guard in the run, the ``profile_after_write`` sensor and the stopped schedule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import func, select

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.profiler.assets import build_table_profiles
from athena_catalog.defs.profiler.definitions import definitions
from athena_catalog.defs.profiler.jobs import profile_tables_schedule
from athena_catalog.defs.profiler.sensors import profile_after_write
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.defs.usage.assets import query_history
from athena_catalog.engines.contract import run_select
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import VIRTUAL_VIEW
from athena_catalog.profiler.options import ProfilerOptions
from athena_catalog.store import CatalogStore
from athena_catalog.store.profiles import profile_history
from athena_catalog.store.schema import catalog_tables
from athena_catalog_tests.demo_fixtures import materialized_demo

ORDERS = ("AwsDataCatalog", "raw", "orders")
ORDER_LINES = ("AwsDataCatalog", "Odd-Names", "order-lines")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo")
    materialized_demo(home)
    return home


@pytest.fixture
def home(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo (warehouse and store) this test may change."""
    copy = tmp_path / "home"
    shutil.copytree(demo, copy)
    return copy


def _resources(home: Path) -> dict[str, Any]:
    return {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=f"sqlite:///{home / 'catalog.db'}"),
    }


def _profile(
    home: Path, instance: dg.DagsterInstance, config: dict[str, Any] | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_table_profiles()],
        resources=_resources(home),
        instance=instance,
        run_config={"ops": {"table_profiles": {"config": config or {}}}},
        raise_on_error=False,
    )


def _key(parts: tuple[str, str, str]) -> dg.AssetKey:
    class Name:
        catalog, database, name = parts

    return AthenaTableTranslator().get_asset_key(Name())


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node("table_profiles")
    return {k: v.value for k, v in materialization.metadata.items()}


def _observations(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[dg.AssetObservation]:
    records = instance.fetch_observations(key, limit=10, ascending=True).records
    return [r.asset_observation for r in records if r.asset_observation]


def test_profiles_land_on_the_table_assets_one_point_per_run(home: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = _profile(home, instance)
    assert first.success
    second = _profile(home, instance)
    assert second.success

    engine = LocalEngine(home)
    try:
        counts = {parts: engine.row_count(*parts) for parts in (ORDERS, ORDER_LINES)}
        listed = engine.list_tables("AwsDataCatalog", "Odd-Names")
        line_columns = next(t for t in listed if t.name == "order-lines").columns
    finally:
        engine.close()
    for parts, rows in counts.items():
        points = _observations(instance, _key(parts))
        assert len(points) == 2  # one per run
        for point in points:
            metadata = {k: v.value for k, v in point.metadata.items()}
            assert metadata["dagster/row_count"] == rows
            assert metadata["size_bytes"] > 0 and metadata["profile_statements"] == 1
            assert point.tags["athena_catalog/observed_by"] == "profiler"
            assert "| column | type | values |" in metadata["column_profile"]
    lines = {k: v.value for k, v in _observations(instance, _key(ORDER_LINES))[0].metadata.items()}
    assert all(f"`{c.name}`" in lines["column_profile"] for c in line_columns)

    store = CatalogStore(f"sqlite:///{home / 'catalog.db'}")
    try:
        with store.read() as conn:
            tables = conn.execute(
                select(func.count())
                .select_from(catalog_tables)
                .where(catalog_tables.c.deleted.is_(False))
                .where(catalog_tables.c.table_type != VIRTUAL_VIEW)
            ).scalar_one()
        assert len(profile_history(store, "awsdatacatalog.raw.orders")) == 2
    finally:
        store.close()
    metadata = _metadata(second)
    assert metadata["tables_profiled"] == tables and metadata["tables_failed"] == 0
    assert metadata["statements"] == tables  # one scan per table
    assert metadata["table_observations"] == tables
    assert metadata["bytes_scanned"] == metadata["estimated_bytes"] > 0
    assert metadata["cost_usd"] > 0


def test_the_cost_guard_skips_big_tables_unless_partitions_bring_them_under(home: Path) -> None:
    engine = LocalEngine(home)
    try:
        whole = engine.scan_estimates(*ORDERS).size_bytes
        days = run_select(engine, "SELECT DISTINCT dt FROM raw.orders ORDER BY dt LIMIT 2").rows
    finally:
        engine.close()
    assert whole
    partition = {
        "enable_partitioning": True,
        "partition_column_name": "dt",
        "partition_interval_type": "COLUMN-VALUE",
        "partition_values": [d for (d,) in days],
    }
    instance = dg.DagsterInstance.ephemeral()
    result = _profile(
        home,
        instance,
        {
            "max_bytes_per_table": whole - 1,
            "table_filter_pattern": {"includes": ["^orders$", "^web_events$"]},
            "schema_filter_pattern": {"includes": ["^raw$"]},
            "table_config": [{"fully_qualified_name": "raw.orders", "partition_config": partition}],
        },
    )
    assert result.success
    metadata = _metadata(result)
    assert metadata["tables_profiled"] == 1 and metadata["tables_skipped_by_cost_guard"] == 1
    assert "raw.web_events" in metadata["skipped"] and "max_bytes_per_table" in metadata["skipped"]
    assert "partition filter dt IN" in metadata["cost_guard"]
    assert _observations(instance, _key(("AwsDataCatalog", "raw", "web_events"))) == []
    (point,) = _observations(instance, _key(ORDERS))
    assert "dt" in point.metadata["partition_predicate"].value

    store = CatalogStore(f"sqlite:///{home / 'catalog.db'}")
    try:
        (skipped,) = profile_history(store, "awsdatacatalog.raw.web_events")
        (orders,) = profile_history(store, "awsdatacatalog.raw.orders")
    finally:
        store.close()
    assert skipped["error"].startswith("skipped by the cost guard")
    assert skipped["statements"] == 0 and skipped["estimated_bytes"] > whole
    assert orders["error"] is None and 0 < orders["estimated_bytes"] < whole


def test_bad_options_fail_the_run_naming_the_field(home: Path) -> None:
    result = _profile(
        home,
        dg.DagsterInstance.ephemeral(),
        {"table_config": [{"fully_qualified_name": "just_a_name"}]},
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "table_config[0].fully_qualified_name" in str(failure.event_specific_data)


def _tick(home: Path, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        cursor=cursor,
        resources={"catalog_store": _resources(home)["catalog_store"]},
    )
    result = profile_after_write(context)
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    return result


def _tables(result: dg.SensorResult | dg.SkipReason) -> list[str]:
    assert isinstance(result, dg.SensorResult), result
    (request,) = result.run_requests or []
    return request.run_config["ops"]["table_profiles"]["config"]["tables"]


def test_profile_after_write_profiles_what_was_written_since_its_last_profile(
    home: Path,
) -> None:
    first = _tick(home, None)
    written = _tables(first)
    # the workload's CTAS / INSERT / MERGE targets; views are left out
    assert "awsdatacatalog.staging.stg_orders" in written
    assert "awsdatacatalog.analytics.daily_revenue" in written
    assert not any("v_" in fqn.rsplit(".", 1)[-1] for fqn in written)
    assert isinstance(first, dg.SensorResult)
    # asked once: the same writes do not ask again while their run waits
    assert isinstance(_tick(home, first.cursor), dg.SkipReason)

    instance = dg.DagsterInstance.ephemeral()
    request = (first.run_requests or [])[0]
    ran = dg.materialize(
        [build_table_profiles()],
        resources=_resources(home),
        instance=instance,
        run_config=request.run_config,
    )
    assert _metadata(ran)["tables_profiled"] == len(written)
    # profiled since their writes: nothing is due, even with no cursor
    assert isinstance(_tick(home, None), dg.SkipReason)

    writer = LocalEngine(home, read_only=False)
    try:
        writer.execute(
            "INSERT INTO staging.stg_orders_today SELECT * FROM staging.stg_orders_today LIMIT 1"
        )
    finally:
        writer.close()
    resolved = dg.materialize(
        [query_history, lineage], resources=_resources(home), instance=instance
    )
    assert resolved.success
    again = _tick(home, first.cursor)
    assert _tables(again) == ["awsdatacatalog.staging.stg_orders_today"]


def test_profile_after_write_skips_the_tick_when_the_store_is_unreachable(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("")
    for url in (
        "postgresql+psycopg2://catalog:s3cret-pw@127.0.0.1:1/catalog",  # nothing listens
        f"sqlite:///{tmp_path / 'file' / 'catalog.db'}",  # its folder is a file
    ):
        context = dg.build_sensor_context(
            instance=dg.DagsterInstance.ephemeral(),
            resources={"catalog_store": CatalogStoreResource(url=url)},
        )
        result = profile_after_write(context)
        assert isinstance(result, dg.SkipReason)
        assert (result.skip_message or "").startswith("cannot read the catalog store")
        assert "s3cret-pw" not in (result.skip_message or "")


def test_the_schedule_is_stopped_and_profiles_everything() -> None:
    assert profile_tables_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(scheduled_execution_time=None)
    requests = list(profile_tables_schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1 and not requests[0].run_config  # no `tables`: every table


def test_the_launchpad_shows_every_option_with_its_default(tmp_path: Path) -> None:
    defs = dg.Definitions.merge(definitions(), dg.Definitions(resources=_resources(tmp_path)))
    job = defs.resolve_job_def("profile_tables")
    ops = job.run_config_schema.config_type.fields["ops"].config_type
    fields = ops.fields["table_profiles"].config_type.fields["config"].config_type.fields
    assert set(ProfilerOptions.model_fields) | {"tables"} == set(fields)
    assert fields["max_bytes_per_table"].default_value == 10 * 1024**3
    assert fields["sampling_method_type"].default_value == "BERNOULLI"
    assert fields["include_views"].default_value is False
    table_config = fields["table_config"].config_type.inner_type.fields
    partition = table_config["partition_config"].config_type.fields
    kinds = {v.config_value for v in partition["partition_interval_type"].config_type.enum_values}
    assert kinds == {"TIME-UNIT", "INTEGER-RANGE", "COLUMN-VALUE"}
    spec = defs.resolve_assets_def("table_profiles").specs_by_key[dg.AssetKey("table_profiles")]
    assert spec.group_name == "profiler" and spec.owners and spec.kinds == {"athena"}
    assert defs.resolve_assets_def("table_profiles").op.pool == "athena_sql"
