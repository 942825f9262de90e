"""Concurrent runs on one store, SQLite and PostgreSQL: lineage, history cursors and the
schema upgrade each end as if the runs had taken turns (no error, no lost or doubled row)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from athena_catalog.defs.lineage.assets import build_lineage
from athena_catalog.engines.records import QueryExecution
from athena_catalog.store import CatalogStore, migrations
from athena_catalog.store.history import history_cursors, query_history
from athena_catalog.store.lineage import lineage_statements, lineage_table_edges, read_edges
from athena_catalog.usage.ingest import HistoryWriter, IngestStats, to_row
from athena_catalog_tests.test_store_migrations import _create_legacy_store

T0 = datetime(2024, 5, 1, tzinfo=UTC)
STATEMENTS = 240
RUNS = 3


def _history(url: str) -> None:
    """Distinct INSERT ... SELECT statements: statement k writes t{k % 4} from s{k % 3}."""
    stats = IngestStats()
    rows = [
        to_row(
            QueryExecution(
                query_id=f"q{k:04d}",
                query=f"INSERT INTO db.t{k % 4} SELECT c FROM db.s{k % 3} WHERE n = {k}",
                statement_type="DML",
                state="SUCCEEDED",
                work_group="primary",
                catalog="awsdatacatalog",
                database="db",
                submitted_at=T0 + timedelta(seconds=k),
                completed_at=T0 + timedelta(seconds=k + 1),
                data_scanned_bytes=1,
                engine_ms=1,
            ),
            stats,
        )
        for k in range(STATEMENTS)
    ]
    store = CatalogStore(url)
    HistoryWriter(store, "local").write([r for r in rows if r], [])
    store.close()


def _lineage_run(url: str, start: multiprocessing.synchronize.Barrier) -> None:
    store = CatalogStore(url)
    start.wait(60)
    build_lineage(store, workers=1, chunk_size=20, now=T0 + timedelta(days=1))
    store.close()


def _run_all(target, url: str) -> list[int | None]:  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(RUNS)
    procs = [ctx.Process(target=target, args=(url, start)) for _ in range(RUNS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    return [p.exitcode for p in procs]


def test_concurrent_lineage_runs_analyse_each_statement_once(store_url: str) -> None:
    _history(store_url)
    assert _run_all(_lineage_run, store_url) == [0] * RUNS
    store = CatalogStore(store_url)
    try:
        with store.read() as conn:
            analysed = conn.execute(select(func.count()).select_from(lineage_statements)).scalar()
            edges = read_edges(conn, lineage_table_edges)
    finally:
        store.close()
    assert analysed == STATEMENTS
    a = "awsdatacatalog.db"
    expected = {
        (f"{a}.s{s}", f"{a}.t{t}", "query"): sum(
            1 for k in range(STATEMENTS) if k % 3 == s and k % 4 == t
        )
        for s in range(3)
        for t in range(4)
    }
    assert {k: e.query_count for k, e in edges.items()} == expected


def _open(url: str, start: multiprocessing.synchronize.Barrier) -> None:
    start.wait(60)
    CatalogStore(url).close()


def test_concurrent_opens_upgrade_a_pre_alembic_store_once(store_url: str) -> None:
    _create_legacy_store(store_url)
    assert _run_all(_open, store_url) == [0] * RUNS
    store = CatalogStore(store_url)
    try:
        assert store.upgraded_from == migrations.head()
    finally:
        store.close()


def test_history_cursor_never_moves_back_under_a_slower_run(store_url: str) -> None:
    """Two runs read the cursor, the faster one stores up to later; the slower one's older
    cursor must not pull it back (it would re-read, and skew what the store says it holds)."""
    store = CatalogStore(store_url)
    try:
        fast, slow = HistoryWriter(store, "aws"), HistoryWriter(store, "aws")
        assert fast.cursors() == slow.cursors() == {}
        fast.write([], [], ("etl", T0 + timedelta(hours=2)))
        slow.write([], [], ("etl", T0 + timedelta(hours=1)))
        assert HistoryWriter(store, "aws").cursors() == {"etl": T0 + timedelta(hours=2)}
        slow.write([], [], ("etl", T0 + timedelta(hours=3)))
        assert HistoryWriter(store, "aws").cursors() == {"etl": T0 + timedelta(hours=3)}
        with store.read() as conn:
            assert conn.execute(select(func.count()).select_from(history_cursors)).scalar() == 1
            assert conn.execute(select(func.count()).select_from(query_history)).scalar() == 0
    finally:
        store.close()
