"""One external asset per Athena table and view, declared from the catalog store (never AWS)."""

import dagster as dg

from athena_catalog.defs.tables.loader import athena_table_specs


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=athena_table_specs())
