"""Lineage speed: our path (fingerprint, parse each distinct statement once, all columns in one
pass, two processes) against the straightforward one (parse every statement, then
``sqlglot.lineage.lineage`` for each output column), on one synthetic Athena log.

    python benchmarks/lineage.py [--statements 100000] [--naive-sample 500] [--workers 2]

The log is shaped like a real one: dashboard tiles repeated with moving dates and filters
(most of it), nightly ETL (CTAS, INSERT, MERGE) with new dates, and ad-hoc queries whose shapes
rarely repeat. The naive path is timed on a uniform sample and extrapolated to the whole log
(running it on 100,000 statements would take hours). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlglot
from sqlglot.lineage import lineage as sqlglot_lineage

from athena_catalog.lineage import LineageSchema, parse_lineage
from athena_catalog.lineage.graph import HistoryStatement, LineageAnalyser
from athena_catalog_tests.lineage_corpus import load_schema

COLS = {
    "orders": ["order_id", "customer_id", "order_ts", "status", "amount", "currency", "dt"],
    "customers": ["customer_id", "name", "email", "segment", "country", "created_at"],
    "payments": ["payment_id", "order_id", "method", "amount", "dt"],
    "products": ["sku", "category", "price"],
}
DASHBOARDS = [
    "SELECT dt, sum(revenue) AS revenue, sum(orders) AS orders FROM analytics.daily_revenue "
    "WHERE dt >= '{d}' GROUP BY dt ORDER BY dt",
    "SELECT c.country, count(DISTINCT o.order_id) AS n, avg(o.amount) AS aov FROM orders o "
    "JOIN customers c ON c.customer_id = o.customer_id WHERE o.dt = '{d}' AND c.segment = '{s}' "
    "GROUP BY c.country ORDER BY n DESC LIMIT {n}",
    "SELECT status, count(*) AS n FROM orders WHERE dt BETWEEN '{d}' AND '{d2}' GROUP BY status",
    "WITH t AS (SELECT customer_id, sum(amount) AS s FROM orders WHERE dt >= '{d}' "
    "GROUP BY customer_id) SELECT c.segment, approx_percentile(t.s, 0.{n}) AS p FROM t "
    "JOIN customers c ON c.customer_id = t.customer_id GROUP BY c.segment",
    "SELECT device.os, count_if(event_type = 'purchase') * 1.0 / count(*) AS cr "
    "FROM analytics.events WHERE event_ts >= TIMESTAMP '{d} 00:00:00' GROUP BY device.os",
    "SELECT it.sku, sum(it.qty) AS units FROM orders CROSS JOIN UNNEST(items) AS t(it) "
    "WHERE dt = '{d}' AND amount > {n} GROUP BY it.sku ORDER BY units DESC LIMIT 20",
]
ETL = [
    "INSERT INTO order_summary SELECT order_id, customer_id, amount, dt FROM orders "
    "WHERE dt = '{d}' AND amount >= 0",
    "CREATE TABLE tmp_orders_{k} WITH (format='PARQUET', external_location="
    "'s3://lake/tmp/{k}/', partitioned_by=ARRAY['dt']) AS SELECT o.order_id, c.segment, "
    "o.amount, o.dt FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id "
    "WHERE o.dt = '{d}'",
    "MERGE INTO customer_dim d USING (SELECT customer_id, email, segment, country FROM customers "
    "WHERE customer_id % 30 = {n}) s ON d.customer_id = s.customer_id WHEN MATCHED THEN UPDATE "
    "SET segment = s.segment, valid_from = TIMESTAMP '{d} 23:59:59' WHEN NOT MATCHED THEN "
    "INSERT (customer_id, email, segment, country, valid_from, is_current) VALUES (s.customer_id,"
    " s.email, s.segment, s.country, TIMESTAMP '{d} 23:59:59', true)",
    "INSERT INTO analytics.daily_revenue SELECT o.dt, c.segment, sum(o.amount), count(*) "
    "FROM orders o JOIN customers c ON o.customer_id = c.customer_id WHERE o.dt = '{d}' "
    "GROUP BY 1, 2",
]


def adhoc(rng: random.Random) -> str:
    """A complex ad-hoc query whose shape (columns, joins, CTE, window) is drawn at random."""
    a = rng.sample(COLS["orders"], rng.randint(2, 5))
    b = rng.sample(COLS["customers"][1:], rng.randint(1, 3))
    cols = [f"o.{c}" for c in a] + [f"c.{c}" for c in b]
    if rng.random() < 0.5:
        cols.append(f"sum(o.amount) OVER (PARTITION BY c.{rng.choice(b)} ORDER BY o.order_ts) AS w")
    if rng.random() < 0.3:
        cols.append("coalesce(p.method, 'none') AS pm")
        join = " LEFT JOIN payments p ON p.order_id = o.order_id"
    else:
        join = ""
    cte = rng.random() < 0.5
    src = "recent" if cte else "orders"
    sql = (
        f"SELECT {', '.join(cols)} FROM {src} o JOIN customers c ON c.customer_id = o.customer_id"
        f"{join} WHERE o.amount > {rng.randint(1, 999)}"
    )
    if cte:
        since = f"2024-0{rng.randint(1, 9)}-01"
        sql = f"WITH recent AS (SELECT * FROM orders WHERE dt >= '{since}') {sql}"
    if rng.random() < 0.4:
        return f"CREATE TABLE adhoc_{rng.randint(1, 10**9)} AS {sql}"
    return sql


def make_log(n: int, seed: int = 7) -> list[HistoryStatement]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        day = start + timedelta(minutes=i)
        d = (day - timedelta(days=rng.randint(1, 60))).date().isoformat()
        fill = {"d": d, "d2": day.date().isoformat(), "s": rng.choice(["smb", "consumer"]),
                "n": rng.randint(1, 99), "k": i % 500}  # fmt: skip
        roll = rng.random()
        if roll < 0.85:
            sql = rng.choice(DASHBOARDS).format(**fill)
        elif roll < 0.95:
            sql = rng.choice(ETL).format(**fill)
        else:
            sql = adhoc(rng)
        out.append(HistoryStatement(f"q{i}", sql, "awsdatacatalog", "sales", day))
    return out


def naive(statements: list[HistoryStatement], schema: LineageSchema) -> float:
    """Seconds for the straightforward path: parse, then one lineage call per output column."""
    nested = schema.mapping
    started = time.perf_counter()
    for s in statements:
        try:
            e = sqlglot.parse_one(s.query, dialect="athena")
            query = e.expression if isinstance(e, (sqlglot.exp.Create, sqlglot.exp.Insert)) else e
            if not isinstance(query, sqlglot.exp.Query):
                continue
            for name in query.named_selects:
                sqlglot_lineage(name, query, schema=nested, dialect="athena")
        except Exception:  # the naive path gives up on what it cannot handle
            continue
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=100_000)
    ap.add_argument("--naive-sample", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    schema = load_schema()
    log = make_log(args.statements)

    started = time.perf_counter()
    batch = LineageAnalyser(schema, workers=args.workers).statements(log, lambda fps: {})
    ours = time.perf_counter() - started

    cached_rows = {r["fingerprint"]: r for r in batch.cache_rows}
    started = time.perf_counter()
    LineageAnalyser(schema, workers=1).statements(log, lambda fps: cached_rows)
    warm = time.perf_counter() - started

    rng = random.Random(1)
    distinct = list(
        {s.query: s for s in log if s.query.startswith(("CREATE", "WITH", "SELECT o."))}.values()
    )
    distinct = rng.sample(distinct, min(len(distinct), 400))
    started = time.perf_counter()
    for s in distinct:
        parse_lineage(s.query, "awsdatacatalog", "sales", schema)
    one_core = len(distinct) / (time.perf_counter() - started)

    sample = rng.sample(log, min(args.naive_sample, len(log)))
    naive_total = naive(sample, schema) / len(sample) * len(log)

    compiled = Path(sqlglot.parser.__file__).suffix == ".so"
    build = "compiled: sqlglotc" if compiled else "pure Python"
    print(f"sqlglot {sqlglot.__version__} ({build})")
    print(f"{len(log):,} statements, {batch.parsed:,} distinct fingerprints\n")
    print("| path | seconds | statements/s | vs naive |")
    print("|---|---:|---:|---:|")
    rows = [
        (f"naive: parse + sqlglot.lineage per column (sample of {len(sample)}, extrapolated)",
         naive_total),
        (f"ours, cold cache, {args.workers} processes", ours),
        ("ours, warm parse cache (a re-run), 1 process", warm),
    ]  # fmt: skip
    for label, seconds in rows:
        rate, ratio = len(log) / seconds, naive_total / seconds
        print(f"| {label} | {seconds:,.1f} | {rate:,.0f} | {ratio:,.1f}x |")
    print(
        f"\ndistinct complex statements (CTAS / CTE / window / join), one core: {one_core:,.0f}/s"
    )


if __name__ == "__main__":
    main()
