"""``profile_after_write``: profiles the tables the query history shows written since their
last profile. Each tick reads the store only (no AWS call); the cursor is
``athena_catalog.profiler.due``'s, per table."""

import hashlib
import json

import dagster as dg
from sqlalchemy.exc import OperationalError

from athena_catalog.defs.profiler.config import TABLES_FIELD
from athena_catalog.defs.profiler.jobs import profile_tables_job
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.profiler.due import due_tables
from athena_catalog.profiler.options import parse_options
from athena_catalog.profiler.stored_tables import stored_tables
from athena_catalog.store import StoreError

SENSOR_INTERVAL_S = 300


@dg.sensor(
    name="profile_after_write",
    job=profile_tables_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    description=(
        "Profiles the tables a CTAS, INSERT, MERGE, UPDATE or DELETE in the query history "
        "wrote since their last profile (as usage and lineage resolved the history)."
    ),
)
def profile_after_write(
    context: dg.SensorEvaluationContext, catalog_store: CatalogStoreResource
) -> dg.SensorResult | dg.SkipReason:
    cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    try:
        with catalog_store.open() as store:
            # the tables a default run keeps: live, views left out
            kept = [t.fqn for t in parse_options().select_tables(stored_tables(store))]
            due = due_tables(store, kept, cursor)
    except (StoreError, OperationalError) as exc:  # unreachable: the next tick tries again
        return dg.SkipReason(f"cannot read the catalog store: {exc}")
    if not due.tables:
        return dg.SkipReason("no table written since its last profile")
    tables = sorted(due.tables)
    key = json.dumps([[fqn, due.tables[fqn]] for fqn in tables])
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=hashlib.sha1(key.encode()).hexdigest(),
                run_config={"ops": {"table_profiles": {"config": {TABLES_FIELD: tables}}}},
                tags={"athena_catalog/written_tables": str(len(tables))},
            )
        ],
        cursor=json.dumps(due.cursor, sort_keys=True),
    )
