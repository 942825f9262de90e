"""Schedules. Like every Dagster schedule they start stopped: turn them on in the UI or with
``dagster schedule start``."""

from __future__ import annotations

import dagster as dg

from athena_catalog import settings
from athena_catalog.defs.refresh.jobs import refresh_catalog_job


def refresh_catalog_schedule(cron: str | None = None) -> dg.ScheduleDefinition:
    """Daily by default; ``ATHENA_CATALOG_REFRESH_CRON`` or ``cron`` changes it."""
    return dg.ScheduleDefinition(
        name="refresh_catalog_schedule",
        job=refresh_catalog_job,
        cron_schedule=cron or settings.REFRESH_CRON.read(),
        execution_timezone="UTC",
        description="Refreshes the whole catalog.",
    )
