"""Data quality: one multi-asset check per table, the data_quality job, its schedule and sensor."""

import dagster as dg


def definitions() -> dg.Definitions:
    return dg.Definitions()
