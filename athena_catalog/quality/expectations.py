"""Our Great Expectations expectations, for OpenMetadata tests GX 1.24 has none for on Athena.

Each is a GX expectation with GX metrics, so its result has GX's shape (``success``,
``observed_value`` or ``unexpected_count``) like the built-in ones, and every metric a
passing check needs is an aggregate that joins the table's one-SELECT metric bundle:

* regex: GX has no regex expression for the ``awsathena`` dialect, so the conditions use
  Athena's ``regexp_like`` (the embedded engine transpiles it to DuckDB's);
* ``tableCustomSQLQuery``: a SELECT's row count or single value against an operator and a
  threshold (UnexpectedRowsExpectation only knows "no rows");
* ``tableRowInsertedCountToBeBetween``: rows of the last N hours/days/months/years;
* ``tableDiff``: rows of two tables matched on key columns that differ or are missing;
* ``columnValuesMissingCount``: NULLs plus values that mean missing, equal to a count;
* ``columnValuesToBeUnique``: ``count(col) - count(DISTINCT col)`` (GX's own needs a window
  query); zero means unique, and only a failure asks for the exact count of rows holding a
  repeated value, with the sample, in one statement;
* ``columnValueMedianToBeBetween``: Athena's ``approx_percentile(col, 0.5)`` (GX's own sorts
  the column in a statement of its own): an estimate, rank error about 1% of the non-NULL
  rows.

The query-based checks (custom SQL, table diff) are scalar subqueries in the same bundle. The
``*_sample`` metrics are what the runner asks for a failed check only.
"""

from __future__ import annotations

import operator as op
from typing import Any, ClassVar

import sqlalchemy as sa
import sqlglot
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.metric_function_types import MetricPartialFunctionTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.expect_column_median_to_be_between import (
    ExpectColumnMedianToBeBetween,
)
from great_expectations.expectations.expectation import (
    BatchExpectation,
    ColumnAggregateExpectation,
    ColumnMapExpectation,
)
from great_expectations.expectations.metrics.column_aggregate_metric_provider import (
    ColumnAggregateMetricProvider,
    column_aggregate_partial,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.metric_provider import (
    MetricProvider,
    metric_partial,
    metric_value,
)
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider
from sqlglot import exp

from athena_catalog.names import split_fqn, sql_name

SAMPLE_ROWS = 20  # rows a failed query-based check fetches
COMPARE: dict[str, Any] = {
    "==": op.eq,
    "!=": op.ne,
    ">": op.gt,
    ">=": op.ge,
    "<": op.lt,
    "<=": op.le,
}
INSERTED_METRIC = "column.athena_catalog_inserted_count"
MISSING_METRIC = "column.athena_catalog_missing_count"
QUERY_METRIC = "table.athena_catalog_query_measure"
QUERY_SAMPLE_METRIC = "table.athena_catalog_query_sample"
DIFF_METRIC = "table.athena_catalog_diff_count"
DIFF_SAMPLE_METRIC = "table.athena_catalog_diff_sample"
DUPLICATE_METRIC = "column.athena_catalog_duplicate_count"
DUPLICATES_SAMPLE_METRIC = "column.athena_catalog_duplicates"
MEDIAN_METRIC = "column.athena_catalog_approx_median"
UTC_NOW = "current_timestamp AT TIME ZONE 'UTC'"  # "now" of tableRowInsertedCountToBeBetween
# The domain of the table-level checks: the batch (its table), no column.
TABLE_DOMAIN_KEYS = ("batch_id", "row_condition", "condition_parser")
Kwargs = dict[str, Any]  # a metric's domain or value kwargs


# -- regex: regexp_like -------------------------------------------------------------------------


def _regexp_like(column: Any, regex: str) -> Any:
    return sa.func.regexp_like(sa.cast(column, sa.String), sa.literal(regex))


class ColumnValuesMatchAthenaRegex(ColumnMapMetricProvider):
    condition_metric_name = "column_values.match_athena_regex"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, regex: str, **kwargs: Any) -> Any:
        return _regexp_like(column, regex)


class ColumnValuesNotMatchAthenaRegex(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_match_athena_regex"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, regex: str, **kwargs: Any) -> Any:
        return sa.not_(_regexp_like(column, regex))


class _AthenaRegexExpectation(ColumnMapExpectation):
    """The regex expectations' parameters; abstract for GX (no ``map_metric``), so it is not
    registered as an expectation of its own."""

    regex: str
    success_keys: ClassVar[tuple[str, ...]] = ("regex", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "regex")


class ExpectColumnValuesToMatchAthenaRegex(_AthenaRegexExpectation):
    """Every non-NULL value matches ``regex`` (Athena's ``regexp_like``: anywhere in the
    value, Java pattern syntax)."""

    map_metric: ClassVar[str] = "column_values.match_athena_regex"


class ExpectColumnValuesToNotMatchAthenaRegex(_AthenaRegexExpectation):
    """No non-NULL value matches ``regex`` (Athena's ``regexp_like``)."""

    map_metric: ClassVar[str] = "column_values.not_match_athena_regex"


# -- aggregates that join GX's bundle -----------------------------------------------------------


def _count_where(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


class ColumnMissingCount(ColumnAggregateMetricProvider):
    metric_name = MISSING_METRIC
    value_keys = ("missing_values",)

    @column_aggregate_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, missing_values: list[Any], **kwargs: Any) -> Any:
        missing = column.is_(None)
        if missing_values:
            texts = [str(v) for v in missing_values]
            missing = sa.or_(missing, sa.cast(column, sa.String).in_(texts))
        return _count_where(missing)


class ColumnInsertedCount(ColumnAggregateMetricProvider):
    metric_name = INSERTED_METRIC
    value_keys = ("range_type", "range_interval")

    @column_aggregate_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, range_type: str, range_interval: int, **kwargs: Any) -> Any:
        unit: Any = sa.literal_column(f"'{range_type.lower()}'")
        # UTC on both engines: DuckDB's current_date and its casts of timestamps follow the
        # machine's time zone, Athena's the session's (UTC).
        now: Any = sa.literal_column(UTC_NOW)
        if range_type != "HOUR":
            now = sa.cast(now, sa.Date)
        since = sa.func.date_add(unit, sa.literal_column(str(-int(range_interval))), now)
        return _count_where(column >= since)


def _between(value: Any, low: Any, high: Any) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


class _ObservedValue:
    """The ``_validate`` of an expectation judged on its one metric (the first of
    ``metric_dependencies``), with the result GX's aggregate expectations give:
    ``observed_value``. Mixed in before the GX base class."""

    metric_dependencies: ClassVar[tuple[str, ...]]

    def _passes(self, observed: Any) -> bool:
        raise NotImplementedError

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        observed = metrics[self.metric_dependencies[0]]
        return {"success": bool(self._passes(observed)), "result": {"observed_value": observed}}


class ExpectColumnMissingCountToEqual(_ObservedValue, ColumnAggregateExpectation):
    """NULLs plus values in ``missing_values`` (compared as text) number exactly ``value``."""

    value: int
    missing_values: list[Any] = []
    metric_dependencies: ClassVar[tuple[str, ...]] = (MISSING_METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = ("value", "missing_values")

    def _passes(self, observed: Any) -> bool:
        return bool(observed == self.value)


class ExpectTableRowInsertedCountToBeBetween(_ObservedValue, ColumnAggregateExpectation):
    """Rows whose ``column`` (a date or timestamp) is within the last ``range_interval``
    ``range_type``s (HOUR from now, else from today; in UTC) number between the bounds."""

    min_value: int | None = None
    max_value: int | None = None
    range_type: str = "DAY"
    range_interval: int = 1
    metric_dependencies: ClassVar[tuple[str, ...]] = (INSERTED_METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = (
        "min_value",
        "max_value",
        "range_type",
        "range_interval",
    )

    def _passes(self, observed: Any) -> bool:
        return _between(observed, self.min_value, self.max_value)


class ColumnDuplicateCount(ColumnAggregateMetricProvider):
    """Non-NULL values beyond the first of each distinct value: zero if and only if unique."""

    metric_name = DUPLICATE_METRIC

    @column_aggregate_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        return sa.func.count(column) - sa.func.count(sa.distinct(column))


class ColumnApproxMedian(ColumnAggregateMetricProvider):
    metric_name = MEDIAN_METRIC

    @column_aggregate_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        return sa.func.approx_percentile(column, sa.literal_column("0.5"))


class ColumnDuplicates(MetricProvider):
    """Rows holding a value that appears more than once (GX's unexpected count for
    uniqueness) and a sample of those values, in one statement."""

    metric_name = DUPLICATES_SAMPLE_METRIC
    domain_keys = ("batch_id", "table", "column", "row_condition", "condition_parser")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        column = execution_engine.engine.dialect.identifier_preparer.quote(
            metric_domain_kwargs["column"]
        )
        table = {k: v for k, v in metric_domain_kwargs.items() if k != "column"}
        batch = _batch_name(execution_engine, table)
        rows = _rows(
            execution_engine,
            f"SELECT v, sum(n) OVER () FROM (SELECT {column} AS v, count(*) AS n FROM {batch}"
            f" WHERE {column} IS NOT NULL GROUP BY {column} HAVING count(*) > 1) AS repeated"
            f" LIMIT {SAMPLE_ROWS}",
        )
        return {"unexpected_count": int(rows[0][1]) if rows else 0, "values": [r[0] for r in rows]}


class ExpectColumnValuesToBeUniqueInOneScan(ColumnAggregateExpectation):
    """No non-NULL value appears twice; GX's ``ExpectColumnValuesToBeUnique`` as one
    aggregate (its result has GX's map shape: element and unexpected counts)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (
        DUPLICATE_METRIC,
        "table.row_count",
        "column_values.nonnull.unexpected_count",
    )

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        surplus = metrics[DUPLICATE_METRIC]
        rows = metrics["table.row_count"]
        nonnull = rows - metrics["column_values.nonnull.unexpected_count"]
        # Unique: nothing is unexpected (exact). Not unique: the surplus is a lower bound of
        # the rows holding a repeated value; the runner's failure statement counts them.
        return {
            "success": surplus == 0,
            "result": {
                "element_count": rows,
                "unexpected_count": surplus,
                "unexpected_percent": surplus / nonnull * 100 if nonnull else 0.0,
                "partial_unexpected_list": [],
            },
        }


class ExpectColumnApproxMedianToBeBetween(ExpectColumnMedianToBeBetween):
    """GX's median expectation on Athena's ``approx_percentile(col, 0.5)``: an estimate whose
    rank among the sorted non-NULL values is about 1% from the middle, in the bundle."""

    metric_dependencies: ClassVar[tuple[str]] = (MEDIAN_METRIC,)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        return self._validate_metric_value_between(
            metric_name=MEDIAN_METRIC,
            metrics=metrics,
            runtime_configuration=runtime_configuration,
            execution_engine=execution_engine,
        )


# -- query-based checks: scalar subqueries in the bundle -------------------------------------


def _batch_name(execution_engine: SqlAlchemyExecutionEngine, domain_kwargs: dict[str, Any]) -> str:
    """The batch's table as Athena reads it back (every part quoted)."""
    selectable, _, _ = execution_engine.get_compute_domain(
        domain_kwargs, domain_type=MetricDomainTypes.TABLE
    )
    if isinstance(selectable, sa.Table):
        return execution_engine.engine.dialect.identifier_preparer.format_table(selectable)
    compiled = selectable.compile(
        dialect=execution_engine.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    return f"({compiled}) AS batch"


def _rows(execution_engine: SqlAlchemyExecutionEngine, sql: str) -> list[tuple[Any, ...]]:
    # Escape colons: sa.text would read ":name" in the user's SQL as a bind parameter.
    result = execution_engine.execute_query(sa.text(sql.replace(":", r"\:")))
    return [tuple(row) for row in result.fetchall()]


def _user_query(sql: str, batch: str) -> str:
    """The user's SELECT on the table, ending in a newline: whatever wraps it (a subquery's
    ``)``, ``LIMIT``) stays outside a trailing ``-- comment``."""
    return sql.replace("{batch}", batch).rstrip().rstrip(";") + "\n"


def _scalar(sql: str) -> Any:
    """``sql`` as a scalar subquery of the table's bundle, verbatim (no bind parameters).

    Behind an aggregate condition (always true), so that a bundle holding only such
    subqueries is still an aggregate query and returns one row."""
    return sa.case((sa.func.count() >= 0, sa.literal_column(f"({sql})")))


def _first_value(query: str) -> str:
    """A query of the first column of ``query``'s first row (a scalar subquery must have one
    column: a SELECT of several keeps its first)."""
    parsed = sqlglot.parse_one(query, read="athena")
    if isinstance(parsed, exp.Select) and len(parsed.expressions) > 1:
        parsed = parsed.select(parsed.expressions[0], append=False)
        query = parsed.sql(dialect="athena")
    return f"SELECT * FROM ({query}) AS custom_sql LIMIT 1"


class _BundledQuery(TableMetricProvider):
    """A table metric whose value is the one value of :meth:`_query`, as a scalar subquery in
    the table's bundle, so it costs no statement of its own. Registered by GX only in the
    subclasses (this one has no ``metric_name``)."""

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        raise NotImplementedError

    @metric_partial(
        engine=SqlAlchemyExecutionEngine,
        partial_fn_type=MetricPartialFunctionTypes.AGGREGATE_FN,
        domain_type=MetricDomainTypes.TABLE,
    )
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        sql = cls._query(execution_engine, metric_domain_kwargs, metric_value_kwargs)
        return _scalar(sql), metric_domain_kwargs, {}


class _SampleQuery(MetricProvider):
    """The first ``SAMPLE_ROWS`` rows of :meth:`_query`, in a statement of their own (asked
    for a failed check only). Registered by GX only in the subclasses."""

    domain_keys = TABLE_DOMAIN_KEYS

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        raise NotImplementedError

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        sql = cls._query(execution_engine, metric_domain_kwargs, metric_value_kwargs)
        return _rows(execution_engine, f"{sql} LIMIT {SAMPLE_ROWS}")


def _custom_sql(engine: SqlAlchemyExecutionEngine, domain: Kwargs, sql: str) -> str:
    return _user_query(sql, _batch_name(engine, domain))


class QueryMeasure(_BundledQuery):
    """ROWS: how many rows the query returns; COUNT: its first row's first value."""

    metric_name = QUERY_METRIC
    value_keys = ("sql_expression", "strategy")

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        query = _custom_sql(engine, domain, values["sql_expression"])
        if values["strategy"] == "COUNT":
            return _first_value(query)
        return f"SELECT count(*) FROM ({query}) AS custom_sql"


class QuerySample(_SampleQuery):
    metric_name = QUERY_SAMPLE_METRIC
    value_keys = ("sql_expression",)

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        query = _custom_sql(engine, domain, values["sql_expression"])
        return f"SELECT * FROM ({query}) AS custom_sql"


class ExpectQueryResultToMeetThreshold(_ObservedValue, BatchExpectation):
    """``value <operator> threshold``, value being the row count of ``sql_expression``
    (strategy ROWS) or its single value (COUNT); ``{batch}`` in the SQL is the table."""

    sql_expression: str
    strategy: str = "ROWS"
    operator: str = "<="
    threshold: float = 0
    metric_dependencies: ClassVar[tuple[str, ...]] = (QUERY_METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = (
        "sql_expression",
        "strategy",
        "operator",
        "threshold",
    )
    domain_keys: ClassVar[tuple[str, ...]] = TABLE_DOMAIN_KEYS

    def _passes(self, observed: Any) -> bool:
        return observed is not None and bool(COMPARE[self.operator](observed, self.threshold))


def _diff_from(
    execution_engine: SqlAlchemyExecutionEngine,
    domain_kwargs: dict[str, Any],
    value_kwargs: dict[str, Any],
) -> tuple[str, str, str]:
    """FROM clause of the full outer join of both tables, its WHERE (rows that differ or
    miss a side), and the key expression."""
    quote = execution_engine.engine.dialect.identifier_preparer.quote
    keys = [quote(k) for k in value_kwargs["key_columns"]]
    used = [quote(c) for c in value_kwargs["use_columns"]]
    # On a line of its own: a trailing -- comment in it ends there.
    where = f" WHERE {value_kwargs['where']}\n" if value_kwargs.get("where") else ""
    columns = ", ".join(keys + used)
    mine = f"SELECT {columns} FROM {_batch_name(execution_engine, domain_kwargs)}{where}"
    theirs = f"SELECT {columns} FROM {sql_name(*split_fqn(value_kwargs['other_table'], 3))}{where}"
    on = " AND ".join(f"a.{k} = b.{k}" for k in keys)
    missing = " OR ".join([f"a.{keys[0]} IS NULL", f"b.{keys[0]} IS NULL"])
    differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in used)
    condition = f"{missing} OR {differs}" if differs else missing
    key = ", ".join(f"coalesce(a.{k}, b.{k}) AS {k}" for k in keys)
    return f"({mine}) AS a FULL OUTER JOIN ({theirs}) AS b ON {on}", condition, key


DIFF_VALUE_KEYS = ("other_table", "key_columns", "use_columns", "where")


class TableDiffCount(_BundledQuery):
    """Rows that differ or miss a side."""

    metric_name = DIFF_METRIC
    value_keys = DIFF_VALUE_KEYS

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        source, condition, _ = _diff_from(engine, domain, values)
        return f"SELECT count(*) FROM {source} WHERE {condition}"


class TableDiffSample(_SampleQuery):
    metric_name = DIFF_SAMPLE_METRIC
    value_keys = DIFF_VALUE_KEYS

    @classmethod
    def _query(cls, engine: SqlAlchemyExecutionEngine, domain: Kwargs, values: Kwargs) -> str:
        source, condition, key = _diff_from(engine, domain, values)
        return f"SELECT {key} FROM {source} WHERE {condition}"


class ExpectTableToMatchOtherTable(_ObservedValue, BatchExpectation):
    """At most ``threshold`` rows, matched on ``key_columns`` with ``other_table``
    (catalog.database.table), are missing on one side or differ in ``use_columns``."""

    other_table: str
    key_columns: list[str]
    use_columns: list[str] = []
    where: str = ""
    threshold: int = 0
    metric_dependencies: ClassVar[tuple[str, ...]] = (DIFF_METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = (
        "other_table",
        "key_columns",
        "use_columns",
        "where",
        "threshold",
    )
    domain_keys: ClassVar[tuple[str, ...]] = TABLE_DOMAIN_KEYS

    def _passes(self, observed: Any) -> bool:
        return bool(observed <= self.threshold)


# The sample metric of each query-based expectation: fetched only when it failed.
SAMPLE_METRICS = {
    ExpectQueryResultToMeetThreshold: QUERY_SAMPLE_METRIC,
    ExpectTableToMatchOtherTable: DIFF_SAMPLE_METRIC,
    ExpectColumnValuesToBeUniqueInOneScan: DUPLICATES_SAMPLE_METRIC,
}
