"""The code location: ``dagster dev``, ``dagster definitions validate`` and
``dagster asset materialize`` all load ``athena_catalog.definitions:defs``.

Importing this module never calls AWS: code servers and run workers re-import it.
"""

import dagster as dg

from athena_catalog.assets.athena_tables import athena_table_specs
from athena_catalog.assets.lineage import lineage
from athena_catalog.assets.metadata import metadata
from athena_catalog.assets.usage import query_history, table_usage
from athena_catalog.jobs import refresh_catalog_job, test_connection
from athena_catalog.resource import athena_resource_from_env
from athena_catalog.schedules import refresh_catalog_schedule
from athena_catalog.sensors import new_queries_sensor
from athena_catalog.store.resource import CatalogStoreResource
from athena_catalog.usage.schedules import usage_job, usage_schedules

defs = dg.Definitions(
    # Each Athena table as an external asset, read from the catalog store (never from AWS).
    assets=[metadata, query_history, table_usage, lineage, *athena_table_specs()],
    jobs=[refresh_catalog_job, test_connection, usage_job],
    schedules=[refresh_catalog_schedule(), *usage_schedules()],
    sensors=[new_queries_sensor],
    resources={
        # Engine and connection from ATHENA_CATALOG_* variables (resource.ENV_FIELDS); region,
        # endpoint, profile and credentials from boto3's own AWS_* variables and chain.
        "athena": athena_resource_from_env(),
        "catalog_store": CatalogStoreResource(),
    },
)
