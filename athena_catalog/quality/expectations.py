"""Our Great Expectations expectations, for OpenMetadata tests GX 1.24 has none for on Athena.

Each is a GX expectation with GX metrics, so its result has GX's shape (``success``,
``observed_value`` or ``unexpected_count``) like the built-in ones, and the aggregate ones
(missing count, inserted count) join GX's one-SELECT metric bundle of the table:

* regex: GX has no regex expression for the ``awsathena`` dialect, so the conditions use
  Athena's ``regexp_like`` (the embedded engine transpiles it to DuckDB's);
* ``tableCustomSQLQuery``: a SELECT's row count or single value against an operator and a
  threshold (UnexpectedRowsExpectation only knows "no rows");
* ``tableRowInsertedCountToBeBetween``: rows of the last N hours/days/months/years;
* ``tableDiff``: rows of two tables matched on key columns that differ or are missing;
* ``columnValuesMissingCount``: NULLs plus values that mean missing, equal to a count.

The ``*_sample`` metrics are what the runner asks for a failed query-based check only.
"""

from __future__ import annotations

import operator as op
from typing import Any, ClassVar

import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
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
    metric_value,
)

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


class ExpectColumnValuesToMatchAthenaRegex(ColumnMapExpectation):
    """Every non-NULL value matches ``regex`` (Athena's ``regexp_like``: anywhere in the
    value, Java pattern syntax)."""

    regex: str
    map_metric: ClassVar[str] = "column_values.match_athena_regex"
    success_keys: ClassVar[tuple[str, ...]] = ("regex", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "regex")


class ExpectColumnValuesToNotMatchAthenaRegex(ColumnMapExpectation):
    """No non-NULL value matches ``regex`` (Athena's ``regexp_like``)."""

    regex: str
    map_metric: ClassVar[str] = "column_values.not_match_athena_regex"
    success_keys: ClassVar[tuple[str, ...]] = ("regex", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "regex")


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
        now = sa.func.current_timestamp() if range_type == "HOUR" else sa.func.current_date()
        since = sa.func.date_add(unit, sa.literal_column(str(-int(range_interval))), now)
        return _count_where(column >= since)


def _between(value: Any, low: Any, high: Any) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


class ExpectColumnMissingCountToEqual(ColumnAggregateExpectation):
    """NULLs plus values in ``missing_values`` (compared as text) number exactly ``value``."""

    value: int
    missing_values: list[Any] = []
    metric_dependencies: ClassVar[tuple[str, ...]] = (MISSING_METRIC,)
    success_keys: ClassVar[tuple[str, ...]] = ("value", "missing_values")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        observed = metrics[MISSING_METRIC]
        return {"success": observed == self.value, "result": {"observed_value": observed}}


class ExpectTableRowInsertedCountToBeBetween(ColumnAggregateExpectation):
    """Rows whose ``column`` (a date or timestamp) is within the last ``range_interval``
    ``range_type``s (HOUR from now, else from today) number between the bounds."""

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

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        observed = metrics[INSERTED_METRIC]
        success = _between(observed, self.min_value, self.max_value)
        return {"success": success, "result": {"observed_value": observed}}


# -- query-based checks: one statement each -----------------------------------------------------


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
    return sql.replace("{batch}", batch).rstrip().rstrip(";")


class QueryMeasure(MetricProvider):
    """ROWS: how many rows the query returns; COUNT: its first row's first value."""

    metric_name = QUERY_METRIC
    domain_keys = ("batch_id", "row_condition", "condition_parser")
    value_keys = ("sql_expression", "strategy")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        query = _user_query(
            metric_value_kwargs["sql_expression"],
            _batch_name(execution_engine, metric_domain_kwargs),
        )
        if metric_value_kwargs["strategy"] == "COUNT":
            rows = _rows(execution_engine, query)
            return rows[0][0] if rows and rows[0] else None
        return _rows(execution_engine, f"SELECT count(*) FROM ({query}) AS custom_sql")[0][0]


class QuerySample(MetricProvider):
    metric_name = QUERY_SAMPLE_METRIC
    domain_keys = ("batch_id", "row_condition", "condition_parser")
    value_keys = ("sql_expression",)

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        query = _user_query(
            metric_value_kwargs["sql_expression"],
            _batch_name(execution_engine, metric_domain_kwargs),
        )
        return _rows(execution_engine, f"SELECT * FROM ({query}) AS custom_sql LIMIT {SAMPLE_ROWS}")


class ExpectQueryResultToMeetThreshold(BatchExpectation):
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
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        observed = metrics[QUERY_METRIC]
        success = observed is not None and COMPARE[self.operator](observed, self.threshold)
        return {"success": bool(success), "result": {"observed_value": observed}}


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
    where = f" WHERE {value_kwargs['where']}" if value_kwargs.get("where") else ""
    columns = ", ".join(keys + used)
    mine = f"SELECT {columns} FROM {_batch_name(execution_engine, domain_kwargs)}{where}"
    theirs = f"SELECT {columns} FROM {sql_name(*split_fqn(value_kwargs['other_table'], 3))}{where}"
    on = " AND ".join(f"a.{k} = b.{k}" for k in keys)
    missing = " OR ".join([f"a.{keys[0]} IS NULL", f"b.{keys[0]} IS NULL"])
    differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in used)
    condition = f"{missing} OR {differs}" if differs else missing
    key = ", ".join(f"coalesce(a.{k}, b.{k}) AS {k}" for k in keys)
    return f"({mine}) AS a FULL OUTER JOIN ({theirs}) AS b ON {on}", condition, key


class TableDiffCount(MetricProvider):
    metric_name = DIFF_METRIC
    domain_keys = ("batch_id", "row_condition", "condition_parser")
    value_keys = ("other_table", "key_columns", "use_columns", "where")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        source, condition, _ = _diff_from(
            execution_engine, metric_domain_kwargs, metric_value_kwargs
        )
        return _rows(execution_engine, f"SELECT count(*) FROM {source} WHERE {condition}")[0][0]


class TableDiffSample(MetricProvider):
    metric_name = DIFF_SAMPLE_METRIC
    domain_keys = ("batch_id", "row_condition", "condition_parser")
    value_keys = ("other_table", "key_columns", "use_columns", "where")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        source, condition, key = _diff_from(
            execution_engine, metric_domain_kwargs, metric_value_kwargs
        )
        return _rows(
            execution_engine, f"SELECT {key} FROM {source} WHERE {condition} LIMIT {SAMPLE_ROWS}"
        )


class ExpectTableToMatchOtherTable(BatchExpectation):
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
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: Any = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        observed = metrics[DIFF_METRIC]
        return {"success": observed <= self.threshold, "result": {"observed_value": observed}}


# The sample metric of each query-based expectation: fetched only when it failed.
SAMPLE_METRICS = {
    ExpectQueryResultToMeetThreshold: QUERY_SAMPLE_METRIC,
    ExpectTableToMatchOtherTable: DIFF_SAMPLE_METRIC,
}
