"""The demo lakehouse: built once per module through LocalEngine, checked against its brief."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from athena_catalog.demo import DemoSummary, build_demo
from athena_catalog.demo.workload import DAYS, setup_time
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import ICEBERG, MANAGED_TABLE, QueryExecution

# Another day than the module's build (anchored now), whatever today is.
FIXED_ANCHOR = datetime(2026, 11, 1, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    """The demo as ``make demo`` builds it: anchored at the build's own time."""
    home = tmp_path_factory.mktemp("demo")
    before = datetime.now(UTC)
    summary = build_demo(home)
    assert before - timedelta(days=1) < summary.anchor <= datetime.now(UTC)
    return home, summary


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


def test_history_covers_thirty_days_of_realistic_traffic(
    demo: tuple[Path, DemoSummary], engine: LocalEngine
) -> None:
    history = list(engine.query_history())
    assert {q.work_group for q in history} >= {"primary", "etl", "bi_dashboards", "adhoc"}
    days = {q.submitted_at.date() for q in history}
    assert len(days) == 31  # the build night and 30 simulated days
    anchor = demo[1].anchor
    assert min(q.submitted_at for q in history) == setup_time(anchor)
    # The 30 simulated days are the 30 days before the build day: none lies ahead of it.
    assert max(days) == anchor.date() - timedelta(days=1)
    assert max(q.submitted_at for q in history) < anchor
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


def shifted(row: tuple[object, ...], days: int) -> tuple[object, ...]:
    """A ``deterministic`` row moved ``days`` later: every ISO date in its text, and its time."""

    def move(match: re.Match[str]) -> str:
        return (date.fromisoformat(match.group()) + timedelta(days=days)).isoformat()

    query, *rest = row
    rest[5] = rest[5] + timedelta(days=days)  # submitted_at
    return (re.sub(r"\b\d{4}-\d{2}-\d{2}\b", move, query), *rest)


def test_a_build_on_another_day_replays_the_same_history_shifted(
    demo: tuple[Path, DemoSummary], tmp_path: Path
) -> None:
    """Rebuild the first simulated day elsewhere, anchored on a fixed day: the statements,
    scans and data of the build anchored now, with every date moved by the days between."""
    summary = build_demo(tmp_path, days=1, anchor=FIXED_ANCHOR)
    assert summary.anchor == datetime(2026, 11, 1, tzinfo=UTC)  # the day, not the hour
    shift = (demo[1].anchor - summary.anchor).days
    again, full = LocalEngine(tmp_path), LocalEngine(demo[0])
    try:
        replay = [shifted(deterministic(q), shift) for q in again.query_history()]
        original = [deterministic(q) for q in full.query_history()][: len(replay)]
        assert replay == original
        untouched = [
            ("AwsDataCatalog", "raw", "customers"),
            ("partner_lake", "reference", "currency_rates"),
        ]
        for table in untouched:
            assert again.row_count(*table) == full.row_count(*table) > 0
        # Orders up to the first simulated day's load: same rows, dates moved.
        seeded = "SELECT sum(amount), count(DISTINCT customer_id), count(*) FROM raw.orders"
        first_load = summary.anchor.date() - timedelta(days=DAYS)
        first = again.execute(f"{seeded} WHERE dt < '{first_load}'").rows
        moved = first_load + timedelta(days=shift)
        assert first == full.execute(f"{seeded} WHERE dt < '{moved}'").rows
        assert first[0][2] > 0
    finally:
        again.close()
        full.close()
