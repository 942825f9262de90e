"""PyAthena's ``awsathena`` SQLAlchemy dialect with reflection answered by the engine contract.

Great Expectations and the profiler reflect a table's columns before they query it. PyAthena
answers that through Athena's metadata API (GetTableMetadata) on its own cursor: the embedded
engine has no such API, and neither has moto. Both engines already list tables with their
columns (``Engine.list_tables``: Glue's GetTables on AWS, DuckDB's catalog locally), so this
dialect asks the engine instead. Its name stays ``awsathena``, so GX takes its Athena paths
and generates exactly the SQL it would send to Athena.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy
from pyathena.sqlalchemy.rest import AthenaRestDialect
from sqlalchemy import exc
from sqlalchemy.dialects import registry
from sqlalchemy.engine import reflection

from athena_catalog.engines.read_only import guard_sqlalchemy
from athena_catalog.engines.records import DEFAULT_CATALOG, Table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from athena_catalog.engines.contract import Engine

DRIVER = "catalog"
URL = f"awsathena+{DRIVER}://"


class CatalogAthenaDialect(AthenaRestDialect):
    """``awsathena`` whose reflection reads ``catalog_engine``'s listings (set by the engine
    that creates the SQLAlchemy engine); queries still go through the DB-API connection."""

    driver = DRIVER
    supports_statement_cache = True
    catalog_engine: Engine | None = None

    def _where(self, connection: Connection, schema: str | None) -> tuple[str, str]:
        raw = connection.connection.driver_connection
        catalog = getattr(raw, "catalog_name", None) or DEFAULT_CATALOG
        return catalog, schema or getattr(raw, "schema_name", None) or "default"

    def _tables(self, connection: Connection, schema: str | None, **kw: Any) -> list[Table]:
        if self.catalog_engine is None:
            raise exc.InvalidRequestError("this awsathena+catalog engine has no catalog engine")
        catalog, database = self._where(connection, schema)
        cache = kw.get("info_cache")
        key = ("athena_catalog_tables", catalog.lower(), database.lower())
        if cache is not None and key in cache:
            return list(cache[key])
        tables = list(self.catalog_engine.list_tables(catalog, database))
        if cache is not None:
            cache[key] = tables
        return tables

    def _table(
        self, connection: Connection, table_name: str, schema: str | None, **kw: Any
    ) -> Table:
        wanted = str(table_name).lower()
        for table in self._tables(connection, schema, **kw):
            if table.name.lower() == wanted:
                return table
        raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else str(table_name))

    @reflection.cache
    def get_schema_names(self, connection: Connection, **kw: Any) -> list[str]:
        if self.catalog_engine is None:
            return []
        catalog, _ = self._where(connection, None)
        return [d.name for d in self.catalog_engine.list_databases(catalog)]

    @reflection.cache
    def get_table_names(
        self, connection: Connection, schema: str | None = None, **kw: Any
    ) -> list[str]:
        return [t.name for t in self._tables(connection, schema, **kw) if not t.is_view]

    @reflection.cache
    def get_view_names(
        self, connection: Connection, schema: str | None = None, **kw: Any
    ) -> list[str]:
        return [t.name for t in self._tables(connection, schema, **kw) if t.is_view]

    @reflection.cache
    def has_table(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        try:
            self._table(connection, table_name, schema, **kw)
        except exc.NoSuchTableError:
            return False
        return True

    @reflection.cache
    def get_columns(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        table = self._table(connection, table_name, schema, **kw)
        return [
            {
                "name": column.name,
                "type": self._get_column_type(column.data_type),
                "nullable": True,
                "default": None,
                "autoincrement": False,
                "comment": column.description,
                "dialect_options": {"awsathena_partition": True} if column.is_partition_key else {},
            }
            for column in table.columns
        ]

    @reflection.cache
    def get_table_comment(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        return {"text": self._table(connection, table_name, schema, **kw).description}

    @reflection.cache
    def get_view_definition(
        self, connection: Connection, view_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        return self._table(connection, view_name, schema, **kw).view_sql


registry.register(f"awsathena.{DRIVER}", __name__, "CatalogAthenaDialect")


def catalog_sqlalchemy_engine(
    engine: Engine, creator: Callable[[], Any], **kwargs: Any
) -> sqlalchemy.Engine:
    """A guarded (read-only, marked) ``awsathena`` engine on ``creator``'s DB-API
    connections, reflecting through ``engine``'s listings."""
    sa_engine = sqlalchemy.create_engine(URL, creator=creator, **kwargs)
    sa_engine.dialect.catalog_engine = engine  # type: ignore[attr-defined]
    return guard_sqlalchemy(sa_engine)
