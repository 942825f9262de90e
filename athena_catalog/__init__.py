"""athena-catalog: a Dagster project that catalogs Amazon Athena."""
