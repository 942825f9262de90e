"""The job that refreshes the whole catalog: every asset of every domain."""

import dagster as dg

refresh_catalog_job = dg.define_asset_job(
    name="refresh_catalog",
    selection=dg.AssetSelection.all(),
    description="Crawls and refreshes every asset of the catalog.",
)
