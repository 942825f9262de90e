"""dbt: the dbt_artifacts asset and the dbt tests as asset checks on the table assets."""

import dagster as dg


def definitions() -> dg.Definitions:
    return dg.Definitions()
