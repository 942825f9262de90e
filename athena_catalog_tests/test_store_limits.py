"""Values the source can legally hold fit the store on both backends; a value no store can key
on is rejected with a reason, and never fails the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from athena_catalog.crawl import CrawlOptions
from athena_catalog.engines.records import QueryExecution
from athena_catalog.store import CatalogStore, DeletionPolicy, apply_snapshot
from athena_catalog.store.history import history_cursors, history_rejects, query_history
from athena_catalog.store.schema import catalog_columns, catalog_tables
from athena_catalog.usage.ingest import MAX_ID_BYTES, HistoryWriter, IngestStats, _Chunker
from athena_catalog_tests.test_store import snapshot, table

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def execution(query_id: str, work_group: str = "primary", **kw) -> QueryExecution:
    fields = {
        "query": "SELECT 1",
        "statement_type": "DML",
        "state": "SUCCEEDED",
        "catalog": "awsdatacatalog",
        "database": "default",
        "submitted_at": T0,
        "completed_at": T0 + timedelta(seconds=1),
        "data_scanned_bytes": 10,
        "engine_ms": 5,
    } | kw
    return QueryExecution(query_id=query_id, work_group=work_group, **fields)


def test_long_query_ids_and_work_groups_are_stored(store_url: str) -> None:
    store = CatalogStore(store_url)
    try:
        writer, stats = HistoryWriter(store, "aws"), IngestStats()
        chunker = _Chunker(writer, stats, 100)
        long_wg = "wg-" + "w" * 300
        chunker.add(execution("q" * 200, long_wg))
        chunker.add(execution("é" * 400, "primary", catalog="c" * 600, database="d" * 600))
        chunker.flush((long_wg, T0))
        with store.read() as conn:
            stored = set(conn.execute(select(query_history.c.query_id)).scalars())
            cursor = conn.execute(select(history_cursors.c.work_group)).scalar()
        assert stored == {"q" * 200, "é" * 400} and cursor == long_wg
        assert stats.stored == 2 and not stats.rejected
    finally:
        store.close()


def test_unstorable_ids_go_to_history_rejects_and_the_rest_is_stored(store_url: str) -> None:
    store = CatalogStore(store_url)
    try:
        writer, stats = HistoryWriter(store, "aws"), IngestStats()
        chunker = _Chunker(writer, stats, 100)
        chunker.add(execution("x" * (MAX_ID_BYTES + 1)))
        chunker.add(execution("nul\x00id"))
        chunker.add(execution("lone\ud800surrogate"))
        chunker.add(execution("fine", "bad\x00group"))
        chunker.add(execution("huge-count", data_scanned_bytes=2**63, engine_ms=2**64))
        chunker.add(execution("ok"))
        chunker.flush(("primary", T0))
        with store.read() as conn:
            stored = dict(
                conn.execute(
                    select(query_history.c.query_id, query_history.c.data_scanned_bytes)
                ).all()
            )
            rejects = conn.execute(
                select(history_rejects.c.query_id, history_rejects.c.reason)
            ).all()
        assert stored == {"huge-count": None, "ok": 10}
        assert stats.repaired["invalid_data_scanned_bytes"] == 1
        assert stats.repaired["invalid_engine_ms"] == 1
        reasons = sorted(r for _, r in rejects)
        assert reasons == [
            "invalid_query_id",
            "invalid_query_id",
            "invalid_work_group",
            "query_id_too_long",
        ]
        shown = {q for q, _ in rejects}
        assert "nul\ufffdid" in shown and "lone\ufffdsurrogate" in shown and "fine" in shown
        assert max(len(q) for q in shown) <= 256
    finally:
        store.close()


def test_names_up_to_glue_limits_and_beyond_are_crawled(store_url: str) -> None:
    """Glue allows 255-character names; the fqn joins three, and a local catalog has no
    limit: a table name of 300 characters and a column of 400 must not fail the crawl."""
    store = CatalogStore(store_url)
    try:
        database, name = "d" * 255, "t" * 300
        snap = snapshot({database: [table(database, name, ("c" * 400, "string"))]})
        result = apply_snapshot(store, snap, CrawlOptions(), DeletionPolicy(), engine_kind="local")
        assert len(result.new_tables) == 1
        with store.read() as conn:
            names = conn.execute(select(catalog_tables.c.name)).scalars().all()
            columns = conn.execute(select(catalog_columns.c.name)).scalars().all()
        assert names == [name] and columns == ["c" * 400]
    finally:
        store.close()
