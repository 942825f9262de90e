"""Names and listings of the local engine: where a name resolves, and DuckDB's catalog joined
with the Glue store into ``Table`` records.

Each Athena data catalog is one DuckDB file attached under the catalog's lower-case name, so
Athena's ``catalog.database.table`` is DuckDB's ``catalog.schema.table``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from sqlglot import exp
from sqlglot.optimizer.qualify_tables import qualify_tables

from athena_catalog.engines.athena_types import athena_type
from athena_catalog.engines.listing import Listed
from athena_catalog.engines.local.glue_store import GlueStore, GlueTable
from athena_catalog.engines.records import MANAGED_TABLE, VIRTUAL_VIEW, Column, Database, Table

DEFAULT_DATABASE = "default"
DIALECT = "athena"


def quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def duck_name(catalog: str, database: str, name: str | None = None) -> str:
    parts = [catalog.lower(), database] + ([name] if name is not None else [])
    return ".".join(quote(p) for p in parts)


@dataclass(frozen=True)
class Context:
    """Where unqualified names resolve: a canonical Glue catalog name and a database."""

    catalog: str
    database: str


def qualify(expression: exp.Expr, context: Context) -> exp.Expr:
    """Unqualified and two-part names resolve in the statement's catalog and database.

    Qualifies in place: every tree passed here was parsed for this one statement.
    """
    return qualify_tables(expression, catalog=context.catalog, db=context.database, dialect=DIALECT)


def resolve(glue: GlueStore, table: exp.Table, context: Context) -> tuple[str, str, str]:
    """(catalog, database, table) with Glue's spelling of catalog and database."""
    catalog = glue.catalog(table.catalog or context.catalog).name
    database = glue.database(catalog, table.db or context.database).name
    return catalog, database, table.name


def list_tables(
    duck: duckdb.DuckDBPyConnection, glue: GlueStore, catalog: str, database: str
) -> Listed[Table]:
    """Tables as DuckDB holds them, with their Glue rows; a Glue row without a DuckDB
    relation (a warehouse file not attached, another process mid-write) is left out and
    marks the listing incomplete, so it is never taken for a dropped table."""
    db = glue.database(glue.catalog(catalog).name, database)
    glue_rows = glue.tables(db.catalog, db.name)
    columns: dict[str, list[tuple[str, str, str | None]]] = {}
    details: dict[str, tuple[str, bool, str | None]] = {}
    for table, is_view, comment, column, data_type, column_comment in duck.execute(
        """
        SELECT c.table_name, v.view_name IS NOT NULL, coalesce(t.comment, v.comment),
               c.column_name, c.data_type, c.comment
        FROM duckdb_columns() c
        LEFT JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
        LEFT JOIN duckdb_views() v ON v.database_name = c.database_name
            AND v.schema_name = c.schema_name AND v.view_name = c.table_name
        WHERE c.database_name = ? AND lower(c.schema_name) = lower(?)
        ORDER BY c.table_name, c.column_index
        """,
        [db.catalog.lower(), db.name],
    ).fetchall():
        details[table.lower()] = (table, is_view, comment)
        columns.setdefault(table.lower(), []).append((column, data_type, column_comment))
    unseen = sorted(glue_rows[key][0] for key in set(glue_rows) - set(details))
    return Listed(
        (_table(db, *details[key], columns[key], glue_rows.get(key)) for key in sorted(details)),
        incomplete=f"in Glue but not in the warehouse: {', '.join(unseen)}" if unseen else None,
    )


def _table(
    db: Database,
    duck_name: str,
    is_view: bool,
    comment: str | None,
    duck_columns: list[tuple[str, str, str | None]],
    glue_row: tuple[str, GlueTable] | None,
) -> Table:
    name, glue = glue_row or (duck_name, GlueTable(VIRTUAL_VIEW if is_view else MANAGED_TABLE))
    keys = [k.lower() for k in glue.partition_keys]
    cols = [
        Column(col, athena_type(dtype, view=is_view), desc, col.lower() in keys)
        for col, dtype, desc in duck_columns
    ]
    cols.sort(key=lambda c: keys.index(c.name.lower()) if c.is_partition_key else -1)
    return Table(
        catalog=db.catalog,
        database=db.name,
        name=name,
        table_type=glue.table_type,
        columns=tuple(cols),
        description=comment,
        location=glue.location,
        storage_format=glue.storage_format,
        view_sql=glue.view_sql,
        parameters=glue.parameters,
        tags=glue.tags,
        owner=glue.owner,
        created_at=glue.created_at,
        updated_at=glue.updated_at,
    )
