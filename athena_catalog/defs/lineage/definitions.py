"""Table- and column-level lineage from query history and view definitions."""

import dagster as dg

from athena_catalog.defs.lineage.assets import lineage


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[lineage])
