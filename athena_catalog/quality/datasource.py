"""A GX SQL datasource bound to an existing SQLAlchemy engine.

GX's SQL datasource builds its own SQLAlchemy engine from a connection string, which would
lose what ``Engine.sqlalchemy_engine`` adds (the boto3 session, the read-only guard and the
marker, reflection through the catalog's listings). This subclass answers ``get_engine`` and
``get_execution_engine`` with the engine it is bound to for the length of one run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from athena_catalog.engines.sqlalchemy_dialect import URL

_BOUND: dict[str, SqlAlchemyExecutionEngine] = {}  # datasource name -> its execution engine


class EngineDatasource(SQLDatasource):
    """An ``awsathena`` SQL datasource on a bound engine; never saved, never reconnected."""

    type: Literal["athena_catalog_engine"] = "athena_catalog_engine"  # type: ignore[assignment]

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
