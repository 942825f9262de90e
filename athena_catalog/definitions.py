"""The code location: ``dagster dev``, ``dagster definitions validate`` and
``dagster asset materialize`` all load ``athena_catalog.definitions:defs``.

Importing this module never calls AWS: code servers and run workers re-import it.
"""

from __future__ import annotations

import dagster as dg

from athena_catalog.assets.metadata import metadata
from athena_catalog.connection_check import resource_from_args
from athena_catalog.jobs import refresh_catalog_job, test_connection
from athena_catalog.schedules import refresh_catalog_schedule
from athena_catalog.store.resource import CatalogStoreResource

defs = dg.Definitions(
    assets=[metadata],
    jobs=[refresh_catalog_job, test_connection],
    schedules=[refresh_catalog_schedule()],
    resources={
        "athena": resource_from_args([]),
        "catalog_store": CatalogStoreResource(),
    },
)
