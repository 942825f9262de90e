"""The two engines behind the Athena resource: ``aws`` (boto3, PyAthena) and ``local`` (DuckDB)."""
