"""A DB-API 2.0 connection that speaks Athena SQL to the local engine, and the SQLAlchemy
engine on it.

Great Expectations and the profiler talk SQLAlchemy. Handing them PyAthena's ``awsathena``
dialect on this connection means they generate exactly the SQL they would send to Athena, and
the embedded engine runs it (sqlglot's Athena dialect, transpiled to DuckDB) - one code path
for both engines, instead of DuckDB's own dialect, whose SQLAlchemy driver loses pending
results on close (see the profiler notes). Every statement is one marked read-only SELECT,
recorded in the engine's history like any other; rows are fetched eagerly. Reflection is
answered from the engine's own listings (``engines.sqlalchemy_dialect``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy
from pyathena.formatter import DefaultParameterFormatter
from sqlalchemy.pool import StaticPool

from athena_catalog.engines.read_only import marked_select
from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.engines.sqlalchemy_dialect import catalog_sqlalchemy_engine

if TYPE_CHECKING:
    from athena_catalog.engines.local.engine import LocalEngine

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"


class LocalCursor:
    """Runs each statement through ``LocalEngine.execute`` after ``marked_select``."""

    arraysize = 1000

    def __init__(self, connection: LocalConnection):
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self._rows: list[tuple[Any, ...]] = []
        self.query_id: str | None = None
        self.data_scanned_in_bytes: int | None = None  # as PyAthena's cursor names it

    def execute(
        self, operation: str, parameters: Mapping[str, Any] | Sequence[Any] | None = None
    ) -> LocalCursor:
        sql = operation
        if parameters is not None:  # as PyAthena: {} still turns SQLAlchemy's %% into %
            sql = DefaultParameterFormatter().format(operation, parameters)  # type: ignore[arg-type]
        result = self.connection.engine.execute(
            marked_select(sql),
            catalog=self.connection.catalog_name,
            database=self.connection.schema_name,
        )
        self.description = [(name, None, None, None, None, None, None) for name in result.columns]
        self._rows, self.rowcount = list(result.rows), len(result.rows)
        self.query_id, self.data_scanned_in_bytes = result.query_id, result.bytes_scanned
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        count = size or self.arraysize
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, sizes: Any) -> None:
        """Part of DB-API; nothing to prepare."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """Part of DB-API; nothing to prepare."""


class LocalConnection:
    """One DB-API connection on a LocalEngine; ``schema_name`` is where PyAthena's dialect
    looks for the default database."""

    def __init__(
        self, engine: LocalEngine, catalog_name: str = DEFAULT_CATALOG, schema_name: str = "default"
    ):
        self.engine, self.catalog_name, self.schema_name = engine, catalog_name, schema_name

    def cursor(self) -> LocalCursor:
        return LocalCursor(self)

    def commit(self) -> None:
        """Reads only: nothing to commit."""

    def rollback(self) -> None:
        """Reads only: nothing to roll back."""

    def close(self) -> None:
        """The engine outlives its connections; closing one frees nothing."""


def local_sqlalchemy_engine(
    engine: LocalEngine, catalog: str = DEFAULT_CATALOG
) -> sqlalchemy.Engine:
    """The ``awsathena`` dialect over one LocalConnection in ``catalog`` (the engine
    serializes its statements anyway), every statement guarded and marked."""
    connection = LocalConnection(engine, catalog)
    return catalog_sqlalchemy_engine(engine, lambda: connection, poolclass=StaticPool)
