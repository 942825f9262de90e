"""The quality runner on the embedded engine: every OpenMetadata test definition on the demo
lakehouse, each outcome, observed value and unexpected count checked against an independent
DuckDB query of the same files; SQL failures per case; samples and statements."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pytest
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from athena_catalog.demo import build_demo
from athena_catalog.engines.local.engine import LocalEngine
from athena_catalog.engines.records import Table
from athena_catalog.markers import MARKER
from athena_catalog.quality.cases import Outcome, TestCase
from athena_catalog.quality.definitions import DEFINITIONS
from athena_catalog.quality.runner import json_ready, run_cases
from athena_catalog.timeutil import utc_now
from athena_catalog_tests.demo_fixtures import demo_duckdb, demo_engine

ORDERS = "awsdatacatalog.raw.orders"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("quality")
    build_demo(home)
    return home


@pytest.fixture(scope="module")
def engine(home: Path) -> Iterator[LocalEngine]:
    yield from demo_engine(home)


@pytest.fixture(scope="module")
def duck(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    yield from demo_duckdb(home)


def table(engine: LocalEngine, database: str, name: str) -> Table:
    return next(t for t in engine.list_tables("AwsDataCatalog", database) if t.name == name)


def one(duck: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = duck.execute(sql).fetchone()
    assert row is not None
    return json_ready(row[0])


@dataclass(frozen=True)
class Expected:
    """A case and the independent DuckDB query of what it measures."""

    case: TestCase
    sql: str  # observed value (aggregates) or unexpected count (row-level)
    passed: bool
    row_level: bool = False


def om(name: str, definition: str, column: str | None = None, **params: Any) -> TestCase:
    return TestCase(ORDERS, name, definition, column, params)


ORD = "raw.orders"
NONNULL_AMOUNTS = f"FROM {ORD} WHERE amount IS NOT NULL"
EXPECTED = [
    Expected(
        om("rows", "tableRowCountToBeBetween", minValue=1000, maxValue=200000),
        f"SELECT count(*) FROM {ORD}",
        True,
    ),
    Expected(
        om("rows_eq", "tableRowCountToEqual", value=100000), f"SELECT count(*) FROM {ORD}", False
    ),
    Expected(
        om("cols", "tableColumnCountToBeBetween", minColValue=5, maxColValue=20),
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw'"
        " AND table_name = 'orders'",
        True,
    ),
    Expected(
        om("cols_eq", "tableColumnCountToEqual", columnCount=10),
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw'"
        " AND table_name = 'orders'",
        True,
    ),
    Expected(
        om("max", "columnValueMaxToBeBetween", "amount", maxValueForMaxInCol=100),
        f"SELECT max(amount) {NONNULL_AMOUNTS}",
        False,
    ),
    Expected(
        om("min", "columnValueMinToBeBetween", "amount", minValueForMinInCol=0),
        f"SELECT min(amount) {NONNULL_AMOUNTS}",
        False,
    ),
    Expected(
        om("mean", "columnValueMeanToBeBetween", "amount", minValueForMeanInCol=0),
        f"SELECT avg(amount) {NONNULL_AMOUNTS}",
        True,
    ),
    Expected(
        om("stddev", "columnValueStdDevToBeBetween", "amount", maxValueForStdDevInCol=1e6),
        f"SELECT stddev_samp(amount) {NONNULL_AMOUNTS}",
        True,
    ),
    Expected(
        om("sum", "columnValuesSumToBeBetween", "amount", minValueForColSum=0),
        f"SELECT sum(amount) {NONNULL_AMOUNTS}",
        True,
    ),
    Expected(
        om(
            "missing",
            "columnValuesMissingCount",
            "channel",
            missingCountValue=0,
            missingValueMatch=["web"],
        ),
        f"SELECT count(*) FROM {ORD} WHERE channel IS NULL OR channel = 'web'",
        False,
    ),
    Expected(
        om(
            "inserted",
            "tableRowInsertedCountToBeBetween",
            columnName="order_ts",
            min=1,
            rangeType="YEAR",
            rangeInterval=50,
        ),
        f"SELECT count(*) FROM {ORD} WHERE order_ts >= current_date - INTERVAL 50 YEAR",
        True,
    ),
    Expected(
        om(
            "count_sql",
            "tableCustomSQLQuery",
            strategy="COUNT",
            operator=">",
            threshold=100,
            sqlExpression="SELECT count(*) FROM {batch} WHERE amount < 0",
        ),
        f"SELECT count(*) FROM {ORD} WHERE amount < 0",
        True,
    ),
    Expected(
        om(
            "rows_sql",
            "tableCustomSQLQuery",
            sqlExpression="SELECT order_id FROM {batch} WHERE amount < 0",
        ),
        f"SELECT count(*) FROM {ORD} WHERE amount < 0",
        False,
        row_level=True,
    ),
    Expected(
        om(
            "diff",
            "tableDiff",
            keyColumns=["order_id"],
            useColumns=["amount"],
            table2="awsdatacatalog.staging.stg_orders",
        ),
        f"""SELECT count(*) FROM (SELECT DISTINCT order_id, amount FROM {ORD}) a
                 FULL OUTER JOIN staging.stg_orders b ON a.order_id = b.order_id
                 WHERE a.order_id IS NULL OR b.order_id IS NULL
                    OR a.amount IS DISTINCT FROM b.amount""",
        False,
        row_level=True,
    ),
    Expected(
        om("not_null", "columnValuesToBeNotNull", "customer_id"),
        f"SELECT count(*) FROM {ORD} WHERE customer_id IS NULL",
        False,
        row_level=True,
    ),
    Expected(
        om("unique", "columnValuesToBeUnique", "order_id"),
        f"SELECT count(*) FROM {ORD} WHERE order_id IN"
        f" (SELECT order_id FROM {ORD} GROUP BY 1 HAVING count(*) > 1)",
        False,
        True,
    ),
    Expected(
        om("between", "columnValuesToBeBetween", "amount", minValue=0),
        f"SELECT count(*) FROM {ORD} WHERE amount < 0",
        False,
        row_level=True,
    ),
    Expected(
        om("regex", "columnValuesToMatchRegex", "currency", regex="^[A-Z]{3}$"),
        f"SELECT count(*) FROM {ORD} WHERE NOT regexp_matches(currency, '^[A-Z]{{3}}$')",
        True,
        row_level=True,
    ),
    Expected(
        om("not_regex", "columnValuesToNotMatchRegex", "status", forbiddenRegex="^(cancel|return)"),
        f"SELECT count(*) FROM {ORD} WHERE regexp_matches(status, '^(cancel|return)')",
        False,
        row_level=True,
    ),
    Expected(
        om("in_set", "columnValuesToBeInSet", "currency", allowedValues=["USD", "EUR"]),
        f"SELECT count(*) FROM {ORD} WHERE currency NOT IN ('USD', 'EUR')",
        False,
        True,
    ),
    Expected(
        om("not_in_set", "columnValuesToBeNotInSet", "channel", forbiddenValues=["fax"]),
        f"SELECT count(*) FROM {ORD} WHERE channel = 'fax'",
        True,
        row_level=True,
    ),
    Expected(
        om("lengths", "columnValueLengthsToBeBetween", "status", minLength=4, maxLength=8),
        f"SELECT count(*) FROM {ORD} WHERE length(status) NOT BETWEEN 4 AND 8",
        False,
        row_level=True,
    ),
]


@pytest.fixture(scope="module")
def outcomes(engine: LocalEngine) -> dict[str, Outcome]:
    extra = [
        om("median", "columnValueMedianToBeBetween", "amount", minValueForMedianInCol=0),
        om("exists", "tableColumnNameToExist", columnName="order_ts"),
        om("set", "tableColumnToMatchSet", columnNames="order_id, customer_id", ordered=False),
        om("broken_sql", "tableCustomSQLQuery", sqlExpression="SELECT nope FROM {batch}"),
    ]
    cases = [e.case for e in EXPECTED] + extra
    result = run_cases(engine, table(engine, "raw", "orders"), cases)
    assert [o.case for o in result] == cases  # in the order given, matched through meta
    return {o.case.name: o for o in result}


def test_every_test_definition_is_exercised() -> None:
    used = {e.case.test_definition for e in EXPECTED}
    used |= {"columnValueMedianToBeBetween", "tableColumnNameToExist", "tableColumnToMatchSet"}
    assert used == set(DEFINITIONS)


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.case.name)
def test_outcome_matches_an_independent_query(
    expected: Expected, outcomes: dict[str, Outcome], duck: duckdb.DuckDBPyConnection
) -> None:
    outcome = outcomes[expected.case.name]
    truth = one(duck, expected.sql)
    assert outcome.error is None
    assert outcome.passed is expected.passed
    query_based = expected.case.test_definition in ("tableCustomSQLQuery", "tableDiff")
    if expected.row_level and not query_based:
        assert outcome.unexpected_count == truth
        assert outcome.element_count == one(duck, f"SELECT count(*) FROM {ORD}")
    else:
        assert outcome.observed_value == pytest.approx(truth)
    if expected.row_level and not expected.passed:
        assert outcome.sample, "a failed row-level check carries a sample"
        assert len(outcome.sample) <= 20
    else:
        assert outcome.sample is None


def test_median_exists_and_column_set(
    outcomes: dict[str, Outcome], duck: duckdb.DuckDBPyConnection
) -> None:
    assert outcomes["median"].passed
    # Athena's approx_percentile(amount, 0.5): a value ranked within 1% of the middle of
    # the sorted non-NULL values (the bound the README documents).
    low, high = duck.execute(
        f"SELECT quantile_disc(amount, 0.49), quantile_disc(amount, 0.51) {NONNULL_AMOUNTS}"
    ).fetchone() or (None, None)
    assert json_ready(low) <= outcomes["median"].observed_value <= json_ready(high)
    assert outcomes["exists"].passed
    assert not outcomes["set"].passed  # the table has more columns than the two named


def test_failed_sql_is_recorded_per_case(outcomes: dict[str, Outcome]) -> None:
    broken = outcomes["broken_sql"]
    assert not broken.passed
    assert broken.error and "nope" in broken.error
    assert all(o.error is None for name, o in outcomes.items() if name != "broken_sql")


def test_statements_are_marked_and_counted(
    engine: LocalEngine, outcomes: dict[str, Outcome]
) -> None:
    ids = {s for o in outcomes.values() for s in o.statement_ids}
    history = {q.query_id: q for q in engine.query_history()}
    assert ids <= set(history)
    assert all(history[i].query.lstrip().startswith(MARKER) for i in ids)
    assert all(
        history[i].query.lstrip()[len(MARKER) :].lstrip().upper().startswith("SELECT") for i in ids
    )
    assert all((o.bytes_scanned or 0) > 0 for o in outcomes.values())


def test_passing_checks_fetch_no_samples_and_failures_one_statement_each(
    engine: LocalEngine,
) -> None:
    orders = table(engine, "raw", "orders")
    passing = [e.case for e in EXPECTED if e.passed]
    before = len(list(engine.query_history()))
    result = run_cases(engine, orders, passing)
    spent = len(list(engine.query_history())) - before
    assert all(o.passed and o.sample is None for o in result)
    shared = set.intersection(*(set(o.statement_ids) for o in result))
    assert spent == len(shared) == 1
    assert not any("LIMIT 20" in q.query for q in list(engine.query_history())[before:]), (
        "no unexpected-values query for a passing check"
    )

    failing_row_level = [e.case for e in EXPECTED if e.row_level and not e.passed]
    before = len(list(engine.query_history()))
    result = run_cases(engine, orders, passing + failing_row_level)
    spent_with_failures = len(list(engine.query_history())) - before
    shared = set.intersection(*(set(o.statement_ids) for o in result))
    own = {o.case.name: set(o.statement_ids) - shared for o in result}
    # Passing checks cost nothing of their own; each failed row-level check one sample query.
    assert {name: len(ids) for name, ids in own.items()} == {
        o.case.name: 0 if o.passed else 1 for o in result
    }
    assert spent_with_failures == len(shared) + len(failing_row_level)


def every_definition_passing(duck: duckdb.DuckDBPyConnection) -> list[TestCase]:
    """One case of every OpenMetadata test definition on staging.stg_orders, its bounds
    taken from an independent DuckDB query so that each passes."""
    fqn, stg = "awsdatacatalog.staging.stg_orders", "staging.stg_orders"
    rows, low, high, mean, std, total, shortest, longest, nulls = (
        json_ready(v)
        for v in duck.execute(
            "SELECT count(*), min(amount), max(amount), avg(amount), stddev_samp(amount),"
            " sum(amount), min(length(status)), max(length(status)),"
            f" count(*) FILTER (WHERE customer_id IS NULL) FROM {stg}"
        ).fetchone()
        or ()
    )
    statuses = [r[0] for r in duck.execute(f"SELECT DISTINCT status FROM {stg}").fetchall()]
    columns = [r[0] for r in duck.execute(f"DESCRIBE {stg}").fetchall()]

    def case(definition: str, column: str | None = None, **params: Any) -> TestCase:
        return TestCase(fqn, definition, definition, column, params)

    cases = [
        case("tableRowCountToBeBetween", minValue=1, maxValue=rows),
        case("tableRowCountToEqual", value=rows),
        case("tableColumnCountToBeBetween", minColValue=1, maxColValue=len(columns)),
        case("tableColumnCountToEqual", columnCount=len(columns)),
        case("tableColumnNameToExist", columnName="order_ts"),
        case("tableColumnToMatchSet", columnNames=columns, ordered=True),
        case("tableCustomSQLQuery", sqlExpression="SELECT * FROM {batch} WHERE amount < 0"),
        case(
            "tableRowInsertedCountToBeBetween",
            columnName="order_ts",
            min=1,
            rangeType="YEAR",
            rangeInterval=50,
        ),
        case("tableDiff", keyColumns=["order_id"], table2=fqn),
        case("columnValuesToBeUnique", "order_id"),
        case("columnValuesToBeNotNull", "order_id"),
        case("columnValuesToBeBetween", "amount", minValue=low, maxValue=high),
        case("columnValuesToMatchRegex", "currency", regex="^[A-Z]{3}$"),
        case("columnValuesToNotMatchRegex", "status", forbiddenRegex="^x"),
        case("columnValuesToBeInSet", "status", allowedValues=statuses),
        case("columnValuesToBeNotInSet", "status", forbiddenValues=["lost"]),
        case("columnValueMaxToBeBetween", "amount", minValueForMaxInCol=high),
        case("columnValueMinToBeBetween", "amount", maxValueForMinInCol=low),
        case("columnValueMeanToBeBetween", "amount", minValueForMeanInCol=mean - 1),
        case("columnValueMedianToBeBetween", "amount", minValueForMedianInCol=low),
        case("columnValueStdDevToBeBetween", "amount", maxValueForStdDevInCol=std + 1),
        case("columnValuesSumToBeBetween", "amount", minValueForColSum=total - 1),
        case("columnValueLengthsToBeBetween", "status", minLength=shortest, maxLength=longest),
        case("columnValuesMissingCount", "customer_id", missingCountValue=nulls),
    ]
    assert {c.test_definition for c in cases} == set(DEFINITIONS)
    return cases


def test_a_passing_suite_of_every_definition_costs_one_statement(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    cases = every_definition_passing(duck)
    before = len(list(engine.query_history()))
    result = run_cases(engine, table(engine, "staging", "stg_orders"), cases)
    spent = list(engine.query_history())[before:]
    assert [o.error for o in result] == [None] * len(cases)
    assert [o.case.name for o in result if not o.passed] == []
    # Every aggregate, row-level count, custom query and diff in one SELECT; no table probe.
    assert len(spent) == 1, [q.query for q in spent]
    assert all(tuple(o.statement_ids) == (spent[0].query_id,) for o in result)
    assert all(o.bytes_scanned == spent[0].data_scanned_bytes // len(cases) for o in result)


def test_a_failing_uniqueness_check_counts_rows_and_samples_in_one_statement(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    orders = table(engine, "raw", "orders")
    before = len(list(engine.query_history()))
    (outcome,) = run_cases(engine, orders, [om("unique", "columnValuesToBeUnique", "order_id")])
    assert len(list(engine.query_history())) - before == 2
    repeated = f"SELECT order_id FROM {ORD} GROUP BY 1 HAVING count(*) > 1"
    assert not outcome.passed
    assert outcome.unexpected_count == one(
        duck, f"SELECT count(*) FROM {ORD} WHERE order_id IN ({repeated})"
    )
    nonnull = one(duck, f"SELECT count(order_id) FROM {ORD}")
    assert outcome.unexpected_percent == pytest.approx(outcome.unexpected_count / nonnull * 100)
    values = {r[0] for r in duck.execute(repeated).fetchall()}
    assert outcome.sample and len(outcome.sample) <= 20 and set(outcome.sample) <= values


class ColumnValuesBelowRowCount(ColumnMapMetricProvider):
    """A condition that reads the row count: it must wait for the count's real value."""

    condition_metric_name = "column_values.test_below_row_count"

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, _metrics: dict[str, Any], **kwargs: Any) -> Any:
        return column < _metrics["table.row_count"]


class ExpectColumnValuesToBeBelowRowCount(ColumnMapExpectation):
    map_metric: ClassVar[str] = "column_values.test_below_row_count"


def test_an_expression_reading_an_aggregate_waits_for_its_value(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    native = TestCase(
        ORDERS,
        "below",
        "expect_column_values_to_be_below_row_count",
        None,
        {"column": "order_id"},
        native=True,
    )
    before = len(list(engine.query_history()))
    (outcome,) = run_cases(engine, table(engine, "raw", "orders"), [native])
    assert outcome.error is None
    # The row count first, then the condition built on its value: two statements.
    assert len(list(engine.query_history())) - before == 2 + (0 if outcome.passed else 1)
    assert outcome.unexpected_count == one(
        duck, f"SELECT count(*) FROM {ORD} WHERE order_id >= (SELECT count(*) FROM {ORD})"
    )


def test_odd_names_are_quoted(engine: LocalEngine, duck: duckdb.DuckDBPyConnection) -> None:
    odd = table(engine, "Odd-Names", "café_ventes")
    fqn = "awsdatacatalog.odd-names.café_ventes"
    cases = [
        TestCase(fqn, "n", "columnValuesToBeNotNull", "prix_€"),
        TestCase(fqn, "m", "columnValueMaxToBeBetween", "prix_€", {"maxValueForMaxInCol": 5}),
        TestCase(
            fqn, "r", "columnValuesToMatchRegex", "catégorie", {"regex": "^(boisson|sandwich)$"}
        ),
        TestCase(
            fqn,
            "q",
            "tableCustomSQLQuery",
            None,
            {"sqlExpression": 'SELECT * FROM {batch} WHERE "numéro" < 0'},
        ),
    ]
    result = {o.case.name: o for o in run_cases(engine, odd, cases)}
    assert all(o.error is None for o in result.values()), [o.error for o in result.values()]
    assert result["n"].passed and result["q"].passed
    assert result["m"].observed_value == pytest.approx(
        one(duck, 'SELECT max("prix_€") FROM "Odd-Names"."café_ventes"')
    )
    assert result["r"].unexpected_count == one(
        duck, """SELECT count(*) FROM "Odd-Names"."café_ventes" WHERE "catégorie" = 'pâtisserie'"""
    )
    assert not result["r"].passed and result["r"].sample


def test_native_expectation_and_its_severity(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    native = TestCase(
        ORDERS,
        "nat",
        "expect_column_values_to_not_be_null",
        None,
        {"column": "customer_id", "mostly": 0.99, "severity": "warning"},
        native=True,
    )
    (outcome,) = run_cases(engine, table(engine, "raw", "orders"), [native])
    assert outcome.passed
    assert outcome.severity == "warn"
    assert outcome.unexpected_count == one(
        duck, f"SELECT count(*) FROM {ORD} WHERE customer_id IS NULL"
    )


def test_a_missing_table_fails_every_case_with_why(engine: LocalEngine) -> None:
    gone = Table("AwsDataCatalog", "raw", "no_such_table", "EXTERNAL_TABLE")
    result = run_cases(engine, gone, [om("rows", "tableRowCountToEqual", value=1)])
    assert not result[0].passed
    assert result[0].error and "no_such_table" in result[0].error


@pytest.mark.parametrize("ending", ["-- negative amounts", "-- negative amounts\n  "])
def test_custom_sql_ending_in_a_line_comment(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection, ending: str
) -> None:
    """The wrapping subqueries close on a line of their own: a trailing ``--`` comment ends
    before their parenthesis (ROWS, COUNT and the failed check's sample)."""
    negative = one(duck, f"SELECT count(*) FROM {ORD} WHERE amount < 0")
    where = "FROM {batch} WHERE amount < 0 "
    cases = [
        om("rows", "tableCustomSQLQuery", sqlExpression=f"SELECT order_id {where}{ending}"),
        om(
            "count",
            "tableCustomSQLQuery",
            strategy="COUNT",
            operator="==",
            threshold=negative,
            sqlExpression=f"SELECT count(*), 1 {where}{ending}",
        ),
    ]
    rows, count = run_cases(engine, table(engine, "raw", "orders"), cases)
    assert (rows.error, count.error) == (None, None)
    assert (rows.passed, rows.observed_value) == (False, negative)
    assert rows.sample and len(rows.sample) == min(negative, 20)
    assert (count.passed, count.observed_value) == (True, negative)


def test_table_diff_where_ending_in_a_line_comment(engine: LocalEngine) -> None:
    stg = "awsdatacatalog.staging.stg_orders"
    diff = TestCase(
        stg,
        "diff",
        "tableDiff",
        None,
        {"keyColumns": ["order_id"], "table2": stg, "where": "amount >= 0 -- paid only"},
    )
    (outcome,) = run_cases(engine, table(engine, "staging", "stg_orders"), [diff])
    assert (outcome.error, outcome.passed, outcome.observed_value) == (None, True, 0)


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's time zone (DuckDB's default) set where the date is not UTC's today."""
    zone = "Etc/GMT+12" if utc_now().hour < 12 else "Etc/GMT-14"  # UTC-12, UTC+14
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield zone
    monkeypatch.undo()
    time.tzset()


def test_inserted_rows_are_counted_back_from_utc_now(tmp_path: Path, far_from_utc: str) -> None:
    now = utc_now().replace(tzinfo=None)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stamps = [
        now - timedelta(minutes=30),  # in the last hour
        now - timedelta(minutes=90),
        midnight - timedelta(days=1) + timedelta(minutes=1),  # yesterday (UTC)
        midnight - timedelta(days=1, minutes=1),  # the day before
    ]
    values = ", ".join(f"(TIMESTAMP '{t:%Y-%m-%d %H:%M:%S}', DATE '{t:%Y-%m-%d}')" for t in stamps)
    engine = LocalEngine(tmp_path, read_only=False)
    try:
        engine.execute("CREATE DATABASE q")
        engine.execute(f"CREATE TABLE q.events AS SELECT * FROM (VALUES {values}) AS t (ts, d)")
        fqn = "awsdatacatalog.q.events"

        def inserted(name: str, column: str, range_type: str, count: int) -> TestCase:
            params = {"columnName": column, "rangeType": range_type, "min": count, "max": count}
            return TestCase(fqn, name, "tableRowInsertedCountToBeBetween", None, params)

        cases = [
            inserted("hour", "ts", "HOUR", 1),
            inserted("day", "ts", "DAY", 3),
            inserted("day_of_dates", "d", "DAY", 3),
        ]
        result = run_cases(engine, table(engine, "q", "events"), cases)
    finally:
        engine.close()
    assert [(o.case.name, o.error, o.observed_value) for o in result] == [
        ("hour", None, 1),
        ("day", None, 3),
        ("day_of_dates", None, 3),
    ], far_from_utc
    assert all(o.passed for o in result)


def test_a_sample_that_cannot_be_fetched_fails_only_its_own_case(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    """Counting the rows never reads ``n`` (the engine drops the unused column); the sample
    reads it, and a status is no integer."""
    sql = "SELECT order_id, CAST(status AS integer) AS n FROM {batch} WHERE amount < 0"
    cases = [
        om("broken_sample", "tableCustomSQLQuery", sqlExpression=sql),
        om("not_null", "columnValuesToBeNotNull", "customer_id"),
    ]
    broken, not_null = run_cases(engine, table(engine, "raw", "orders"), cases)
    negative = one(duck, f"SELECT count(*) FROM {ORD} WHERE amount < 0")
    assert (broken.passed, broken.observed_value, broken.sample) == (False, negative, None)
    assert broken.error and broken.error.startswith("the check failed; its sample")
    assert "status" in broken.error  # DuckDB's conversion error names the column
    assert not not_null.passed and not_null.error is None and not_null.sample
