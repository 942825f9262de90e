"""The local engine's ``data_scanned_bytes``: what Athena would have read, estimated.

For every table a statement reads (views expanded through their SQL), the table's row count
times a row width summed from its column types. Counts are cached until the next write.
"""

from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from athena_catalog.engines.athena_types import athena_type
from athena_catalog.engines.local.glue_store import GlueStore
from athena_catalog.engines.local.metadata import DIALECT, Context, duck_name, qualify, resolve
from athena_catalog.engines.records import EngineError

# Bytes per value by Athena type prefix; nested values are guessed.
VALUE_BYTES = (
    ("tinyint", 1),
    ("boolean", 1),
    ("smallint", 2),
    ("int", 4),
    ("float", 4),
    ("date", 4),
    ("bigint", 8),
    ("double", 8),
    ("timestamp", 8),
    ("decimal", 16),
    ("string", 24),
    ("varchar", 24),
    ("binary", 32),
)
NESTED_VALUE_BYTES = 64
MAX_VIEW_DEPTH = 8  # a view chain deeper than this is not real


def row_bytes(athena_types: list[str]) -> int:
    """Estimated bytes of one row with these column types."""
    return sum(
        next((size for prefix, size in VALUE_BYTES if t.startswith(prefix)), NESTED_VALUE_BYTES)
        for t in athena_types
    )


class ScanEstimator:
    """Estimated bytes a statement reads; per-table sizes cached until ``clear``."""

    def __init__(self, db: duckdb.DuckDBPyConnection, glue: GlueStore):
        self._db, self._glue = db, glue
        self._table_bytes: dict[tuple[str, str, str], int] = {}

    def clear(self) -> None:
        """Forget cached sizes: called before any statement that may write."""
        self._table_bytes.clear()

    def scanned(self, expression: exp.Expr) -> int:
        """Row count x row width of every table read, views expanded."""
        return sum(self.table_bytes(*table) for table in self._tables_read(expression))

    def _tables_read(self, expression: exp.Expr, depth: int = 0) -> set[tuple[str, str, str]]:
        tables: set[tuple[str, str, str]] = set()
        for node in expression.find_all(exp.Table):
            if not node.catalog or depth > MAX_VIEW_DEPTH:
                continue  # a CTE name, or a view chain too deep to be real
            try:
                catalog, database, name = resolve(self._glue, node, Context(node.catalog, node.db))
            except EngineError:
                continue  # the statement fails on it anyway
            glue = self._glue.table(catalog, database, name)
            if glue is not None and glue.view_sql:
                view = sqlglot.parse_one(glue.view_sql, read=DIALECT)
                view = qualify(view, Context(catalog, database))
                tables |= self._tables_read(view, depth + 1)
            else:
                tables.add((catalog, database, name))
        return tables

    def table_bytes(self, catalog: str, database: str, name: str) -> int:
        """Cached until the next write; plain queries, as duckdb_tables() costs ~5 ms a call."""
        key = (catalog.lower(), database.lower(), name.lower())
        if key not in self._table_bytes:
            target = duck_name(catalog, database, name)
            try:
                counted = self._db.execute(f"SELECT count(*) FROM {target}").fetchone()
                rows = int(counted[0]) if counted else 0
                types = self._db.execute(f"SELECT * FROM {target} LIMIT 0").description or []
                width = row_bytes([athena_type(str(t[1])) for t in types])
            except duckdb.Error:
                rows = width = 0  # a view DuckDB cannot bind any more reads nothing
            self._table_bytes[key] = rows * width
        return self._table_bytes[key]
