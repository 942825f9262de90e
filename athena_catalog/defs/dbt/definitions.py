"""dbt: the ``dbt_artifacts`` asset, the dbt tests as asset checks on the table assets, and the
``dbt`` job running both (the checks report what the artifacts just applied).

The checks are declared from the catalog store when the code location loads (never from the
artifacts themselves): a test appears after the reload that follows the ``dbt_artifacts`` run
that stored it, like the table assets after a crawl.
"""

import dagster as dg

from athena_catalog.defs.dbt.assets import dbt_artifacts
from athena_catalog.defs.dbt.checks import dbt_checks
from athena_catalog.defs.tables.state import read_tables_state

JOB = "dbt"


def definitions() -> dg.Definitions:
    checks = dbt_checks(read_tables_state())
    job = dg.define_asset_job(
        JOB,
        selection=dg.AssetSelection.assets(dbt_artifacts) | dg.AssetSelection.checks(*checks),
        description="Reads the dbt artifacts into the catalog and reports the dbt tests' results.",
    )
    return dg.Definitions(assets=[dbt_artifacts], asset_checks=checks, jobs=[job])
