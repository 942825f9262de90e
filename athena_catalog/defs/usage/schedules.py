"""The usage job and its schedules: hourly, daily and weekly presets, stopped by default like
every Dagster schedule; turn one on in the UI or with ``dagster schedule start``."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from athena_catalog import settings

# query_history and everything built from it: table_usage, and lineage once it reads history.
USAGE_SELECTION = dg.AssetSelection.assets("query_history").downstream()

usage_job = dg.define_asset_job(
    name="usage",
    selection=USAGE_SELECTION,
    description="Reads new query history, then rebuilds usage (and lineage) from it.",
)


def usage_schedules(crons: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """One schedule per preset, named ``usage_<preset>``; ``crons`` overrides a preset's cron."""
    crons = crons or {}
    return [
        dg.ScheduleDefinition(
            name=f"usage_{preset}",
            job=usage_job,
            cron_schedule=crons.get(preset) or setting.read(),
            execution_timezone="UTC",
            description=f"Query history and usage, {preset}.",
        )
        for preset, setting in settings.USAGE_CRONS.items()
    ]
