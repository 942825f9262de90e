"""The profiler: the table_profiles asset, the profile_tables job, its schedule and sensor."""

import dagster as dg


def definitions() -> dg.Definitions:
    return dg.Definitions()
