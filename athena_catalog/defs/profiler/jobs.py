"""The ``profile_tables`` job and its schedule (stopped by default, like every Dagster
schedule: turn it on in the UI or with ``dagster schedule start profile_tables_daily``)."""

from __future__ import annotations

import dagster as dg

profile_tables_job = dg.define_asset_job(
    name="profile_tables",
    selection=dg.AssetSelection.assets("table_profiles"),
    description="Profiles the cataloged tables behind the cost guard (asset table_profiles).",
)

profile_tables_schedule = dg.ScheduleDefinition(
    name="profile_tables_daily",
    job=profile_tables_job,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Profiles every table the default options keep, daily at 04:00 UTC.",
)
