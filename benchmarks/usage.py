"""Usage benchmark: ingestion, table resolution and aggregation of synthetic query logs.

    python benchmarks/usage.py [--sizes 100000 1000000] [--dir /tmp/usage-bench]

Each size runs in its own process (so peak RSS is that run's alone) against a fresh SQLite
store, and the parent prints a markdown table. The log is shaped like a real one: 30 days,
six work groups, 80% dashboard and report queries repeating 60 shapes with new literals, 7%
ETL and dbt runs of 300 jobs, 1% the project's own (marked) queries, 2% failures, and a 12%
ad-hoc long tail whose shapes follow a power law (Pareto, alpha 0.3) over 20,000 distinct
statements, so most ad-hoc statements are parsed once.

The history streams from a generator standing in for the engine (``kind = "local"``, oldest
first), so what is measured is this project's code: ``usage.ingest`` (validation, chunked
inserts, cursor), ``lineage.resolve.resolve_history`` (fingerprint, lineage parser on cache misses)
and ``usage.aggregate.aggregate`` (SQL over the store).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from athena_catalog.batching import chunks
from athena_catalog.engines.contract import StoredTimes
from athena_catalog.engines.records import HistoryReadNotes, QueryExecution, WorkGroups
from athena_catalog.lineage.resolve import resolve_history
from athena_catalog.markers import mark
from athena_catalog.store import CatalogStore
from athena_catalog.usage import IngestOptions, ingest
from athena_catalog.usage.aggregate import UsageOptions, aggregate

END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
WORK_GROUPS = ("bi_dashboards", "etl", "adhoc", "finance", "ml", "primary")
DATABASES = [f"db{d:02d}" for d in range(8)]
TABLES = [(db, f"t{t:02d}") for db in DATABASES for t in range(25)]
COLUMNS = [f"c{c}" for c in range(10)]
ADHOC_SHAPES = 20_000


def _dashboard_shapes(rng: random.Random) -> list[str]:
    """Templates with ``{d}`` (a date) and ``{n}`` (a number) where literals change."""
    shapes = []
    for n in range(60):
        (db, a), (db2, b) = rng.sample(TABLES, 2)
        col, val = rng.sample(COLUMNS, 2)
        if n % 3 == 0:
            shapes.append(
                f"SELECT x.{col}, sum(y.{val}) AS total FROM {db}.{a} x JOIN {db2}.{b} y"
                f" ON x.id = y.id WHERE x.dt >= '{{d}}' AND y.{val} > {{n}} GROUP BY x.{col}"
            )
        else:
            shapes.append(
                f"SELECT {col}, count(*) AS n, avg({val}) FROM {a}"
                f" WHERE dt = '{{d}}' AND {val} < {{n}} GROUP BY {col} ORDER BY n DESC LIMIT 50"
            )
    return shapes


def _adhoc(shape: int) -> tuple[str, str]:
    """Ad-hoc statement number ``shape``: its database context and SQL, deterministic."""
    rng = random.Random(shape)
    (db, a), (db2, b) = rng.sample(TABLES, 2)
    cols = ", ".join(rng.sample(COLUMNS, rng.randint(1, 4)))
    if rng.random() < 0.4:
        sql = (
            f"SELECT {cols} FROM {db}.{a} a LEFT JOIN {db2}.{b} b ON a.id = b.id"
            f" WHERE a.{rng.choice(COLUMNS)} IS NOT NULL LIMIT {rng.randint(10, 1000)}"
        )
    else:
        sql = f"SELECT {cols} FROM {a} WHERE {rng.choice(COLUMNS)} = {rng.randint(0, 99)}"
    return db, sql


def synthetic_history(total: int, seed: int = 7) -> Iterator[QueryExecution]:
    """``total`` executions over DAYS days, oldest first."""
    rng = random.Random(seed)
    dashboards = _dashboard_shapes(rng)
    # ETL and dbt: a fixed set of 300 jobs, each (database, target, source), run again daily.
    jobs = [(db, a, b) for (db, a), (_, b) in (rng.sample(TABLES, 2) for _ in range(300))]
    start = END - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / total
    for i in range(total):
        at = start + step * i
        day = (at - timedelta(days=rng.randint(1, 28))).date().isoformat()
        roll = rng.random()
        db = rng.choice(DATABASES)
        statement_type = "DML"
        if roll < 0.80:
            shape = min(int(rng.paretovariate(1.2)) - 1, len(dashboards) - 1)
            sql = dashboards[shape].format(d=day, n=rng.randint(0, 10_000))
            db, wg = DATABASES[shape % len(DATABASES)], "bi_dashboards"
        elif roll < 0.84:
            db, a, b = rng.choice(jobs)
            sql, wg = f"INSERT INTO {a} SELECT * FROM {b} WHERE dt = '{day}'", "etl"
        elif roll < 0.87:
            db, a, b = rng.choice(jobs)
            sql = (
                '/* {"app": "dbt", "node_id": "model.shop.' + a + '"} */ '
                f"CREATE TABLE {a}__dbt_tmp AS SELECT * FROM {b}"
            )
            wg, statement_type = "etl", "DDL"
        elif roll < 0.88:
            db, a = rng.choice(TABLES)
            sql, wg = mark(f"SELECT count(*) FROM {a}"), "primary"
        else:
            shape = min(int(rng.paretovariate(0.3)), ADHOC_SHAPES)
            db, sql = _adhoc(shape)
            wg = rng.choice(("adhoc", "finance", "ml"))
        failed = rng.random() < 0.02
        yield QueryExecution(
            query_id=f"q{i:09d}",
            query=sql,
            statement_type=statement_type,
            state="FAILED" if failed else "SUCCEEDED",
            work_group=wg,
            catalog="AwsDataCatalog",
            database=db,
            submitted_at=at,
            completed_at=at + timedelta(seconds=2),
            data_scanned_bytes=rng.randint(0, 50 * 1024**3),
            engine_ms=rng.randint(200, 60_000),
            error_message="SYNTAX_ERROR" if failed else None,
        )


class SyntheticEngine:
    """Stands in for the local engine: the history half of the contract, streamed."""

    kind = "local"

    def __init__(self, total: int):
        self.total = total

    def list_work_groups(self, read_before: Collection[str] = ()) -> WorkGroups:
        return WorkGroups(("*",))  # one log, as the local engine keeps

    def history_start(self, cursor: datetime | None, floor: datetime) -> datetime:
        return min(cursor, floor) if cursor else floor

    def query_executions(
        self, work_group: str, since: datetime, stored: StoredTimes
    ) -> Iterator[QueryExecution]:
        for batch in chunks(synthetic_history(self.total), 1000):
            batch = [q for q in batch if q.submitted_at >= since]
            known = stored([q.query_id for q in batch])
            yield from (q for q in batch if q.query_id not in known)

    def history_read_notes(self) -> HistoryReadNotes:
        return HistoryReadNotes()


def run_one(total: int, store_path: Path) -> dict[str, Any]:
    store_path.unlink(missing_ok=True)
    store = CatalogStore(f"sqlite:///{store_path}")
    started = time.perf_counter()
    stats = ingest(SyntheticEngine(total), store, IngestOptions(query_log_days=DAYS + 1, now=END))
    ingested = time.perf_counter()
    resolved = resolve_history(store)
    resolved_at = time.perf_counter()
    summary = aggregate(store, UsageOptions(window_days=DAYS + 1, now=END))
    done = time.perf_counter()
    store.close()
    return {
        "queries": total,
        "stored": stats.stored,
        "ingest_s": ingested - started,
        "resolve_s": resolved_at - ingested,
        "parser_calls": resolved.parsed,
        "aggregate_s": done - resolved_at,
        "total_s": done - started,
        "tables": summary.tables,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "store_mb": store_path.stat().st_size / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/usage-bench"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.one, args.dir / f"catalog-{args.one}.db")))
        return
    results = []
    for size in args.sizes:
        print(f"{size:,} queries ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--dir", str(args.dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print("| queries | ingest (s) | resolve (s) | parser calls | aggregate (s) | total (s) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rate = r["queries"] / r["total_s"]
        print(
            f"| {r['queries']:,} | {r['ingest_s']:.1f} | {r['resolve_s']:.1f} |"
            f" {r['parser_calls']:,} | {r['aggregate_s']:.1f} | {r['total_s']:.1f}"
            f" ({rate:,.0f} q/s) |"
        )
    print()
    print("| queries | ingest (q/s) | peak RSS (MB) | store (MB) | tables |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['queries']:,} | {r['queries'] / r['ingest_s']:,.0f} |"
            f" {r['peak_rss_mb']:.0f} | {r['store_mb']:.0f} | {r['tables']} |"
        )


if __name__ == "__main__":
    main()
