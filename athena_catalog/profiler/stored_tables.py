"""The tables a profile run may pick from: the store's live tables, as engine ``Table`` records.

The profiler profiles what the crawl cataloged (the same tables the table assets stand for),
so a run costs no listing call; a table crawled since the code location loaded is profiled
too. Columns come in their stored order, partition keys marked.
"""

from __future__ import annotations

from sqlalchemy import select

from athena_catalog.engines.records import Table
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.schema import catalog_tables
from athena_catalog.store.table_pages import live_columns
from athena_catalog.timeutil import as_utc


def stored_tables(store: CatalogStore) -> list[Table]:
    """Every live table and view, ordered by fqn."""
    t = catalog_tables.c
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
        columns = live_columns(conn)
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
