"""Profiles in the store: ``table_profiles`` and ``column_profiles``, a time series.

Every profile is a new row (failed and skipped ones too, with their ``error``), never an
update, so a table's numbers can be plotted over time; readers take the newest per table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from athena_catalog.batching import chunks
from athena_catalog.profiler.metrics import COLUMN_METRICS, ColumnProfile, TableProfile
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.schema import column_profiles, table_profiles
from athena_catalog.timeutil import as_utc

_TABLE_FIELDS: tuple[str, ...] = (
    "row_count",
    "column_count",
    "size_bytes",
    "last_modified",
    "sample_type",
    "sample_value",
    "partition_predicate",
    "estimated_bytes",
    "bytes_scanned",
    "cost_usd",
    "error",
)


def write_profiles(
    store: CatalogStore, profiles: Sequence[TableProfile], *, run_id: str | None = None
) -> int:
    """Append ``profiles`` and their column profiles in one transaction; the rows added."""
    if not profiles:
        return 0
    with store.write() as conn:
        for p in profiles:
            profile_id = conn.execute(
                insert(table_profiles).returning(table_profiles.c.id),
                {
                    "table_fqn": p.table_fqn,
                    "profiled_at": p.profiled_at,
                    "statements": len(p.statements),
                    "run_id": run_id,
                    **{name: getattr(p, name) for name in _TABLE_FIELDS},
                },
            ).scalar_one()
            if p.columns:
                conn.execute(
                    insert(column_profiles),
                    [
                        {
                            "profile_id": profile_id,
                            "table_fqn": p.table_fqn,
                            "profiled_at": p.profiled_at,
                            "column_name": c.column_name,
                            "data_type": c.data_type,
                            **c.metrics(),
                        }
                        for c in p.columns
                    ],
                )
    return len(profiles)


def last_profiled_at(store: CatalogStore, *, successful: bool = True) -> dict[str, datetime]:
    """Each profiled table's newest profile time (only profiles without an error, unless
    ``successful`` is False): what the profile-after-write sensor compares writes with."""
    t = table_profiles.c
    query = select(t.table_fqn, func.max(t.profiled_at)).group_by(t.table_fqn)
    if successful:
        query = query.where(t.error.is_(None))
    with store.read() as conn:
        return {fqn: as_utc(at) for fqn, at in conn.execute(query)}


def latest_profiles(
    store: CatalogStore, fqns: Collection[str] | None = None
) -> dict[str, TableProfile]:
    """The last written profile of each table (of ``fqns``, or of every profiled table),
    with its column profiles; ``statements`` holds as many placeholders as were sent."""
    t = table_profiles.c
    newest = select(t.table_fqn, func.max(t.id).label("id")).group_by(t.table_fqn)
    if fqns is not None:
        newest = newest.where(t.table_fqn.in_(list(fqns)))
    ids = newest.subquery()
    with store.read() as conn:
        rows = conn.execute(select(table_profiles).join(ids, t.id == ids.c.id)).mappings().all()
        columns = _columns(conn, [r["id"] for r in rows])
    return {r["table_fqn"]: _profile(r, columns.get(r["id"], [])) for r in rows}


def _profile(row: Any, columns: list[ColumnProfile]) -> TableProfile:
    fields: dict[str, Any] = {name: row[name] for name in _TABLE_FIELDS}
    if fields["last_modified"] is not None:
        fields["last_modified"] = as_utc(fields["last_modified"])
    return TableProfile(
        table_fqn=row["table_fqn"],
        profiled_at=as_utc(row["profiled_at"]),
        statements=("",) * row["statements"],
        columns=tuple(columns),
        **fields,
    )


def profile_history(store: CatalogStore, fqn: str) -> list[dict[str, Any]]:
    """Every profile of one table, oldest first: its rows of ``table_profiles``."""
    t = table_profiles.c
    with store.read() as conn:
        rows = conn.execute(
            select(table_profiles).where(t.table_fqn == fqn).order_by(t.profiled_at, t.id)
        )
        return [dict(r) for r in rows.mappings()]


def _columns(conn: Connection, profile_ids: list[int]) -> dict[int, list[ColumnProfile]]:
    found: dict[int, list[ColumnProfile]] = {}
    c = column_profiles.c
    for ids in chunks(profile_ids, 500):
        rows = conn.execute(
            select(column_profiles).where(c.profile_id.in_(ids)).order_by(c.id)
        ).mappings()
        for r in rows:
            found.setdefault(r["profile_id"], []).append(
                ColumnProfile(
                    r["column_name"], r["data_type"], **{name: r[name] for name in COLUMN_METRICS}
                )
            )
    return found
