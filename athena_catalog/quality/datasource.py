"""A GX SQL datasource bound to an existing SQLAlchemy engine.

GX's SQL datasource builds its own SQLAlchemy engine from a connection string, which would
lose what ``Engine.sqlalchemy_engine`` adds (the boto3 session, the read-only guard and the
marker, reflection through the catalog's listings). This subclass answers ``get_engine`` and
``get_execution_engine`` with the engine it is bound to for the length of one run.

Its table asset checks that the table exists through reflection (the engine's listings: Glue
on AWS, DuckDB's catalog locally) instead of GX's ``SELECT 1 ... LIMIT 1`` probe, which on
Athena is one more billed statement per table for an answer the listings already hold.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

import sqlalchemy
from great_expectations.compatibility import pydantic
from great_expectations.datasource.fluent.interfaces import DataAsset, TestConnectionError
from great_expectations.datasource.fluent.sql_datasource import (
    QueryAsset,
    SQLDatasource,
    TableAsset,
)
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from athena_catalog.engines.sqlalchemy_dialect import URL

_BOUND: dict[str, SqlAlchemyExecutionEngine] = {}  # datasource name -> its execution engine


class CatalogTableAsset(TableAsset):
    """A table asset whose connection test is a reflection look-up, not a statement."""

    type: Literal["table"] = "table"

    def test_connection(self) -> None:
        schema = self._effective_schema_name
        name = self.table_name[1:-1] if self.table_name.startswith('"') else self.table_name
        engine: sqlalchemy.Engine = self.datasource.get_engine()
        try:
            found = sqlalchemy.inspect(engine).has_table(name, schema=schema)
        except Exception as exc:
            raise TestConnectionError(f'cannot look up "{self.qualified_name}": {exc}') from exc
        if not found:
            raise TestConnectionError(f'table "{self.qualified_name}" does not exist')


class EngineDatasource(SQLDatasource):
    """An ``awsathena`` SQL datasource on a bound engine; never saved, never reconnected."""

    type: Literal["athena_catalog_engine"] = "athena_catalog_engine"  # type: ignore[assignment]
    asset_types: ClassVar[list[builtins.type[DataAsset]]] = [CatalogTableAsset, QueryAsset]
    _TableAsset: builtins.type[TableAsset] = pydantic.PrivateAttr(CatalogTableAsset)

    def get_engine(self) -> sqlalchemy.Engine:
        return _BOUND[self.name].engine

    def get_execution_engine(self) -> SqlAlchemyExecutionEngine:
        return _BOUND[self.name]


@contextmanager
def bind_datasource(context: Any, sa_engine: sqlalchemy.Engine) -> Iterator[EngineDatasource]:
    """A datasource of ``context`` on ``sa_engine`` (no temp tables), for one run."""
    name = f"athena_catalog_{uuid.uuid4().hex}"
    _BOUND[name] = SqlAlchemyExecutionEngine(engine=sa_engine, create_temp_table=False)
    try:
        yield context.data_sources.add_athena_catalog_engine(
            name=name, connection_string=URL, create_temp_table=False
        )
    finally:
        _BOUND.pop(name, None)
