"""Profiler benchmark: athena-catalog's profiler vs OpenMetadata's query pattern, same run.

    python benchmarks/profiler.py [--tables 200] [--columns 40] [--rows 2000]

Builds ``--tables`` tables of ``--columns`` mixed-type columns (bigint, double, decimal, int,
two strings, date, timestamp, boolean, array; some NULL-heavy) with ``--rows`` rows each in a
fresh embedded engine, then profiles every table twice, one after the other, on the same
engine:

* athena-catalog: ``profile_tables`` with the default options, and again with the opt-in
  metrics on (unique/duplicate counts and histograms, the metrics OpenMetadata's pattern
  computes too);
* OpenMetadata's pattern, as its profiler sends it to Athena: 1 table query (row count), then
  per column 1 SELECT of its static metrics and 1 unique-count query (``GROUP BY ... HAVING
  count(*) = 1``), and per numeric column 1 quartiles query (``approx_percentile``) and 1
  histogram query (bins from the static min/max). Complex columns get the static query only.
  Quartiles and histograms only for numeric columns, as OpenMetadata does: fewer statements
  than one each per column, so the ratio below is the lower one.

Statements and bytes come from the engine's own history (each statement's
``data_scanned_bytes``, the embedded engine's estimate: rows x row width of every table read).
That estimate reads whole rows; Athena over Parquet reads only the columns a statement names,
so the table also shows the bytes with column pruning (each statement: rows x the widths of
the columns it reads), where one scan per table still reads every column once and the
per-column pattern reads each several times. Prints a markdown table with the ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from athena_catalog.engines.contract import run_select
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.local.scan_estimate import row_bytes
from athena_catalog.engines.records import Column, Table
from athena_catalog.names import sql_name
from athena_catalog.profiler.metrics import Kind, kind_of
from athena_catalog.profiler.options import parse_options
from athena_catalog.profiler.run import profile_tables

DATABASE = "bench"
# (Athena type, value expression over i and the column's index k), cycled over the columns
TYPES = (
    ("bigint", "i * {k}"),
    ("double", "CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 / {k} END"),
    ("decimal(12,2)", "CAST(i * 0.37 AS decimal(12,2))"),
    ("int", "CAST((i * {k}) % 1000 AS integer)"),
    ("string", "concat('v', CAST(i % 97 AS varchar))"),
    ("string", "CASE WHEN i % 3 = 0 THEN NULL ELSE concat('name-', CAST(i AS varchar)) END"),
    ("date", "date_add('day', i % 365, DATE '2024-01-01')"),
    ("timestamp", "date_add('second', i * {k}, TIMESTAMP '2024-01-01 00:00:00')"),
    ("boolean", "i % 3 = 0"),
    ("array<bigint>", "ARRAY[i, i * {k}]"),
)
HISTOGRAM_BINS = 10


@dataclass
class Measured:
    statements: int
    bytes_scanned: int
    pruned_bytes: int
    seconds: float


def build(home: Path, tables: int, columns: int, rows: int) -> list[Table]:
    engine = LocalEngine(home, read_only=False)
    engine.execute(f"CREATE DATABASE {DATABASE}")
    spec = [
        (f"c{j:02d}_{TYPES[j % len(TYPES)][0].split('(')[0].split('<')[0]}", j)
        for j in range(columns)
    ]
    for n in range(tables):
        name = f"t{n:03d}"
        ddl = ", ".join(f"{c} {TYPES[j % len(TYPES)][0]}" for c, j in spec)
        engine.execute(
            f"CREATE EXTERNAL TABLE {DATABASE}.{name} ({ddl}) STORED AS PARQUET"
            f" LOCATION 's3://bench/{name}/'"
        )
        values = ", ".join(TYPES[j % len(TYPES)][1].format(k=j + 1) for _, j in spec)
        engine.execute(
            f"INSERT INTO {DATABASE}.{name} SELECT {values}"
            f" FROM UNNEST(sequence(1, {rows})) AS t(i)"
        )
    listed = sorted(engine.list_tables("AwsDataCatalog", DATABASE), key=lambda t: t.name)
    engine.close()
    return listed


def openmetadata_pattern(engine: LocalEngine, table: Table) -> list[tuple[str, list[Column]]]:
    """Every statement OpenMetadata's profiler sends for one table, with the columns each
    reads; the histograms' bins come from the static queries' answers, as in its profiler."""
    target = sql_name(table.catalog, table.database, table.name)
    sent: list[tuple[str, list[Column]]] = []

    def send(sql: str, reads: list[Column]) -> tuple[object, ...]:
        sent.append((sql, reads))
        return run_select(engine, sql).rows[0]

    send(f"SELECT count(*) FROM {target}", [])
    for column in table.columns:
        c, kind = sql_name(column.name), kind_of(column.data_type)
        if kind is Kind.COLLECTION:
            send(f"SELECT count({c}) FROM {target}", [column])
            continue
        if kind is Kind.NUMBER:
            static = (
                f"count({c}), count(DISTINCT {c}), min({c}), max({c}), avg({c}), sum({c}),"
                f" stddev_samp({c})"
            )
        elif kind is Kind.STRING:
            static = (
                f"count({c}), count(DISTINCT {c}), min({c}), max({c}), min(length({c})),"
                f" max(length({c})), avg(length({c}))"
            )
        else:
            static = f"count({c}), count(DISTINCT {c}), min({c}), max({c})"
        answer = send(f"SELECT {static} FROM {target}", [column])
        send(
            f"SELECT count(*) FROM (SELECT {c} FROM {target} GROUP BY {c} HAVING count(*) = 1)",
            [column],
        )
        if kind is Kind.NUMBER:
            send(f"SELECT approx_percentile({c}, ARRAY[0.25, 0.5, 0.75]) FROM {target}", [column])
            low, high = float(answer[2] or 0), float(answer[3] or 0)
            width = (high - low) / HISTOGRAM_BINS or 1.0
            bins = ", ".join(
                f"sum(CASE WHEN {c} >= {low + b * width!r} AND {c} < {low + (b + 1) * width!r}"
                f" THEN 1 ELSE 0 END)"
                for b in range(HISTOGRAM_BINS)
            )
            send(f"SELECT {bins} FROM {target}", [column])
    return sent


def _history(engine: LocalEngine, since: datetime) -> tuple[int, int]:
    found = [q for q in engine.query_history(since) if q.query.lstrip().startswith("/*")]
    return len(found), sum(q.data_scanned_bytes or 0 for q in found)


def measure_ours(home: Path, tables: list[Table], rows: int, opt_in: bool) -> Measured:
    engine = LocalEngine(home)
    options = parse_options(
        {"compute_unique_count": opt_in, "compute_histogram": opt_in, "thread_count": 5}
    )
    since = datetime.now(UTC)
    started = time.perf_counter()
    profiles = profile_tables(engine, tables, options, now=since)
    seconds = time.perf_counter() - started
    failed = [p for p in profiles if p.error]
    if failed:
        raise SystemExit(f"{len(failed)} profiles failed, the first: {failed[0].error}")
    statements, scanned = _history(engine, since)
    engine.close()
    # one scan reads every column; the opt-in statement reads them again
    per_scan = sum(rows * row_bytes([c.data_type]) for t in tables for c in t.columns)
    return Measured(statements, scanned, per_scan * statements // len(tables), seconds)


def measure_openmetadata(home: Path, tables: list[Table], rows: int) -> Measured:
    engine = LocalEngine(home)
    since = datetime.now(UTC)
    started = time.perf_counter()
    pruned = 0
    for table in tables:
        for _, reads in openmetadata_pattern(engine, table):
            pruned += rows * row_bytes([c.data_type for c in reads])
    seconds = time.perf_counter() - started
    statements, scanned = _history(engine, since)
    engine.close()
    return Measured(statements, scanned, pruned, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=40)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profiler-bench-") as folder:
        home = Path(folder)
        started = time.perf_counter()
        tables = build(home, args.tables, args.columns, args.rows)
        print(
            f"{args.tables} tables x {args.columns} columns x {args.rows:,} rows built in"
            f" {time.perf_counter() - started:.1f}s\n"
        )
        ours = measure_ours(home, tables, args.rows, opt_in=False)
        ours_all = measure_ours(home, tables, args.rows, opt_in=True)
        om = measure_openmetadata(home, tables, args.rows)
    rows = [
        ("statements", lambda m: m.statements, "{:,}"),
        ("statements per table", lambda m: m.statements / args.tables, "{:.1f}"),
        ("bytes scanned (engine estimate)", lambda m: m.bytes_scanned, "{:,}"),
        ("bytes with column pruning", lambda m: m.pruned_bytes, "{:,}"),
        ("wall time (s)", lambda m: m.seconds, "{:.2f}"),
    ]
    print(
        "| | athena-catalog (default) | athena-catalog (+ opt-in) | OpenMetadata pattern"
        " | ratio (default) | ratio (+ opt-in) |"
    )
    print("|---|---|---|---|---|---|")
    for label, get, fmt in rows:
        a, b, c = get(ours), get(ours_all), get(om)
        print(
            f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {fmt.format(c)}"
            f" | {c / a if a else float('inf'):.1f}x | {c / b if b else float('inf'):.1f}x |"
        )


if __name__ == "__main__":
    main()
