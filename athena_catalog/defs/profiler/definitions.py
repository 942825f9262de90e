"""The profiler: the table_profiles asset, the profile_tables job, its schedule and sensor."""

import dagster as dg

from athena_catalog.defs.profiler.assets import build_table_profiles
from athena_catalog.defs.profiler.jobs import profile_tables_job, profile_tables_schedule
from athena_catalog.defs.profiler.sensors import profile_after_write


def definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[build_table_profiles()],
        jobs=[profile_tables_job],
        schedules=[profile_tables_schedule],
        sensors=[profile_after_write],
    )
