"""Every OpenMetadata table and column test definition: its parameters, whether it needs a
column, and the Great Expectations expectation it becomes.

Plain data, no GX import: the YAML reader validates cases with ``parameter_errors`` when the
code location loads, and the README's reference table is made from ``DEFINITIONS``. Only a
native case (a GX expectation by its snake-case name) imports GX, to check the name and kwargs.
The runner builds each expectation with ``expectation_kwargs``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from athena_catalog.engines.read_only import marked_select
from athena_catalog.engines.records import EngineError
from athena_catalog.names import split_fqn
from athena_catalog.quality.cases import TestCase

ParamType = Literal["int", "number", "string", "bool", "values", "names", "choice"]
OPERATORS = ("==", "!=", ">", ">=", "<", "<=")
RANGE_TYPES = ("HOUR", "DAY", "MONTH", "YEAR")
STRATEGIES = ("ROWS", "COUNT")

# How a definition becomes a GX expectation, for the README and the runner.
BUILT_IN = "built-in"
UNEXPECTED_ROWS = "UnexpectedRowsExpectation"
OURS = "ours"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParamType
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()  # for type "choice"
    default: Any = None

    @property
    def type_label(self) -> str:
        """How the README names the type."""
        labels = {
            "int": "integer",
            "number": "number",
            "string": "string",
            "bool": "boolean",
            "values": "list of values",
            "names": "list of column names (or one comma-separated string)",
        }
        return " | ".join(self.choices) if self.type == "choice" else labels[self.type]


# The GX kwargs of one case, from its column and its typed parameters.
KwargsBuilder = Callable[[str | None, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class TestDefinition:
    """One OpenMetadata test definition and the GX expectation it runs as."""

    __test__ = False  # not a pytest test class

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    needs_column: bool
    expectation: str  # GX class name (ours live in quality.expectations)
    implementation: str  # BUILT_IN, UNEXPECTED_ROWS or OURS
    kwargs: KwargsBuilder
    row_level: bool = False  # has unexpected rows, whose sample is fetched on failure
    at_least_one: tuple[str, ...] = ()  # bounds: one of these must be given

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)


def _bounds(low: str, high: str) -> KwargsBuilder:
    def build(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"min_value": params.get(low), "max_value": params.get(high)}
        return kwargs | ({"column": column} if column is not None else {})

    return build


def _column(**names: str) -> KwargsBuilder:
    """kwargs = column plus GX name <- OpenMetadata parameter name, for given parameters."""

    def build(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"column": column}
        return kwargs | {gx: params[om] for gx, om in names.items() if params.get(om) is not None}

    return build


def _table(**names: str) -> KwargsBuilder:
    def build(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        return {gx: params[om] for gx, om in names.items() if params.get(om) is not None}

    return build


def _column_set(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    key = "column_list" if params.get("ordered") else "column_set"
    kwargs: dict[str, Any] = {key: list(params["columnNames"])}
    return kwargs | ({} if params.get("ordered") else {"exact_match": True})


def _custom_sql(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sql_expression": params["sqlExpression"],
        "strategy": params.get("strategy") or "ROWS",
        "operator": params.get("operator") or "<=",
        "threshold": params.get("threshold") or 0,
    }


def _inserted(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "column": params["columnName"],
        "min_value": params.get("min"),
        "max_value": params.get("max"),
        "range_type": params.get("rangeType") or "DAY",
        "range_interval": params.get("rangeInterval") or 1,
    }


def _table_diff(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "other_table": params["table2"],
        "key_columns": list(params["keyColumns"]),
        "use_columns": list(params.get("useColumns") or []),
        "where": params.get("where") or "",
        "threshold": params.get("threshold") or 0,
    }


def _missing(column: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "column": column,
        "value": params["missingCountValue"],
        "missing_values": list(params.get("missingValueMatch") or []),
    }


def _stat(stat: str, expectation: str, what: str, implementation: str = BUILT_IN) -> TestDefinition:
    low, high = f"minValueFor{stat}InCol", f"maxValueFor{stat}InCol"
    return TestDefinition(
        f"columnValue{stat}ToBeBetween",
        f"The column's {what} is between the bounds (either may be left out).",
        (Parameter(low, "number"), Parameter(high, "number")),
        True,
        expectation,
        implementation,
        _bounds(low, high),
        at_least_one=(low, high),
    )


_DEFINITIONS: tuple[TestDefinition, ...] = (
    # -- table tests ------------------------------------------------------------------------
    TestDefinition(
        "tableRowCountToBeBetween",
        "The table's row count is between the bounds (either may be left out).",
        (Parameter("minValue", "int"), Parameter("maxValue", "int")),
        False,
        "ExpectTableRowCountToBeBetween",
        BUILT_IN,
        _bounds("minValue", "maxValue"),
        at_least_one=("minValue", "maxValue"),
    ),
    TestDefinition(
        "tableRowCountToEqual",
        "The table has exactly this many rows.",
        (Parameter("value", "int", True),),
        False,
        "ExpectTableRowCountToEqual",
        BUILT_IN,
        _table(value="value"),
    ),
    TestDefinition(
        "tableColumnCountToBeBetween",
        "The table's column count is between the bounds (either may be left out).",
        (Parameter("minColValue", "int"), Parameter("maxColValue", "int")),
        False,
        "ExpectTableColumnCountToBeBetween",
        BUILT_IN,
        _bounds("minColValue", "maxColValue"),
        at_least_one=("minColValue", "maxColValue"),
    ),
    TestDefinition(
        "tableColumnCountToEqual",
        "The table has exactly this many columns.",
        (Parameter("columnCount", "int", True),),
        False,
        "ExpectTableColumnCountToEqual",
        BUILT_IN,
        _table(value="columnCount"),
    ),
    TestDefinition(
        "tableColumnNameToExist",
        "The table has a column of this name.",
        (Parameter("columnName", "string", True),),
        False,
        "ExpectColumnToExist",
        BUILT_IN,
        _table(column="columnName"),
    ),
    TestDefinition(
        "tableColumnToMatchSet",
        "The table's columns are exactly these (in this order when ordered is true).",
        (
            Parameter("columnNames", "names", True),
            Parameter("ordered", "bool", default=False),
        ),
        False,
        "ExpectTableColumnsToMatchSet",  # ExpectTableColumnsToMatchOrderedList when ordered
        BUILT_IN,
        _column_set,
    ),
    TestDefinition(
        "tableCustomSQLQuery",
        "A SELECT's row count (ROWS) or its single value (COUNT) compared with the threshold:"
        " passes when `value <operator> threshold`; default: no rows.",
        (
            Parameter("sqlExpression", "string", True, "an Athena SELECT; {batch} is the table"),
            Parameter("strategy", "choice", choices=STRATEGIES, default="ROWS"),
            Parameter("operator", "choice", choices=OPERATORS, default="<="),
            Parameter("threshold", "int", default=0),
        ),
        False,
        "ExpectQueryResultToMeetThreshold",
        OURS,
        _custom_sql,
        row_level=True,
    ),
    TestDefinition(
        "tableRowInsertedCountToBeBetween",
        "Rows whose columnName falls in the last rangeInterval rangeTypes are between min and max.",
        (
            Parameter("min", "int"),
            Parameter("max", "int"),
            Parameter("columnName", "string", True, "a date or timestamp column"),
            Parameter("rangeType", "choice", choices=RANGE_TYPES, default="DAY"),
            Parameter("rangeInterval", "int", default=1),
        ),
        False,
        "ExpectTableRowInsertedCountToBeBetween",
        OURS,
        _inserted,
        at_least_one=("min", "max"),
    ),
    TestDefinition(
        "tableDiff",
        "Rows of this table and table2, matched on keyColumns, that are missing on one side or"
        " differ in useColumns number at most threshold.",
        (
            Parameter("keyColumns", "names", True),
            Parameter("table2", "string", True, "catalog.database.table"),
            Parameter("threshold", "int", default=0),
            Parameter("useColumns", "names", description="default: every non-key column"),
            Parameter("where", "string", description="an Athena condition on both tables"),
        ),
        False,
        "ExpectTableToMatchOtherTable",
        OURS,
        _table_diff,
        row_level=True,
    ),
    # -- column tests -----------------------------------------------------------------------
    TestDefinition(
        "columnValuesToBeUnique",
        "No non-NULL value appears twice.",
        (),
        True,
        "ExpectColumnValuesToBeUniqueInOneScan",
        OURS,
        _column(),
        row_level=True,
    ),
    TestDefinition(
        "columnValuesToBeNotNull",
        "No value is NULL.",
        (),
        True,
        "ExpectColumnValuesToNotBeNull",
        BUILT_IN,
        _column(),
        row_level=True,
    ),
    TestDefinition(
        "columnValuesToBeBetween",
        "Every non-NULL value is between the bounds (either may be left out).",
        (Parameter("minValue", "number"), Parameter("maxValue", "number")),
        True,
        "ExpectColumnValuesToBeBetween",
        BUILT_IN,
        _bounds("minValue", "maxValue"),
        row_level=True,
        at_least_one=("minValue", "maxValue"),
    ),
    TestDefinition(
        "columnValuesToMatchRegex",
        "Every non-NULL value matches the regular expression (Athena's regexp_like).",
        (Parameter("regex", "string", True),),
        True,
        "ExpectColumnValuesToMatchAthenaRegex",
        OURS,
        _column(regex="regex"),
        row_level=True,
    ),
    TestDefinition(
        "columnValuesToNotMatchRegex",
        "No non-NULL value matches the regular expression (Athena's regexp_like).",
        (Parameter("forbiddenRegex", "string", True),),
        True,
        "ExpectColumnValuesToNotMatchAthenaRegex",
        OURS,
        _column(regex="forbiddenRegex"),
        row_level=True,
    ),
    TestDefinition(
        "columnValuesToBeInSet",
        "Every non-NULL value is one of allowedValues.",
        (Parameter("allowedValues", "values", True),),
        True,
        "ExpectColumnValuesToBeInSet",
        BUILT_IN,
        _column(value_set="allowedValues"),
        row_level=True,
    ),
    TestDefinition(
        "columnValuesToBeNotInSet",
        "No value is one of forbiddenValues.",
        (Parameter("forbiddenValues", "values", True),),
        True,
        "ExpectColumnValuesToNotBeInSet",
        BUILT_IN,
        _column(value_set="forbiddenValues"),
        row_level=True,
    ),
    _stat("Max", "ExpectColumnMaxToBeBetween", "maximum"),
    _stat("Min", "ExpectColumnMinToBeBetween", "minimum"),
    _stat("Mean", "ExpectColumnMeanToBeBetween", "mean"),
    _stat(
        "Median",
        "ExpectColumnApproxMedianToBeBetween",
        "median (Athena's approx_percentile: rank error about 1%)",
        OURS,
    ),
    _stat("StdDev", "ExpectColumnStdevToBeBetween", "sample standard deviation"),
    TestDefinition(
        "columnValuesSumToBeBetween",
        "The column's sum is between the bounds (either may be left out).",
        (Parameter("minValueForColSum", "number"), Parameter("maxValueForColSum", "number")),
        True,
        "ExpectColumnSumToBeBetween",
        BUILT_IN,
        _bounds("minValueForColSum", "maxValueForColSum"),
        at_least_one=("minValueForColSum", "maxValueForColSum"),
    ),
    TestDefinition(
        "columnValueLengthsToBeBetween",
        "Every non-NULL string's length is between the bounds (either may be left out).",
        (Parameter("minLength", "int"), Parameter("maxLength", "int")),
        True,
        "ExpectColumnValueLengthsToBeBetween",
        BUILT_IN,
        _bounds("minLength", "maxLength"),
        row_level=True,
        at_least_one=("minLength", "maxLength"),
    ),
    TestDefinition(
        "columnValuesMissingCount",
        "The number of missing values (NULL, or one of missingValueMatch) equals"
        " missingCountValue.",
        (
            Parameter("missingCountValue", "int", True),
            Parameter("missingValueMatch", "values", description="values that count as missing"),
        ),
        True,
        "ExpectColumnMissingCountToEqual",
        OURS,
        _missing,
    ),
)

DEFINITIONS: dict[str, TestDefinition] = {d.name: d for d in _DEFINITIONS}


# -- validation -------------------------------------------------------------------------------


def parameter_errors(case: TestCase, columns: Mapping[str, str] | None) -> list[str]:
    """What is wrong with ``case`` (empty: nothing), each message naming the parameter.

    ``columns`` (name -> Athena type) checks column names when the table is known; None
    skips that check.
    """
    if case.native:
        return _native_errors(case, columns)
    definition = DEFINITIONS.get(case.test_definition)
    if definition is None:
        return [
            f"unknown testDefinitionName {case.test_definition!r}"
            f"{_suggestion(case.test_definition, DEFINITIONS)}"
        ]
    errors: list[str] = []
    if definition.needs_column and not case.column_name:
        errors.append(f"{definition.name} needs a columnName")
    if not definition.needs_column and case.column_name:
        errors.append(
            f"{definition.name} is a table test: columnName {case.column_name!r} is not allowed"
            + (" (give it as a parameter)" if "columnName" in definition.parameter_names else "")
        )
    if case.column_name:
        errors += _column_errors("columnName", [case.column_name], columns)
    known = {p.name: p for p in definition.parameters}
    for name in case.parameters:
        if name not in known:
            allowed = ", ".join(known) or "none"
            errors.append(f"unknown parameter {name!r} of {definition.name} (allowed: {allowed})")
    for parameter in definition.parameters:
        value = case.parameters.get(parameter.name)
        if value is None:
            if parameter.required:
                errors.append(f"missing parameter {parameter.name!r} ({parameter.type_label})")
            continue
        problem = _type_error(parameter, value)
        if problem:
            errors.append(f"parameter {parameter.name!r}: {problem}")
    if definition.at_least_one and all(
        case.parameters.get(n) is None for n in definition.at_least_one
    ):
        errors.append(
            f"{definition.name} needs at least one of {', '.join(definition.at_least_one)}"
        )
    if not errors:
        errors += _semantic_errors(definition, typed_parameters(case), columns)
    return errors


def typed_parameters(case: TestCase) -> dict[str, Any]:
    """The case's parameters with their declared types applied (lists from OpenMetadata's
    JSON strings or comma-separated names) and defaults filled in; for a valid case."""
    definition = DEFINITIONS[case.test_definition]
    typed: dict[str, Any] = {}
    for parameter in definition.parameters:
        value = case.parameters.get(parameter.name)
        typed[parameter.name] = parameter.default if value is None else _typed(parameter, value)
    return typed


def expectation_kwargs(case: TestCase) -> tuple[str, dict[str, Any]]:
    """The GX expectation (class name, or a native case's snake-case name) and its kwargs."""
    if case.native:
        return case.test_definition, dict(case.parameters)
    definition = DEFINITIONS[case.test_definition]
    params = typed_parameters(case)
    name = definition.expectation
    if definition.name == "tableColumnToMatchSet" and params.get("ordered"):
        name = "ExpectTableColumnsToMatchOrderedList"
    kwargs = definition.kwargs(case.column_name, params)
    return name, {k: v for k, v in kwargs.items() if v is not None}


_INT = re.compile(r"[+-]?\d+")


def _typed(parameter: Parameter, value: Any) -> Any:
    # OpenMetadata's own exports write every parameter value as a string ("0", "true").
    if isinstance(value, str) and parameter.type in ("int", "number", "bool"):
        text = value.strip()
        if parameter.type == "bool":
            return {"true": True, "false": False}.get(text.lower(), value)
        if _INT.fullmatch(text):
            return int(text)
        if parameter.type == "number":
            try:
                number = float(text)
            except ValueError:
                return value
            return number if math.isfinite(number) else value
        return value
    if parameter.type == "values" and isinstance(value, str):
        return json.loads(value)
    if parameter.type == "names" and isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _type_error(parameter: Parameter, value: Any) -> str | None:
    kind = parameter.type
    if kind in ("int", "number", "bool"):
        value = _typed(parameter, value)
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"expected an integer, got {value!r}"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"expected a number, got {value!r}"
    if kind == "bool" and not isinstance(value, bool):
        return f"expected true or false, got {value!r}"
    if kind in ("string", "choice") and not isinstance(value, str):
        return f"expected a string, got {value!r}"
    if kind == "string" and not value.strip():
        return "must not be empty"
    if kind == "choice" and value not in parameter.choices:
        return f"expected one of {', '.join(parameter.choices)}, got {value!r}"
    if kind in ("values", "names"):
        try:
            typed = _typed(parameter, value)
        except json.JSONDecodeError as exc:
            return f"not a JSON list: {exc}"
        if not isinstance(typed, list) or not typed:
            return f"expected a non-empty list, got {value!r}"
        if kind == "names" and not all(isinstance(v, str) and v for v in typed):
            return f"expected column names, got {value!r}"
        if kind == "values" and not all(isinstance(v, str | int | float | bool) for v in typed):
            return f"expected a list of strings or numbers, got {value!r}"
    return None


def _semantic_errors(
    definition: TestDefinition, params: Mapping[str, Any], columns: Mapping[str, str] | None
) -> list[str]:
    errors: list[str] = []
    if len(definition.at_least_one) == 2:
        low, high = (params.get(n) for n in definition.at_least_one)
        if low is not None and high is not None and low > high:
            errors.append(
                f"{definition.at_least_one[0]} ({low}) is greater than"
                f" {definition.at_least_one[1]} ({high})"
            )
    if definition.name == "tableRowInsertedCountToBeBetween":
        errors += _column_errors("columnName", [params["columnName"]], columns)
        if params["rangeInterval"] < 1:
            errors.append(
                f"parameter 'rangeInterval': must be at least 1, got {params['rangeInterval']}"
            )
    elif definition.name == "tableDiff":
        errors += _column_errors("keyColumns", params["keyColumns"], columns)
        errors += _column_errors("useColumns", params.get("useColumns") or [], columns)
        try:
            split_fqn(params["table2"], 3)
        except ValueError as exc:
            errors.append(f"parameter 'table2': {exc}")
    elif definition.name == "tableCustomSQLQuery":
        errors += _sql_errors(params["sqlExpression"])
    return errors


def _sql_errors(sql: str) -> list[str]:
    """sqlExpression must be one read-only SELECT ({batch} stands for the table)."""
    try:
        marked_select(sql.replace("{batch}", "batch_table"))
    except EngineError as exc:
        return [f"parameter 'sqlExpression': {exc}"]
    return []


def _column_errors(
    parameter: str, names: Sequence[str], columns: Mapping[str, str] | None
) -> list[str]:
    if columns is None:
        return []
    known = {c.lower() for c in columns}
    return [
        f"{parameter}: unknown column {name!r}{_suggestion(name, columns)}"
        for name in names
        if name.lower() not in known
    ]


def _suggestion(name: str, choices: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _native_errors(case: TestCase, columns: Mapping[str, str] | None) -> list[str]:
    """A GX expectation by snake-case name: the name must exist and the kwargs build it."""
    from great_expectations.compatibility import pydantic
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import get_expectation_impl

    import athena_catalog.quality.expectations  # noqa: F401  (registers ours)

    try:
        impl = get_expectation_impl(case.test_definition)
    except ExpectationNotFoundError:
        return [f"unknown expectation {case.test_definition!r}"]
    errors: list[str] = []
    column = case.parameters.get("column")
    if isinstance(column, str):
        errors += _column_errors("kwargs.column", [column], columns)
    try:
        impl(**case.parameters)
    except (pydantic.ValidationError, TypeError, ValueError) as exc:
        errors.append(f"kwargs of {case.test_definition}: {_one_line(exc)}")
    return errors


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
