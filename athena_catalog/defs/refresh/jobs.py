"""The job that refreshes the whole catalog: every asset of every domain but the profiler's.

Profiles scan table data, which Athena bills; they run on their own job and schedule
(``profile_tables``, stopped by default), never as a side effect of a daily refresh.
"""

import dagster as dg

refresh_catalog_job = dg.define_asset_job(
    name="refresh_catalog",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("profiler"),
    description="Crawls and refreshes every asset of the catalog (profiles run on their own).",
)
