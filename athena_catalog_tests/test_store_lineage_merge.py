"""Merging lineage edges into the store: counts add up, first/last seen widen, the example
follows the latest sighting; on SQLite and PostgreSQL (the merge is one upsert per edge)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Table

from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import (
    Edges,
    EdgeStats,
    merge_edges,
    read_edges,
    replace_edges,
)
from athena_catalog.store.schema import lineage_column_edges, lineage_table_edges
from athena_catalog.timeutil import as_utc


def at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def stored(store: CatalogStore, table: Table) -> Edges:
    """The stored edges, times in UTC (SQLite gives them back naive)."""
    with store.read() as conn:
        edges = read_edges(conn, table)
    return {
        key: EdgeStats(utc(e.first_seen), utc(e.last_seen), e.query_count, e.example_query_id)
        for key, e in edges.items()
    }


@pytest.fixture
def store(store_url: str) -> Iterator[CatalogStore]:
    s = CatalogStore(store_url)
    yield s
    s.close()


def test_merging_twice_adds_counts_and_widens_times(store: CatalogStore) -> None:
    key = ("awsdatacatalog.raw.orders", "awsdatacatalog.mart.daily", "query")
    other = ("awsdatacatalog.raw.users", "awsdatacatalog.mart.daily", "query")
    with store.write() as conn:
        merge_edges(conn, lineage_table_edges, {key: EdgeStats(at(10), at(12), 3, "q12")})
    with store.write() as conn:
        merge_edges(
            conn,
            lineage_table_edges,
            {
                key: EdgeStats(at(5), at(20), 2, "q20"),  # earlier first, later last
                other: EdgeStats(at(7), at(7), 1, None),
            },
        )
    with store.write() as conn:
        # Older sighting: count adds, times and example stay.
        merge_edges(conn, lineage_table_edges, {key: EdgeStats(at(6), at(8), 4, "q8")})
        # A sighting without an example keeps the stored one.
        merge_edges(conn, lineage_table_edges, {key: EdgeStats(None, at(21), 1, None)})
    assert stored(store, lineage_table_edges) == {
        key: EdgeStats(at(5), at(21), 10, "q20"),
        other: EdgeStats(at(7), at(7), 1, None),
    }


def test_column_edges_merge_on_their_whole_key(store: CatalogStore) -> None:
    a = ("awsdatacatalog.raw.orders", "amount", "awsdatacatalog.mart.daily", "total", "query")
    b = ("awsdatacatalog.raw.orders", "amount", "awsdatacatalog.mart.daily", "total", "view")
    with store.write() as conn:
        merge_edges(conn, lineage_column_edges, {a: EdgeStats(at(1), at(1), 1, "q1")})
        merge_edges(conn, lineage_column_edges, {a: EdgeStats(at(2), at(2), 1, "q2")})
        replace_edges(conn, lineage_column_edges, "view", {b: EdgeStats(at(3), at(3), 1, None)})
        replace_edges(conn, lineage_column_edges, "view", {b: EdgeStats(at(4), at(4), 1, None)})
    assert stored(store, lineage_column_edges) == {
        a: EdgeStats(at(1), at(2), 2, "q2"),
        b: EdgeStats(at(4), at(4), 1, None),
    }
