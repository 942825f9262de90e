"""The two engines behind the Athena resource, ``aws`` (boto3, PyAthena) and ``local`` (DuckDB),
and the contract both keep (``contract.Engine``): callers never ask which one they hold."""
