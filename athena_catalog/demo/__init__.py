"""A deterministic demo lakehouse with 30 days of query history, built through LocalEngine.

Everything is created by running Athena SQL through ``LocalEngine.execute`` (tags and data
catalogs through their API calls), so the history is what an Athena account would show.
Its dates are relative to the day it is built (``workload.demo_anchor``): the 30 simulated
days end the evening before, so usage and lineage read with their default windows on any
later day see what the windows cover, as they would on a real account.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from athena_catalog.demo.lakehouse import EXTRA_CATALOGS, TAGS, Statement, lakehouse_statements
from athena_catalog.demo.workload import DAYS, demo_anchor, setup_time, workload
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import EngineError

__all__ = ["DemoSummary", "build_demo"]


@dataclass(frozen=True)
class DemoSummary:
    catalogs: int
    databases: int
    tables: int
    views: int
    rows: int  # rows across all tables (views excluded)
    statements: int  # query history rows
    failed: int
    cancelled: int
    seconds: float
    anchor: datetime  # midnight (UTC) after the last simulated day


class _SimulatedClock:
    """The engine's clock during the build: it stands at each statement's planned time."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def build_demo(
    home: str | Path, *, days: int = DAYS, anchor: datetime | None = None
) -> DemoSummary:
    """Wipe ``home/warehouse``, ``home/s3`` and the demo's store ``home/catalog.db`` (which
    would otherwise hold a previous build's history too), then rebuild the demo lakehouse and
    history.

    ``anchor`` (default: now) picks the day: the history ends the day before it, and builds
    anchored on one day are identical. ``days`` < 30 replays only the first simulated days:
    same statements, same times.
    """
    started = time.perf_counter()
    home = Path(home)
    for folder in ("warehouse", "s3"):
        shutil.rmtree(home / folder, ignore_errors=True)
    for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        (home / name).unlink(missing_ok=True)
    anchor = demo_anchor(anchor or datetime.now(UTC))
    clock = _SimulatedClock(setup_time(anchor))
    engine = LocalEngine(home, read_only=False)
    engine.clock = clock
    try:
        for spec in EXTRA_CATALOGS:
            engine.create_data_catalog(spec.name, spec.type, spec.description, spec.parameters)
        for n, statement in enumerate(lakehouse_statements(anchor.date())):
            clock.now = setup_time(anchor).replace(minute=n // 4, second=(n % 4) * 15)
            _run(engine, statement)
        for (catalog, database, table), tags in TAGS.items():
            engine.tag_table(catalog, database, table, tags)
        for when, statement in workload(anchor, days):
            clock.now = when
            _run(engine, statement)
        return _summarise(engine, anchor, time.perf_counter() - started)
    finally:
        engine.close()


def _run(engine: LocalEngine, statement: Statement) -> None:
    """Run one statement and insist it ends the way the script intends."""
    try:
        engine.execute(
            statement.sql,
            catalog=statement.catalog,
            database=statement.database,
            work_group=statement.work_group,
            timeout_s=statement.timeout_s,
        )
        state = "SUCCEEDED"
    except EngineError as exc:
        state = exc.code or "FAILED"
        if statement.expect == "SUCCEEDED":
            raise
    if state != statement.expect:
        raise RuntimeError(
            f"demo statement ended {state}, expected {statement.expect}: {statement.sql[:200]}"
        )


def _summarise(engine: LocalEngine, anchor: datetime, seconds: float) -> DemoSummary:
    databases = tables = views = rows = 0
    catalogs = engine.list_data_catalogs()
    for catalog in catalogs:
        for database in engine.list_databases(catalog.name):
            databases += 1
            for table in engine.list_tables(catalog.name, database.name):
                views += table.is_view
                tables += not table.is_view
                if not table.is_view:
                    rows += engine.row_count(catalog.name, database.name, table.name)
    history = list(engine.query_history())
    return DemoSummary(
        catalogs=len(catalogs),
        databases=databases,
        tables=tables,
        views=views,
        rows=rows,
        statements=len(history),
        failed=sum(q.state == "FAILED" for q in history),
        cancelled=sum(q.state == "CANCELLED" for q in history),
        seconds=round(seconds, 1),
        anchor=anchor,
    )
