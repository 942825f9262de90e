"""Refreshing the whole catalog: the job over every asset and its daily schedule."""

import dagster as dg

from athena_catalog.defs.refresh.jobs import refresh_catalog_job
from athena_catalog.defs.refresh.schedules import refresh_catalog_schedule


def definitions() -> dg.Definitions:
    return dg.Definitions(jobs=[refresh_catalog_job], schedules=[refresh_catalog_schedule()])
