"""Test-connection on the embedded engine: the same steps, through the engine contract."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from athena_catalog.connection_check.steps import (
    BEGINNING,
    PAGE,
    Probe,
    Skipped,
    pick_database,
    summary,
)
from athena_catalog.engines.records import DEFAULT_CATALOG

if TYPE_CHECKING:
    from athena_catalog.defs.resources import AthenaResource
    from athena_catalog.engines.contract import Engine
    from athena_catalog.engines.records import Table


class LocalProbe(Probe):
    """The same steps on the embedded engine; no credentials or work groups there."""

    def __init__(self, resource: AthenaResource):
        super().__init__(resource)
        self.catalog: str | None = None
        self.tables_found: list[Table] = []

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from athena_catalog.engines.local import LocalEngine

            self._engine = LocalEngine(self.resource.local_home_path(), read_only=True)
        return self._engine

    def fallback_fix(self) -> str:
        return f"check the local engine at {self.resource.local_home_path()} (make demo builds it)"

    def credentials(self) -> str:
        raise Skipped("not needed: the local engine reads files in local_home")

    def data_catalogs(self) -> str:
        names = [c.name for c in self.engine.list_data_catalogs()]
        default = [n for n in names if n.lower() == DEFAULT_CATALOG.lower()]
        self.catalog = (default or names)[0]
        return summary(names, "data catalogs")

    def databases(self) -> str:
        if not self.catalog:
            raise Skipped("no catalog to list: see list data catalogs")
        names = [d.name for d in self.engine.list_databases(self.catalog)]
        self.database = pick_database(
            self.database, names, f"{self.catalog} at {self.resource.local_home_path()}"
        )
        return summary(names, "databases") + f"; using {self.database}"

    def tables(self) -> str:
        if not (self.catalog and self.database):
            raise Skipped("no database to list: see list databases")
        self.tables_found = self.engine.list_tables(self.catalog, self.database)
        return summary([t.name for t in self.tables_found], f"tables in {self.database}")

    def table_metadata(self) -> str:
        if not self.tables_found:
            raise Skipped("no table to read: see list tables")
        table = self.tables_found[0]
        return f"{table.fqn}: {len(table.columns)} columns, {table.table_type}"

    def work_groups(self) -> str:
        raise Skipped("not applicable: the local engine has no work groups")

    def query_executions(self) -> str:
        (log,) = self.engine.list_work_groups().names[:1] or ("",)
        executions = self.engine.query_executions(log, BEGINNING, lambda ids: {})
        recent = list(itertools.islice(executions, PAGE))
        return f"{len(recent)} recent query executions readable"
