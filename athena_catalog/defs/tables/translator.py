"""`AthenaTableTranslator`: one stored table -> its Dagster ``AssetSpec``.

Every ``get_*`` method is public and may be overridden, as with ``DagsterDbtTranslator``:
subclass it and pass an instance to :func:`athena_catalog.defs.tables.loader.athena_table_specs`.
Checks, profiles and dbt take their asset keys from the same :meth:`get_asset_key`, so a key
changed here changes everywhere.

>>> class Warehouse(AthenaTableTranslator):
...     def get_asset_key(self, table):
...         return super().get_asset_key(table).with_prefix("warehouse")
>>> Warehouse().get_asset_key(TableRecord("c.d.t", "c", "d", "t")).to_user_string()
'warehouse/athena/c/d/t'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import dagster as dg
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from dagster._utils.tags import is_valid_strict_tag_value, is_valid_tag_key

from athena_catalog.defs.dbt.docs import dbt_column_description, dbt_description, dbt_metadata
from athena_catalog.defs.tables.readable import (
    column_lineage_markdown,
    downstream_markdown,
    view_sql_markdown,
)
from athena_catalog.defs.tables.state import TableRecord, TablesState
from athena_catalog.engines.records import ICEBERG, VIRTUAL_VIEW
from athena_catalog.owners import table_owners

GROUP = "athena_tables"
KEY_PREFIX = "athena"


class TableName(Protocol):
    """What an asset key is made of: any record with these three parts (a TableRecord, an
    engine's Table, a dbt source's Athena relation)."""

    @property
    def catalog(self) -> str: ...

    @property
    def database(self) -> str: ...

    @property
    def name(self) -> str: ...


class AthenaTableTranslator:
    """Turns each :class:`TableRecord` of a :class:`TablesState` into an external asset spec."""

    def get_asset_key(self, table: TableName) -> dg.AssetKey:
        """``athena/<catalog>/<database>/<table>``, lower case, from the table's parts.

        Dagster accepts any string as a key component (dots, quotes, spaces, unicode,
        slashes), so each part is kept verbatim: one component per part makes the mapping
        injective (two tables never share a key), and plain names read as in Athena.
        Override to change the layout, e.g. drop the catalog::

            def get_asset_key(self, table):
                return dg.AssetKey([table.database.lower(), table.name.lower()])
        """
        parts = (table.catalog, table.database, table.name)
        return dg.AssetKey([KEY_PREFIX, *(part.lower() for part in parts)])

    def get_group_name(self, table: TableRecord) -> str | None:
        """``athena_tables``. Override e.g. to group by database::

        def get_group_name(self, table):
            return table.database.lower().replace("-", "_")
        """
        return GROUP

    def get_description(self, table: TableRecord) -> str | None:
        """The table's comment. Override e.g. to add its location::

        def get_description(self, table):
            return f"{table.description or ''} ({table.location})"
        """
        return dbt_description(table.dbt, table.description)

    def get_owners(self, table: TableRecord) -> list[str]:
        """From the ``owner`` tag, else the Glue owner, as ``team:<name>`` or an e-mail (see
        :mod:`athena_catalog.owners`). Override e.g. to map databases to teams::

        def get_owners(self, table):
            return ["team:finance"] if table.database == "finance" else []
        """
        dbt = list(table.dbt.owners) if table.dbt else []
        return list(dict.fromkeys([*table_owners(table.owner, table.tags), *dbt]))

    def get_tags(self, table: TableRecord) -> dict[str, str]:
        """The Athena tags Dagster accepts as tags; the others (spaces, colons, accents,
        ``dagster/`` prefixes) go to the ``athena_tags`` metadata instead of failing the code
        location. Override e.g. to keep only some::

        def get_tags(self, table):
            return {k: v for k, v in super().get_tags(table).items() if k in {"tier"}}
        """
        return split_tags(table.tags)[0]

    def get_kinds(self, table: TableRecord) -> set[str]:
        """``athena``, plus ``iceberg`` or ``view``. Override e.g. to add the format::

        def get_kinds(self, table):
            return super().get_kinds(table) | {(table.storage_format or "").lower()} - {""}
        """
        if table.table_type == ICEBERG:
            return {"athena", "iceberg"}
        if table.table_type == VIRTUAL_VIEW:
            return {"athena", "view"}
        return {"athena"}

    def get_metadata(self, table: TableRecord, state: TablesState) -> dict[str, Any]:
        """Table name, column schema, column lineage, type, location, storage format, partition
        keys, the tags Dagster does not accept, and the upstreams left out to break a cycle.
        Override e.g. to add a link::

        def get_metadata(self, table, state):
            url = f"https://wiki.example.com/tables/{table.fqn}"
            return {**super().get_metadata(table, state), "docs": dg.MetadataValue.url(url)}
        """
        schema = dg.TableSchema(
            columns=[
                dg.TableColumn(
                    c.name,
                    c.data_type,
                    description=dbt_column_description(table.dbt, c.name, c.description),
                )
                for c in table.columns
            ]
        )
        metadata: dict[str, Any] = {
            **TableMetadataSet(
                table_name=table.fqn,
                column_schema=schema,
                column_lineage=self._column_lineage(table, state),
            ),
            "table_type": table.table_type,
        }
        other_tags = split_tags(table.tags)[1]
        optional = {
            "dagster/uri": table.location,
            "storage_format": table.storage_format,
            "partition_keys": [c.name for c in table.columns if c.is_partition_key],
            "athena_tags": dg.MetadataValue.json(other_tags) if other_tags else None,
            "cyclic_upstreams": sorted(state.cyclic_upstreams.get(table.fqn, ())),
            **self._readable_lineage(table, state),
            **dbt_metadata(table.dbt),
        }
        return metadata | {k: v for k, v in optional.items() if v}

    def _readable_lineage(self, table: TableRecord, state: TablesState) -> dict[str, Any]:
        """What the open-source UI shows of the lineage (it does not draw column lineage):
        the edges into the table, the columns computed from its columns, a view's SQL."""
        upstream = state.upstream_edges.get(table.fqn, ())
        downstream = state.downstream_edges.get(table.fqn, ())
        md = dg.MetadataValue.md
        return {
            "column_lineage_table": upstream and md(column_lineage_markdown(table.fqn, upstream)),
            "downstream_impact": downstream and md(downstream_markdown(table.fqn, downstream)),
            "view_sql": table.view_sql and md(view_sql_markdown(table.view_sql)),
        }

    def get_deps(self, table: TableRecord, state: TablesState) -> list[dg.AssetKey]:
        """The keys of its upstream tables in the acyclic lineage graph. Override e.g. to
        depend on views only::

        def get_deps(self, table, state):
            ups = sorted(state.upstreams.get(table.fqn, ()))
            views = [state.tables[u] for u in ups if state.tables[u].table_type == VIRTUAL_VIEW]
            return [self.get_asset_key(v) for v in views]
        """
        upstreams = sorted(state.upstreams.get(table.fqn, ()))
        return [self.get_asset_key(state.tables[fqn]) for fqn in upstreams]

    def get_asset_spec(self, table: TableRecord, state: TablesState) -> dg.AssetSpec:
        """The spec from every ``get_*`` above. Override e.g. to mark assets::

        def get_asset_spec(self, table, state):
            return super().get_asset_spec(table, state).merge_attributes(tags={"src": "athena"})
        """
        return dg.AssetSpec(
            key=self.get_asset_key(table),
            group_name=self.get_group_name(table),
            description=self.get_description(table),
            owners=self.get_owners(table),
            kinds=self.get_kinds(table),
            deps=self.get_deps(table, state),
            tags=self.get_tags(table),
            metadata=self.get_metadata(table, state),
        )

    def _column_lineage(
        self, table: TableRecord, state: TablesState
    ) -> dg.TableColumnLineage | None:
        by_column = state.column_lineage.get(table.fqn)
        if not by_column:
            return None
        return dg.TableColumnLineage(
            deps_by_column={
                column: [
                    dg.TableColumnDep(
                        asset_key=self.get_asset_key(state.tables[fqn]), column_name=name
                    )
                    for fqn, name in sorted(refs)
                ]
                for column, refs in sorted(by_column.items())
            }
        )


def split_tags(tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Athena tags Dagster accepts as tags, and the rest. Dagster's own validators decide, so
    the split follows whatever Dagster version loads the code location."""
    valid: dict[str, str] = {}
    other: dict[str, str] = {}
    for key, value in tags.items():
        ok = is_valid_tag_key(key) and is_valid_strict_tag_value(str(value))
        ok = ok and not key.startswith("dagster/")
        (valid if ok else other)[key] = str(value)
    return valid, other
