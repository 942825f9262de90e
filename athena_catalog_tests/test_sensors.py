"""new_queries_sensor through Dagster's sensor testing API, on the local engine and on moto's
server; and the usage schedules."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg

from athena_catalog.defs.resources import AthenaResource
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.defs.usage.schedules import usage_job, usage_schedules
from athena_catalog.defs.usage.sensors import new_queries_sensor
from athena_catalog.engines.local import LocalEngine
from athena_catalog.settings import USAGE_PRESETS
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import SESSION_HOOKS, HookedAthenaResource


def tick(athena: AthenaResource, cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    """One evaluation: (run requests, cursor after it); a skip must say there was no news."""
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"athena": athena}
    )
    result = new_queries_sensor(context)
    if isinstance(result, dg.SkipReason):
        assert result.skip_message == "no new query executions"
        return [], cursor
    return list(result.run_requests or []), result.cursor


def run_sql(home: Path, *statements: str) -> list[datetime]:
    """Statements through a writable engine, closed after (DuckDB allows one writer)."""
    engine = LocalEngine(home, read_only=False)
    try:
        for sql in statements:
            engine.execute(sql)
        return [q.submitted_at for q in engine.query_history()]
    finally:
        engine.close()


def test_local_sensor_runs_only_when_queries_arrive(tmp_path: Path):
    run_sql(tmp_path)
    athena = AthenaResource(engine="local", local_home=str(tmp_path))
    assert tick(athena, None) == ([], None)  # no history at all
    newest = max(run_sql(tmp_path, "SELECT 1", "SELECT 2"))
    requests, cursor = tick(athena, None)
    assert len(requests) == 1 and cursor is not None
    assert datetime.fromisoformat(json.loads(cursor)["*"]) == newest
    assert tick(athena, cursor) == ([], cursor)  # nothing new: no run, same cursor
    run_sql(tmp_path, "SELECT 3")
    again, advanced = tick(athena, cursor)
    assert len(again) == 1 and again[0].run_key != requests[0].run_key
    assert datetime.fromisoformat(json.loads(advanced)["*"]) > newest


def test_aws_sensor_costs_one_listing_per_work_group(moto_endpoint: str):
    client = boto3.client("athena", region_name=FAKE_REGION, endpoint_url=moto_endpoint)
    client.create_work_group(Name="etl", Configuration={})
    client.start_query_execution(QueryString="SELECT 1", WorkGroup="etl")
    calls: Counter = Counter()
    SESSION_HOOKS.append(("before-call.athena.*", lambda model, **_: calls.update([model.name])))
    athena = HookedAthenaResource(engine="aws", region_name=FAKE_REGION, endpoint_url=moto_endpoint)

    requests, cursor = tick(athena, None)
    assert len(requests) == 1
    assert calls == Counter({"ListWorkGroups": 1, "ListQueryExecutions": 2})  # primary, etl
    assert tick(athena, cursor) == ([], cursor)
    client.start_query_execution(QueryString="SELECT 2", WorkGroup="primary")
    requests, advanced = tick(athena, cursor)
    assert len(requests) == 1 and advanced != cursor
    assert requests[0].tags["athena_catalog/work_groups"] == "primary"
    assert json.loads(advanced)["etl"] == json.loads(cursor)["etl"]


def test_usage_schedules_are_presets_stopped_by_default():
    schedules = usage_schedules({"daily": "0 6 * * *"})
    by_name = {s.name: s for s in schedules}
    assert set(by_name) == {f"usage_{p}" for p in USAGE_PRESETS}
    assert by_name["usage_daily"].cron_schedule == "0 6 * * *"
    assert by_name["usage_hourly"].cron_schedule == USAGE_PRESETS["hourly"]
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in schedules)
    defs = dg.Definitions(
        assets=[query_history, table_usage],
        jobs=[usage_job],
        schedules=schedules,
        sensors=[new_queries_sensor],
        resources={
            "athena": AthenaResource(),
            "catalog_store": dg.ResourceDefinition.none_resource(),
        },
    )
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("usage")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} >= {
        "query_history",
        "table_usage",
    }
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 2, 4, 15, tzinfo=UTC)
    )
    assert isinstance(by_name["usage_daily"].evaluate_tick(context).run_requests[0], dg.RunRequest)
