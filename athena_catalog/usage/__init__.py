"""Query history and usage: ingestion (``ingest``), per-table aggregates (``aggregate``),
the sensor's cheap poll (``poll``) and the usage job's schedules (``schedules``)."""

from athena_catalog.usage.ingest import IngestOptions, IngestStats, billed_bytes, ingest

__all__ = ["IngestOptions", "IngestStats", "billed_bytes", "ingest"]
