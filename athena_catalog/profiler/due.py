"""Which tables the profile-after-write sensor profiles: those the query history shows written
(a successful CTAS, INSERT, MERGE, UPDATE or DELETE) since their last successful profile.

The sensor's cursor holds, per table, the write it last asked a profile for, so a write is
asked for once even while its run is queued; a later write asks again. Writes are compared
per table, not against one global position, so a statement resolved late (``table_usage``
or ``lineage`` parse the history after it is read) is still seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.profiles import last_profiled_at
from athena_catalog.store.table_writes import table_writes


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
    with store.read() as conn:
        writes = table_writes(conn, tables)
    for fqn, write in writes.items():
        at = write.completed_at
        asked = datetime.fromisoformat(cursor[fqn]) if fqn in cursor else None
        if (fqn in profiled and at <= profiled[fqn]) or (asked is not None and at <= asked):
            continue
        due[fqn] = write.query_id
        after[fqn] = at.isoformat()
    return Due(due, after)
