"""Query history and usage: the assets, the usage job, its schedules and the new-queries sensor."""

import dagster as dg

from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.defs.usage.schedules import usage_job, usage_schedules
from athena_catalog.defs.usage.sensors import new_queries_sensor


def definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[query_history, table_usage],
        jobs=[usage_job],
        schedules=usage_schedules(),
        sensors=[new_queries_sensor],
    )
