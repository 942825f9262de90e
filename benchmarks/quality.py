"""Data-quality checks: statements, bytes scanned and wall time for 20 tests on one table.

    python benchmarks/quality.py [--rows 1000000]

A table of ``--rows`` rows on the embedded engine and 20 OpenMetadata tests (10 aggregate,
10 row-level), run three ways in the same process: ours (``quality.runner.run_cases``: one
graph of GX metrics whose aggregates go out in one SELECT, BOOLEAN_ONLY, samples only for
failures), GX with its defaults (its own table asset and ``batch.validate`` of the same
expectations, result format SUMMARY), and OpenMetadata's pattern (one query per test: each
case run alone). Statements and bytes come from the
engine's query history (bytes: the local engine's estimate of what Athena would scan). The
all-passing suite runs first, then the same suite with three row-level tests made to fail.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from athena_catalog.engines.local.engine import LocalEngine
from athena_catalog.engines.records import DEFAULT_CATALOG, Table
from athena_catalog.quality.cases import TestCase
from athena_catalog.quality.runner import build_expectation, run_cases

if TYPE_CHECKING:
    from great_expectations.expectations.expectation import Expectation

FQN = "awsdatacatalog.bench.orders"


def build(home: Path, rows: int) -> None:
    engine = LocalEngine(home, read_only=False)
    try:
        engine.execute("CREATE DATABASE bench")
        engine.execute(
            "CREATE EXTERNAL TABLE bench.orders (order_id bigint, customer_id bigint,"
            " amount double, status string, currency string, order_ts timestamp)"
            " STORED AS PARQUET LOCATION 's3://bench/orders/'"
        )
        side = 1000
        engine.execute(
            f"""INSERT INTO bench.orders
            SELECT n, n % 5000, CAST(n % 997 AS double) + 0.5,
                   element_at(ARRAY['completed', 'shipped', 'pending'], CAST(n % 3 AS integer) + 1),
                   element_at(ARRAY['USD', 'EUR'], CAST(n % 2 AS integer) + 1),
                   current_timestamp - (n % 86400) * INTERVAL '1' SECOND
            FROM (SELECT (a - 1) * {side} + b AS n
                  FROM UNNEST(sequence(1, {side})) AS x(a)
                  CROSS JOIN UNNEST(sequence(1, {side})) AS y(b)
                  WHERE (a - 1) * {side} + b <= {rows})"""
        )
    finally:
        engine.close()


def suite(rows: int, failing: bool) -> list[TestCase]:
    def case(name: str, definition: str, column: str | None = None, **params: object) -> TestCase:
        return TestCase(FQN, name, definition, column, params)

    statuses = ["completed", "shipped"] + ([] if failing else ["pending"])
    return [
        # 10 aggregate tests
        case("rows", "tableRowCountToBeBetween", minValue=1, maxValue=rows),
        case("columns", "tableColumnCountToEqual", columnCount=6),
        case("max", "columnValueMaxToBeBetween", "amount", maxValueForMaxInCol=1000),
        case("min", "columnValueMinToBeBetween", "amount", minValueForMinInCol=0),
        case("mean", "columnValueMeanToBeBetween", "amount", minValueForMeanInCol=0),
        case("stddev", "columnValueStdDevToBeBetween", "amount", maxValueForStdDevInCol=1000),
        case("sum", "columnValuesSumToBeBetween", "amount", minValueForColSum=0),
        case("median", "columnValueMedianToBeBetween", "amount", minValueForMedianInCol=0),
        case("missing", "columnValuesMissingCount", "currency", missingCountValue=0),
        case(
            "inserted",
            "tableRowInsertedCountToBeBetween",
            columnName="order_ts",
            min=1,
            rangeType="DAY",
            rangeInterval=2,
        ),
        # 10 row-level tests
        case("id_not_null", "columnValuesToBeNotNull", "order_id"),
        case("customer_not_null", "columnValuesToBeNotNull", "customer_id"),
        case("id_unique", "columnValuesToBeUnique", "order_id"),
        case(
            "amount_range",
            "columnValuesToBeBetween",
            "amount",
            minValue=0,
            maxValue=100 if failing else 1000,
        ),
        case("status_set", "columnValuesToBeInSet", "status", allowedValues=statuses),
        case("status_not", "columnValuesToBeNotInSet", "status", forbiddenValues=["lost"]),
        case(
            "currency_regex",
            "columnValuesToMatchRegex",
            "currency",
            regex="^[A-Z]{3}$" if not failing else "^USD$",
        ),
        case("status_not_regex", "columnValuesToNotMatchRegex", "status", forbiddenRegex="^x"),
        case("status_length", "columnValueLengthsToBeBetween", "status", minLength=1, maxLength=12),
        case(
            "negative",
            "tableCustomSQLQuery",
            sqlExpression="SELECT order_id FROM {batch} WHERE amount < 0",
        ),
    ]


def gx_own(expectation: Expectation) -> Expectation:
    """GX's built-in expectation where ours replaces one (uniqueness, median): what a GX user
    writes."""
    import great_expectations.expectations as gxe

    import athena_catalog.quality.expectations as ours

    built_in = {
        ours.ExpectColumnValuesToBeUniqueInOneScan: gxe.ExpectColumnValuesToBeUnique,
        ours.ExpectColumnApproxMedianToBeBetween: gxe.ExpectColumnMedianToBeBetween,
    }.get(type(expectation))
    if built_in is None:
        return expectation
    fields = expectation.dict(include=set(built_in.__fields__) - {"id", "catch_exceptions"})
    return built_in(**{k: v for k, v in fields.items() if v is not None})


def gx_defaults(engine: LocalEngine, table: Table, cases: Sequence[TestCase]) -> None:
    """GX's own path: the same expectations, GX's own table asset (its ``SELECT 1`` probe)
    and ``batch.validate`` with the SUMMARY default."""
    import great_expectations as gx
    from great_expectations.datasource.fluent.sql_datasource import TableAsset

    from athena_catalog.quality.datasource import bind_datasource

    sa_engine = engine.sqlalchemy_engine()
    context = gx.get_context(mode="ephemeral")
    with bind_datasource(context, sa_engine) as datasource:
        plain = TableAsset(name="t", table_name=f'"{table.name}"', schema_name=table.database)
        asset = datasource._add_asset(plain)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        expectations = [gx_own(build_expectation(c, table, i)) for i, c in enumerate(cases)]
        batch.validate(gx.ExpectationSuite(name="bench", expectations=expectations))
    sa_engine.dispose()


def measure(engine: LocalEngine, run: Callable[[], object]) -> tuple[int, int, float]:
    before = len(list(engine.query_history()))
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    spent = list(engine.query_history())[before:]
    return len(spent), sum(q.data_scanned_bytes or 0 for q in spent), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        build(home, args.rows)
        engine = LocalEngine(home)
        table = next(t for t in engine.list_tables(DEFAULT_CATALOG, "bench") if t.name == "orders")
        gx_defaults(engine, table, suite(args.rows, False)[:1])  # imports and GX set-up, unmeasured
        print(f"20 tests (10 aggregate, 10 row-level) on {args.rows:,} rows, embedded engine\n")
        header = f"{'suite':<22}{'way':<26}{'statements':>11}{'GB scanned':>12}{'wall s':>9}"
        print(header)
        print("-" * len(header))
        for failing in (False, True):
            cases = suite(args.rows, failing)
            ways: dict[str, Callable[[], object]] = {
                "ours (BOOLEAN_ONLY)": lambda c=cases: run_cases(engine, table, c),
                "GX defaults (SUMMARY)": lambda c=cases: gx_defaults(engine, table, c),
                "OpenMetadata (per test)": lambda c=cases: [
                    run_cases(engine, table, [case]) for case in c
                ],
            }
            figures = {way: measure(engine, run) for way, run in ways.items()}
            ours = figures["ours (BOOLEAN_ONLY)"]
            label = "3 row-level failing" if failing else "all passing"
            for way, (statements, scanned, wall) in figures.items():
                ratio = (
                    ""
                    if way.startswith("ours")
                    else (
                        f"   x{statements / ours[0]:.1f} statements,"
                        f" x{scanned / max(ours[1], 1):.1f} bytes, x{wall / ours[2]:.1f} time"
                    )
                )
                print(
                    f"{label:<22}{way:<26}{statements:>11}{scanned / 1e9:>12.3f}{wall:>9.2f}{ratio}"
                )
        engine.close()


if __name__ == "__main__":
    main()
