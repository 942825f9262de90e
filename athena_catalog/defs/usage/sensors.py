"""``new_queries_sensor``: runs the usage job only when Athena has executions it has not seen.

Each tick costs one ListWorkGroups and one ListQueryExecutions page per work group on aws (one
read of the log's tail on local). The sensor's own Dagster cursor holds the marks of the last
tick that requested a run; the store keeps the ingestion cursors, so a run requested here
still fetches only what is not stored.
"""

import hashlib
import json

import dagster as dg

from athena_catalog import settings
from athena_catalog.defs.resources import AthenaResource
from athena_catalog.defs.usage.schedules import usage_job
from athena_catalog.engines.records import EngineError
from athena_catalog.usage.poll import history_marks


def build_new_queries_sensor(
    minimum_interval_seconds: int | None = None,
) -> dg.SensorDefinition:
    """The sensor, polling every ``minimum_interval_seconds`` (default
    ``ATHENA_CATALOG_USAGE_SENSOR_INTERVAL`` or 300 s)."""

    @dg.sensor(
        name="new_queries_sensor",
        job=usage_job,
        minimum_interval_seconds=minimum_interval_seconds or settings.USAGE_SENSOR_INTERVAL.read(),
        description="Requests a usage run when new Athena query executions appear.",
    )
    def new_queries_sensor(
        context: dg.SensorEvaluationContext, athena: AthenaResource
    ) -> dg.SensorResult | dg.SkipReason:
        previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        try:
            with athena.get_engine() as engine:
                marks = history_marks(engine, previous)
        except EngineError as exc:
            return dg.SkipReason(f"could not poll query history: {exc}")
        changed = sorted(wg for wg, mark in marks.items() if previous.get(wg) != mark)
        if not changed:
            return dg.SkipReason("no new query executions")
        cursor = json.dumps(marks, sort_keys=True)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=hashlib.sha1(cursor.encode()).hexdigest(),
                    tags={"athena_catalog/work_groups": ",".join(changed)[:200]},
                )
            ],
            cursor=cursor,
        )

    return new_queries_sensor


new_queries_sensor = build_new_queries_sensor()
