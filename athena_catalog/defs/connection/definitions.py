"""The connector's Test Connection as a job."""

import dagster as dg

from athena_catalog.defs.connection.jobs import test_connection


def definitions() -> dg.Definitions:
    return dg.Definitions(jobs=[test_connection])
