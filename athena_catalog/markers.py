"""The comment that marks queries this project sends itself, and how to tell sources apart.

The profiler, data quality checks and test-connection prepend ``MARKER``; ingestion stores
such queries with ``source = athena_catalog`` and usage and lineage leave them out, so the
catalog never counts its own reads as user activity. dbt puts a JSON comment
(``/* {"app": "dbt", ...} */``) at the start or the end of its queries: those are kept and
tagged ``dbt``.
"""

from __future__ import annotations

import re

MARKER = "/* athena-catalog */"
SOURCE_USER = "user"
SOURCE_SELF = "athena_catalog"
SOURCE_DBT = "dbt"

# dbt's query comment is a JSON object in a block comment, first or last in the statement.
_DBT_COMMENT = re.compile(r"/\*\s*\{[^*]*?\"app\"\s*:\s*\"dbt\"[^*]*?\}\s*\*/")
_EDGE = 4096  # characters at each end searched for a dbt comment


def mark(sql: str) -> str:
    """``sql`` as this project sends it: with the marker comment in front."""
    return f"{MARKER} {sql}"


def query_source(sql: str) -> str:
    """``athena_catalog`` for marked queries, ``dbt`` for dbt's, else ``user``."""
    if sql.lstrip().startswith(MARKER):
        return SOURCE_SELF
    if _DBT_COMMENT.search(sql[:_EDGE]) or _DBT_COMMENT.search(sql[-_EDGE:]):
        return SOURCE_DBT
    return SOURCE_USER
