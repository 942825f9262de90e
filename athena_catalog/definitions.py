"""The code location: ``dg dev``, ``dagster dev``, ``dg check defs`` and
``dagster asset materialize`` all load ``athena_catalog.definitions:defs``.

Each domain under ``defs/`` builds its own definitions; this module merges them and applies
the shared policy (the resources every domain uses). Importing it never calls AWS: code
servers and run workers re-import it.
"""

import dagster as dg

from athena_catalog.defs.connection import definitions as connection
from athena_catalog.defs.dbt import definitions as dbt
from athena_catalog.defs.lineage import definitions as lineage
from athena_catalog.defs.metadata import definitions as metadata
from athena_catalog.defs.profiler import definitions as profiler
from athena_catalog.defs.quality import definitions as quality
from athena_catalog.defs.refresh import definitions as refresh
from athena_catalog.defs.resources import CatalogStoreResource, athena_resource_from_env
from athena_catalog.defs.tables import definitions as tables
from athena_catalog.defs.tables.loader import yield_to_materialized
from athena_catalog.defs.usage import definitions as usage

DOMAINS = (metadata, usage, lineage, tables, quality, profiler, dbt, connection, refresh)


def build_defs(*extra: dg.Definitions) -> dg.Definitions:
    """The catalog's definitions merged with ``extra`` (a team's own assets, e.g. dbt models
    run by dagster-dbt): a table's external spec yields to an asset of ``extra`` with its key
    (athena_catalog.defs.tables.loader.yield_to_materialized)."""
    merged = dg.Definitions.merge(
        *(domain.definitions() for domain in DOMAINS),
        *extra,
        dg.Definitions(
            resources={
                # Engine and connection from ATHENA_CATALOG_* variables (RESOURCE_SETTINGS);
                # region, endpoint, profile and credentials from boto3's AWS_* variables.
                "athena": athena_resource_from_env(),
                "catalog_store": CatalogStoreResource(),
            },
        ),
    )
    return yield_to_materialized(merged)


defs = build_defs()
