"""The writes the query history shows to each table, which the write-triggered sensors
(``data_quality_write_sensor``, ``profile_after_write``) compare with their last run.

They come from the resolved history (``query_tables`` role ``write``) with the statement kind
from its cached parse, so a write shows up once a usage or lineage run has resolved it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from athena_catalog.batching import chunks
from athena_catalog.store.schema import lineage_parse_cache, query_history, query_tables
from athena_catalog.timeutil import as_utc

# The lineage parser's statement kinds (LineageResult.statement) that change a table's rows.
WRITE_STATEMENTS = frozenset({"ctas", "insert", "merge", "update", "delete"})
IN_LIST = 500  # tables per IN (...) of the writes query


@dataclass(frozen=True)
class TableWrite:
    """The newest write the query history shows to one table."""

    table_fqn: str
    query_id: str
    completed_at: datetime
    statement: str  # ctas, insert, merge, update, delete


def table_writes(
    conn: Connection, tables: Collection[str], since: datetime | None = None
) -> dict[str, TableWrite]:
    """The newest successful CTAS, INSERT, MERGE, UPDATE or DELETE of each of ``tables``
    completed after ``since`` (every one when ``None``)."""
    t, h, p = query_tables.c, query_history.c, lineage_parse_cache.c
    done = func.coalesce(h.completed_at, h.submitted_at)
    newest: dict[str, TableWrite] = {}
    for batch in chunks(sorted(tables), IN_LIST):
        query = (
            select(t.table_fqn, h.query_id, done, p.result)
            .join(query_history, h.query_id == t.query_id)
            .join(lineage_parse_cache, p.fingerprint == t.fingerprint)
            .where(t.role == "write", h.state == "SUCCEEDED", t.table_fqn.in_(batch))
            .order_by(done, h.query_id)
        )
        if since is not None:
            query = query.where(done > as_utc(since))
        for fqn, query_id, at, result in conn.execute(query):
            statement = (result or {}).get("statement")
            if statement in WRITE_STATEMENTS:
                newest[fqn] = TableWrite(fqn, query_id, as_utc(at), statement)
    return newest
