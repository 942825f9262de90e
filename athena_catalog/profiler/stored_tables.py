"""The tables a profile run may pick from: the store's live tables, as engine ``Table`` records.

The profiler profiles what the crawl cataloged (the same tables the table assets stand for),
so a run costs no listing call; a table crawled since the code location loaded is profiled
too. Columns come in their stored order, partition keys marked.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from athena_catalog.engines.records import Column, Table
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.schema import catalog_columns, catalog_tables
from athena_catalog.timeutil import as_utc


def stored_tables(store: CatalogStore) -> list[Table]:
    """Every live table and view, ordered by fqn."""
    t, c = catalog_tables.c, catalog_columns.c
    with store.read() as conn:
        rows = conn.execute(
            select(
                t.fqn,
                t.catalog,
                t.database,
                t.name,
                t.table_type,
                t.location,
                t.storage_format,
                t.view_sql,
                t.parameters,
                t.updated_at,
            )
            .where(t.deleted.is_(False))
            .order_by(t.fqn)
        ).all()
        columns: dict[str, list[Column]] = defaultdict(list)
        for fqn, name, data_type, is_key in conn.execute(
            select(c.table_fqn, c.name, c.data_type, c.is_partition_key)
            .join(catalog_tables, catalog_tables.c.fqn == c.table_fqn)
            .where(catalog_tables.c.deleted.is_(False))
            .order_by(c.table_fqn, c.ordinal)
        ):
            columns[fqn].append(Column(name, data_type, is_partition_key=bool(is_key)))
    return [
        Table(
            catalog=r.catalog,
            database=r.database,
            name=r.name,
            table_type=r.table_type,
            columns=tuple(columns.get(r.fqn, ())),
            location=r.location,
            storage_format=r.storage_format,
            view_sql=r.view_sql,
            parameters={k: str(v) for k, v in (r.parameters or {}).items()},
            updated_at=as_utc(r.updated_at) if r.updated_at else None,
        )
        for r in rows
    ]
