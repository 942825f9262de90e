"""The demo lakehouse: built once per module through LocalEngine, checked against its brief."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from athena_catalog.demo import DemoSummary, build_demo
from athena_catalog.demo.workload import setup_time
from athena_catalog.engines.base import ICEBERG, MANAGED_TABLE, QueryExecution
from athena_catalog.engines.local import LocalEngine


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    home = tmp_path_factory.mktemp("demo")
    return home, build_demo(home)


@pytest.fixture
def engine(demo: tuple[Path, DemoSummary]):
    engine = LocalEngine(demo[0])
    yield engine
    engine.close()


def deterministic(q: QueryExecution) -> tuple[object, ...]:
    """A history row without what legitimately differs between builds: ids and timings."""
    return (
        q.query,
        q.statement_type,
        q.state,
        q.work_group,
        q.catalog,
        q.database,
        q.submitted_at,
        q.data_scanned_bytes,
    )


def test_summary_meets_the_minimums(demo: tuple[Path, DemoSummary]) -> None:
    summary = demo[1]
    assert summary.catalogs >= 2
    assert summary.databases >= 6
    assert summary.tables >= 25
    assert summary.views >= 4
    assert summary.rows >= 500_000
    assert summary.statements >= 1000
    assert summary.failed >= 10
    assert summary.cancelled >= 3


def test_catalog_surface_has_the_variety_the_crawler_needs(engine: LocalEngine) -> None:
    catalogs = {c.name: c for c in engine.list_data_catalogs()}
    assert catalogs["partner_lake"].parameters == {"catalog-id": "123456789012"}
    assert {c.type for c in catalogs.values()} == {"GLUE", "LAMBDA"}
    databases = {d.name for d in engine.list_databases("AwsDataCatalog")}
    assert {"raw", "staging", "analytics", "Odd-Names"} <= databases
    tables = [
        t
        for catalog in catalogs
        for db in engine.list_databases(catalog)
        for t in engine.list_tables(catalog, db.name)
    ]
    types = Counter(t.table_type for t in tables)
    assert types[ICEBERG] >= 3 and types[MANAGED_TABLE] >= 2 and types["EXTERNAL_TABLE"] >= 15
    assert {t.storage_format for t in tables} >= {"parquet", "orc", "avro", "csv", "json"}
    all_types = {c.data_type for t in tables for c in t.columns}
    for prefix in ("struct<", "array<struct<", "map<", "decimal(", "array<string>"):
        assert any(t.startswith(prefix) for t in all_types), prefix
    assert sum(bool(t.partition_keys) for t in tables) >= 6
    assert sum(bool(t.tags) for t in tables) >= 6
    assert sum(bool(t.description) for t in tables) >= 10
    assert all(t.location.startswith("s3://") for t in tables if not t.is_view)
    names = {t.name for t in tables} | {c.name for t in tables for c in t.columns}
    assert {"select", "Mixed Case Table", "café_ventes", "order", "user id"} <= names
    odd = next(t for t in tables if t.name == "Daily Summary")
    assert odd.view_sql.startswith('SELECT s."from" AS source')


def test_history_covers_thirty_days_of_realistic_traffic(engine: LocalEngine) -> None:
    history = list(engine.query_history())
    assert {q.work_group for q in history} >= {"primary", "etl", "bi_dashboards", "adhoc"}
    days = {q.submitted_at.date() for q in history}
    assert len(days) == 31  # the build night and 30 simulated days
    assert min(q.submitted_at for q in history) == setup_time()
    kinds = Counter(q.query.lstrip().split(None, 1)[0].upper() for q in history)
    for keyword in ("CREATE", "INSERT", "MERGE", "UNLOAD", "DELETE", "ALTER", "DROP", "SHOW"):
        assert kinds[keyword] > 0, keyword
    assert sum("CREATE OR REPLACE VIEW" in q.query for q in history) >= 4
    assert sum("WITH (format=" in q.query for q in history) >= 30  # daily CTAS
    assert {q.statement_type for q in history} == {"DDL", "DML", "UTILITY"}
    assert all(
        q.data_scanned_bytes == 0
        for q in history
        if q.statement_type == "DDL" and "AS SELECT" not in q.query and " AS\nSELECT" not in q.query
    )
    dashboards = [q for q in history if q.work_group == "bi_dashboards"]
    assert len({q.query for q in dashboards}) < len(dashboards) / 2 < len(dashboards)
    assert all(q.data_scanned_bytes > 0 for q in dashboards)
    cancelled = [q for q in history if q.state == "CANCELLED"]
    assert cancelled and all(q.error_message and q.engine_ms >= 200 for q in cancelled)
    assert any("daily_revenu " in q.query for q in history if q.state == "FAILED")
    unloaded = list((engine.home / "s3" / "acme-exports").rglob("*.parquet"))
    assert len(unloaded) == 30


def test_a_second_build_replays_the_same_history(
    demo: tuple[Path, DemoSummary], tmp_path: Path
) -> None:
    """Rebuild the first simulated day elsewhere: identical statements, times and scans."""
    build_demo(tmp_path, days=1)
    again, full = LocalEngine(tmp_path), LocalEngine(demo[0])
    try:
        replay = [deterministic(q) for q in again.query_history()]
        original = [deterministic(q) for q in full.query_history()][: len(replay)]
        assert replay == original
        untouched = [
            ("AwsDataCatalog", "raw", "customers"),
            ("partner_lake", "reference", "currency_rates"),
        ]
        for table in untouched:
            assert again.row_count(*table) == full.row_count(*table) > 0
        first = again.execute(
            "SELECT sum(amount), count(DISTINCT customer_id) FROM raw.orders"
            " WHERE dt < '2026-10-01'"
        ).rows
        assert (
            first
            == full.execute(
                "SELECT sum(amount), count(DISTINCT customer_id)"
                " FROM raw.orders WHERE dt < '2026-10-01'"
            ).rows
        )
    finally:
        again.close()
        full.close()
