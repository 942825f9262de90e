"""The embedded ``local`` engine: Athena SQL over DuckDB, a SQLite file playing Glue.

One module per job: ``glue_store`` (the Glue-like metadata and the history log), ``metadata``
(names and listings), ``statements`` (the Athena-statement emulator), ``scan_estimate``,
``history_import`` (JSONL), ``dbapi`` (DB-API and SQLAlchemy), ``engine`` (ties them).
"""

from athena_catalog.engines.local.engine import LocalEngine

__all__ = ["LocalEngine"]
