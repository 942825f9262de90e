"""Which tables the profile-after-write sensor profiles: those the query history shows written
(a successful CTAS, INSERT, MERGE, UPDATE or DELETE) since their last successful profile.

The sensor's cursor holds, per table, the write it last asked a profile for, so a write is
asked for once even while its run is queued; a later write asks again. Writes are compared
per table, not against one global position, so a statement resolved late (``table_usage``
or ``lineage`` parse the history after it is read) is still seen.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from athena_catalog.batching import chunks
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.profiles import last_profiled_at
from athena_catalog.store.schema import lineage_parse_cache, query_history, query_tables
from athena_catalog.timeutil import as_utc

# The parser's statement kinds (LineageResult.statement) that change a table's rows.
ROW_WRITES = frozenset({"ctas", "insert", "merge", "update", "delete"})
IN_LIST = 500  # tables per IN (...) of the writes query


@dataclass(frozen=True)
class Due:
    """Tables to profile now, and the cursor once their run is asked for."""

    tables: dict[str, str]  # fqn -> the write's query id
    cursor: dict[str, str]  # fqn -> ISO time of the newest write asked for


def due_tables(store: CatalogStore, tables: list[str], cursor: dict[str, str]) -> Due:
    """Of ``tables`` (the live ones the profiler would keep), those written after both their
    last successful profile and the write the cursor last asked for."""
    profiled = last_profiled_at(store)
    due: dict[str, str] = {}
    after = dict(cursor)
    for fqn, (query_id, at) in newest_writes(store, tables).items():
        asked = datetime.fromisoformat(cursor[fqn]) if fqn in cursor else None
        if (fqn in profiled and at <= profiled[fqn]) or (asked is not None and at <= asked):
            continue
        due[fqn] = query_id
        after[fqn] = at.isoformat()
    return Due(due, after)


def newest_writes(store: CatalogStore, tables: Collection[str]) -> dict[str, tuple[str, datetime]]:
    """``{fqn: (query id, completion time)}`` of each table's newest successful row write."""
    t, h, p = query_tables.c, query_history.c, lineage_parse_cache.c
    done = func.coalesce(h.completed_at, h.submitted_at)
    newest: dict[str, tuple[str, datetime]] = {}
    with store.read() as conn:
        for batch in chunks(sorted(tables), IN_LIST):
            rows = conn.execute(
                select(t.table_fqn, h.query_id, done, p.result)
                .join(query_history, h.query_id == t.query_id)
                .join(lineage_parse_cache, p.fingerprint == t.fingerprint)
                .where(t.role == "write", h.state == "SUCCEEDED", t.table_fqn.in_(batch))
                .order_by(done, h.query_id)
            )
            for fqn, query_id, at, parsed in rows:
                if (parsed or {}).get("statement") in ROW_WRITES:
                    newest[fqn] = (query_id, as_utc(at))
    return newest
