"""Data quality: tests declared in OpenMetadata's vocabulary, run through Great Expectations
as SQL where the data lives. Plain Python; the Dagster wiring is in ``defs/quality``."""
