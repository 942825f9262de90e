"""dbt artifacts into the catalog: models, docs, owners, tests and lineage. Plain Python (no
dbt-core at runtime); the Dagster wiring is in ``defs/dbt``."""
