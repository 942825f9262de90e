"""``data_quality_write_sensor``: runs a table's checks when the query history shows a write to
it (CTAS, INSERT, MERGE, UPDATE, DELETE) completed after its last check.

It reads only the catalog store, never Athena: the history the usage job ingests and resolves
(``query_tables`` role ``write``) and the checks' own results (``quality_results``). So a write
shows up here once a usage run has read it. Its cursor holds, per table, the write it last
requested a run for; a run key per (table, write) keeps a re-evaluated tick from asking twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import dagster as dg

from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.store import StoreError
from athena_catalog.store.quality import last_evaluated
from athena_catalog.store.table_writes import table_writes

SENSOR_INTERVAL_S = 300


def build_write_sensor(
    job: dg.UnresolvedAssetJobDefinition,
    checks_by_table: Mapping[str, Sequence[dg.AssetCheckKey]],
    minimum_interval_seconds: int = SENSOR_INTERVAL_S,
) -> dg.SensorDefinition:
    """The sensor over the tables of ``checks_by_table`` (table fqn -> its check keys)."""

    @dg.sensor(
        name="data_quality_write_sensor",
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs a table's data-quality checks after a write to it "
        "(CTAS, INSERT, MERGE, UPDATE, DELETE) in the ingested query history.",
    )
    def data_quality_write_sensor(
        context: dg.SensorEvaluationContext, catalog_store: CatalogStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        if not checks_by_table:
            return dg.SkipReason("no table has data-quality tests")
        requested: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        try:
            with catalog_store.open() as store, store.read() as conn:
                checked = last_evaluated(conn)
                tables = list(checks_by_table)
                # Writes after the oldest last check; every write when a table was never checked.
                since = (
                    None
                    if any(t not in checked for t in tables)
                    else min(checked[t] for t in tables)
                )
                writes = table_writes(conn, tables, since)
        except StoreError as exc:
            return dg.SkipReason(f"cannot read the catalog store: {exc}")
        due = [
            write
            for fqn, write in sorted(writes.items())
            if (fqn not in checked or write.completed_at > checked[fqn])
            and requested.get(fqn) != write.query_id
        ]
        if not due:
            return dg.SkipReason("no write since the tables' last checks")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{write.table_fqn}@{write.query_id}",
                    asset_check_keys=list(checks_by_table[write.table_fqn]),
                    tags={"athena_catalog/write_query_id": write.query_id},
                )
                for write in due
            ],
            cursor=json.dumps(requested | {w.table_fqn: w.query_id for w in due}, sort_keys=True),
        )

    return data_quality_write_sensor
