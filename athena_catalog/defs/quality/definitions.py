"""Data quality: one multi-asset check per table, the data_quality job, its schedule and sensor.

The tests come from ``ATHENA_CATALOG_QUALITY_FILE`` (default ``quality.yaml``), checked against
the tables and columns of the catalog store when the code location loads; never AWS. A bad
file never breaks the code location: its errors are logged, listed in the job's metadata
(``load_errors``), and a bad test of a known table becomes a check that fails with its error.
"""

from __future__ import annotations

import logging

import dagster as dg

from athena_catalog import settings
from athena_catalog.defs.quality.checks import table_checks
from athena_catalog.defs.quality.sensors import build_write_sensor
from athena_catalog.defs.tables.state import TablesState, read_tables_state
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.quality.spec import QualitySpec, load_spec

log = logging.getLogger(__name__)

JOB = "data_quality"


def read_spec(state: TablesState) -> QualitySpec:
    """The configured file's tests against ``state``'s tables; each error logged once."""
    path = settings.QUALITY_FILE.read()
    catalog = {
        fqn: {column.name: column.data_type for column in table.columns}
        for fqn, table in state.tables.items()
    }
    spec = load_spec(path, catalog, required=settings.QUALITY_FILE.is_set())
    for error in spec.errors:
        log.warning(f"data quality: {error}")
    return spec


def quality_definitions(
    spec: QualitySpec, state: TablesState, translator: AthenaTableTranslator | None = None
) -> dg.Definitions:
    """The checks of ``spec`` on ``state``'s tables, the job that runs them all, the stopped
    schedule and the write-triggered sensor."""
    by_table = table_checks(spec, state.tables, translator)
    checks = list(by_table.values())
    errors = [str(error) for error in spec.errors]
    job = dg.define_asset_job(
        name=JOB,
        selection=dg.AssetSelection.checks(*checks),
        description=f"Runs every data-quality check of {spec.path}"
        + (f" ({len(errors)} errors in the file: see load_errors)." if errors else "."),
        metadata={
            "quality_file": spec.path,
            "tables": len(checks),
            "checks": sum(len(list(c.check_keys)) for c in checks),
            "load_errors": dg.MetadataValue.md(
                "\n".join(f"- `{e}`" for e in errors) if errors else "none"
            ),
        },
    )
    schedule = dg.ScheduleDefinition(
        name="data_quality_schedule",
        job=job,
        cron_schedule=settings.QUALITY_CRON.read(),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Runs every data-quality check.",
    )
    checks_by_table = {fqn: sorted(c.check_keys, key=str) for fqn, c in by_table.items()}
    return dg.Definitions(
        asset_checks=checks,
        jobs=[job],
        schedules=[schedule],
        sensors=[build_write_sensor(job, checks_by_table)],
    )


def definitions() -> dg.Definitions:
    state = read_tables_state()
    return quality_definitions(read_spec(state), state)
