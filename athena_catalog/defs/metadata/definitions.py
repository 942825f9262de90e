"""The metadata crawl: data catalogs, databases, tables, views and columns."""

import dagster as dg

from athena_catalog.defs.metadata.assets import metadata


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[metadata])
