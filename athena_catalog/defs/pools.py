"""The Dagster concurrency pool every step that sends Athena SQL over table data joins.

Profiles and quality checks scan tables; Athena bills each scan and caps concurrent queries
per account, so their steps share one pool across runs. Its limit is the instance's
(``dagster.yaml``: ``concurrency.pools.default_limit``, or ``dagster instance concurrency set
athena_sql N``).
"""

ATHENA_SQL_POOL = "athena_sql"
