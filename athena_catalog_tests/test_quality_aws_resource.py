"""Data-quality checks through the Athena resource on the AWS engine, against moto's server
over real HTTP: every OpenMetadata test definition on a table with odd names (the SQL as
sent, whose credentials signed it, outcomes mapped from moto's configured results), and what
the checks record when the run cannot even start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
import sqlglot
import yaml
from sqlglot import exp

from athena_catalog.defs.quality.definitions import quality_definitions
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.state import ColumnRecord, TableRecord, TablesState
from athena_catalog.markers import MARKER
from athena_catalog.names import table_fqn
from athena_catalog.quality.definitions import DEFINITIONS
from athena_catalog.quality.spec import QualitySpec, parse_spec
from athena_catalog.store import CatalogStore
from athena_catalog.store.quality import results
from athena_catalog_tests.aws_fakes import (
    CANARY,
    ROLE_ARN,
    AnswerEachStatement,
    answer_in_sessions,
    athena_result,
    error,
    glue_tables,
)
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import SESSION_HOOKS, HookedAthenaResource

DATABASE = "odd.db-ü"
TABLE = 'we"ird tablé'
FQN = table_fqn("awsdatacatalog", DATABASE, TABLE)
SPEC = f"""\
suites:
  - entityFullyQualifiedName: 'awsdatacatalog."{DATABASE}"."we""ird tablé"'
    testCases:
      - {{name: rows, testDefinitionName: tableRowCountToBeBetween,
         parameterValues: [{{name: minValue, value: 1}}]}}
      - {{name: mail_not_null, testDefinitionName: columnValuesToBeNotNull, columnName: e-mail}}
"""


def state() -> TablesState:
    columns = (ColumnRecord("order id", "bigint"), ColumnRecord("e-mail", "string"))
    record = TableRecord(FQN, "AwsDataCatalog", DATABASE, TABLE, columns=columns)
    return TablesState(tables={FQN: record})


def run_data_quality(
    spec: QualitySpec,
    tables: TablesState,
    athena: AthenaResource,
    url: str,
    instance: dg.DagsterInstance,
) -> dg.ExecuteInProcessResult:
    """The data_quality job of ``spec`` on ``tables``, in process, storing into ``url``."""
    resources = {"athena": athena, "catalog_store": CatalogStoreResource(url=url)}
    defs = dg.Definitions.merge(
        quality_definitions(spec, tables), dg.Definitions(resources=resources)
    )
    return defs.resolve_job_def("data_quality").execute_in_process(instance=instance)


def stored_results(url: str, fqn: str) -> dict[str, Any]:
    """The store's quality results of ``fqn`` by check name."""
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            return {r.check_name: r for r in results(conn, fqn)}
    finally:
        store.close()


def test_a_run_that_cannot_start_records_every_check_failed_with_why(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A denied AssumeRole is botocore's ClientError, not an EngineError: the checks still
    evaluate (failed, with the message) and record; the secret appears nowhere."""
    answer_in_sessions(monkeypatch, "sts.AssumeRole", error("AccessDenied", 403))
    tables = state()
    catalog = {f: {c.name: c.data_type for c in t.columns} for f, t in tables.tables.items()}
    spec = parse_spec(SPEC, catalog, "aws.yaml")
    assert not spec.errors, spec.errors
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    athena = AthenaResource(
        engine="aws",
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        sts_endpoint_url=moto_endpoint,
        aws_access_key_id="AKIAQUALITYDENIED01",
        aws_secret_access_key=CANARY,
        assume_role_arn=ROLE_ARN,
        s3_staging_dir="s3://query-results/athena/",
    )
    instance = dg.DagsterInstance.ephemeral()
    result = run_data_quality(spec, tables, athena, url, instance)

    assert result.success  # the op records failures, it does not fail
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"rows", "mail_not_null"}
    assert not any(e.passed for e in evaluations.values())
    rows = stored_results(url, FQN)
    assert set(rows) == {"rows", "mail_not_null"}
    for row in rows.values():
        assert not row.passed and row.run_id == result.run_id
        assert row.error and row.error.startswith("ClientError: ")
        assert "AccessDenied" in row.error and "AssumeRole" in row.error
        assert CANARY not in row.error
    logged = " ".join(str(e) for e in instance.all_logs(result.run_id))
    assert "AccessDenied" in logged and CANARY not in logged


# -- every test definition through the resource ----------------------------------------------

ODD_DATABASE = "odd db.x-ü"
ODD_TABLE = 'we"ird tab.le-é'
OTHER_TABLE = 'other "t".x'
ODD_FQN = table_fqn("awsdatacatalog", ODD_DATABASE, ODD_TABLE)
ACCESS_KEY = "AKIAQUALITYRESOURCE1"
COLUMNS = (
    ("order id", "bigint"),
    ("e-mail", "string"),
    ("amount", "double"),
    ("order ts", "timestamp"),
    ("stätus", "string"),
)


def om(name: str, definition: str, column: str | None = None, **params: Any) -> dict[str, Any]:
    """One testCase as quality.yaml spells it."""
    case: dict[str, Any] = {"name": name, "testDefinitionName": definition}
    if column is not None:
        case["columnName"] = column
    if params:
        case["parameterValues"] = [{"name": k, "value": v} for k, v in params.items()]
    return case


TEST_CASES = [
    om("rows", "tableRowCountToBeBetween", minValue=1, maxValue=100),
    om("rows_eq", "tableRowCountToEqual", value=12),
    om("cols", "tableColumnCountToBeBetween", minColValue=5, maxColValue=5),
    om("cols_eq", "tableColumnCountToEqual", columnCount=6),
    om("has_ts", "tableColumnNameToExist", columnName="order ts"),
    om("col_set", "tableColumnToMatchSet", columnNames=[c for c, _ in COLUMNS]),
    om(
        "sql_count",
        "tableCustomSQLQuery",
        sqlExpression="SELECT count(*) FROM {batch} WHERE \"e-mail\" LIKE '%@x%'",
        strategy="COUNT",
        operator="<",
        threshold=5,
    ),
    om(
        "sql_rows",
        "tableCustomSQLQuery",
        sqlExpression='SELECT "order id" FROM {batch} WHERE amount > 1000',
    ),
    om(
        "inserted",
        "tableRowInsertedCountToBeBetween",
        columnName="order ts",
        min=1,
        rangeType="DAY",
        rangeInterval=7,
    ),
    om(
        "diff",
        "tableDiff",
        keyColumns=["order id"],
        table2=table_fqn("awsdatacatalog", ODD_DATABASE, OTHER_TABLE),
    ),
    om("unique", "columnValuesToBeUnique", "order id"),
    om("not_null", "columnValuesToBeNotNull", "order id"),
    om("between", "columnValuesToBeBetween", "amount", minValue=-10, maxValue=100),
    om("regex", "columnValuesToMatchRegex", "e-mail", regex="^[^@]+@[^@]+$"),
    om("not_regex", "columnValuesToNotMatchRegex", "e-mail", forbiddenRegex=r"\.invalid$"),
    om("in_set", "columnValuesToBeInSet", "stätus", allowedValues=["open", "it's"]),
    om("not_in_set", "columnValuesToBeNotInSet", "stätus", forbiddenValues=["void"]),
    om("max", "columnValueMaxToBeBetween", "amount", maxValueForMaxInCol=50),
    om("min", "columnValueMinToBeBetween", "amount", minValueForMinInCol=-5),
    om("mean", "columnValueMeanToBeBetween", "amount", maxValueForMeanInCol=30),
    om("median", "columnValueMedianToBeBetween", "amount", minValueForMedianInCol=10),
    om("stddev", "columnValueStdDevToBeBetween", "amount", maxValueForStdDevInCol=10),
    om("sum", "columnValuesSumToBeBetween", "amount", minValueForColSum=0),
    om("lengths", "columnValueLengthsToBeBetween", "e-mail", minLength=3, maxLength=64),
    om(
        "missing",
        "columnValuesMissingCount",
        "e-mail",
        missingCountValue=2,
        missingValueMatch=["n/a"],
    ),
]

# What moto answers for each metric of the bundle: (GX's metric name, a text the projection's
# SQL holds, the value). Ten rows; "e-mail" has two NULLs, "order id" two repeated values.
ROWS = 10
METRICS: list[tuple[str, str, Any]] = [
    ("table.row_count", "", ROWS),
    ("column_values.nonnull.unexpected_count", '"order id"', 0),
    ("column_values.nonnull.unexpected_count", '"e-mail"', 2),
    ("column_values.nonnull.unexpected_count", "amount", 0),
    ("column_values.null.unexpected_count", "amount", ROWS),  # non-NULL amounts (stddev)
    ("column_values.nonnull.unexpected_count", '"stätus"', 0),
    ("column.athena_catalog_duplicate_count", '"order id"', 2),
    ("column_values.between.unexpected_count", "amount", 0),
    ("column_values.match_athena_regex.unexpected_count", '"e-mail"', 0),
    ("column_values.not_match_athena_regex.unexpected_count", '"e-mail"', 0),
    ("column_values.in_set.unexpected_count", '"stätus"', 0),
    ("column_values.not_in_set.unexpected_count", '"stätus"', 0),
    ("column_values.value_length.between.unexpected_count", '"e-mail"', 0),
    ("column.max", "amount", 99.5),
    ("column.min", "amount", -3.0),
    ("column.mean", "amount", 25.5),
    ("column.athena_catalog_approx_median", "amount", 20.0),
    ("column.standard_deviation", "amount", 3.25),
    ("column.sum", "amount", 255.0),
    ("column.athena_catalog_missing_count", '"e-mail"', 3),
    ("column.athena_catalog_inserted_count", '"order ts"', 4),
    ("table.athena_catalog_diff_count", "", 0),
    ("table.athena_catalog_query_measure", "LIKE '%@x%'", 2),
    ("table.athena_catalog_query_measure", "amount > 1000", 0),
]
# The failed uniqueness check's one statement: values 7 and 9 repeated, on 4 rows in all.
DUPLICATES = athena_result([("v", "bigint"), ("_col1", "bigint")], ("7", "4"), ("9", "4"))


class Answers:
    """moto's answer to each statement: the failed check's sample, else one row of the
    bundle's metrics in the statement's own column order. What it cannot answer is kept."""

    def __init__(self) -> None:
        self.unanswered: list[str] = []

    def __call__(self, sql: str) -> dict[str, Any] | None:
        if " AS repeated" in sql:
            return DUPLICATES
        columns, values = [], []
        for projection in sqlglot.parse_one(sql, read="athena").expressions:
            alias = projection.alias_or_name
            metric, text = re.sub(r"_\d+$", "", alias), projection.sql("athena")
            found = [v for m, holds, v in METRICS if m == metric and holds in text]
            if len(found) != 1:
                self.unanswered.append(text)
            value = found[0] if len(found) == 1 else None
            columns.append((alias, "double" if isinstance(value, float) else "bigint"))
            values.append(None if value is None else str(value))
        return athena_result(columns, tuple(values))


def test_every_definition_through_the_resource_is_quoted_marked_signed_and_mapped(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """Every OpenMetadata definition on one odd-named Glue table, through AthenaResource: each
    statement as signed is one marked SELECT in Athena's dialect with the names quoted intact,
    and every outcome is what moto's configured numbers make of it."""
    session = boto3.Session(
        region_name=FAKE_REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
    )
    columns = [{"Name": n, "Type": t} for n, t in COLUMNS]
    glue_tables(
        session,
        moto_endpoint,
        ODD_DATABASE,
        *(
            {
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {"Columns": columns, "Location": "s3://lake/odd/"},
            }
            for name in (ODD_TABLE, OTHER_TABLE)
        ),
    )
    record = TableRecord(
        ODD_FQN,
        "AwsDataCatalog",
        ODD_DATABASE,
        ODD_TABLE,
        columns=tuple(ColumnRecord(n, t) for n, t in COLUMNS),
    )
    tables = TablesState(tables={ODD_FQN: record})
    document = {"suites": [{"entityFullyQualifiedName": ODD_FQN, "testCases": TEST_CASES}]}
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    spec = parse_spec(text, {ODD_FQN: dict(COLUMNS)}, "aws.yaml")
    assert not spec.errors, spec.errors
    used = {case.test_definition for case in spec.suites[ODD_FQN]}
    assert used == set(DEFINITIONS)

    answers = Answers()
    hook = AnswerEachStatement(moto_endpoint, answers)
    SESSION_HOOKS.append(("before-send.athena.StartQueryExecution", hook))
    athena = HookedAthenaResource(
        engine="aws",
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=CANARY,
        s3_staging_dir="s3://query-results/athena/",
        connection_options={"poll_interval": "0.05"},
    )
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = run_data_quality(spec, tables, athena, url, dg.DagsterInstance.ephemeral())
    assert result.success

    # Two statements: the one bundle of every check's aggregates, the failed check's sample.
    assert not answers.unanswered, answers.unanswered
    assert len(hook.sent) == 2
    bundle, sample = (s.sql for s in hook.sent)
    assert " AS repeated" in sample
    for sent in hook.sent:
        assert sent.sql.startswith(MARKER)
        (statement,) = sqlglot.parse(sent.sql, read="athena")
        assert isinstance(statement, exp.Select)
        assert not list(statement.find_all(exp.DML, exp.DDL))
        tables_read = {(t.db, t.name) for t in statement.find_all(exp.Table)}
        assert (ODD_DATABASE, ODD_TABLE) in tables_read
        assert tables_read <= {(ODD_DATABASE, ODD_TABLE), (ODD_DATABASE, OTHER_TABLE)}
        assert '"odd db.x-ü"."we""ird tab.le-é"' in sent.sql
        assert f"Credential={ACCESS_KEY}/" in sent.authorization
    assert '"other ""t"".x"' in bundle and "regexp_like(" in bundle
    assert "'it''s'" in bundle and '"stätus"' in bundle and '"order ts"' in bundle
    assert CANARY not in " ".join(s.sql + s.authorization for s in hook.sent)

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {c["name"] for c in TEST_CASES}
    failed = {name for name, e in evaluations.items() if not e.passed}
    assert failed == {"rows_eq", "cols_eq", "unique", "max", "missing"}
    meta = {name: e.metadata for name, e in evaluations.items()}
    assert all("error" not in m for m in meta.values()), {
        n: m.get("error") for n, m in meta.items()
    }

    def observed(name: str) -> Any:
        return meta[name]["observed_value"].value

    expected_observed = {
        "rows": ROWS, "rows_eq": ROWS, "cols": 5, "cols_eq": 5, "sql_count": 2, "sql_rows": 0,
        "inserted": 4, "diff": 0, "max": 99.5, "min": -3.0, "mean": 25.5, "median": 20.0,
        "stddev": 3.25, "sum": 255.0, "missing": 3,
    }  # fmt: skip
    assert {name: observed(name) for name in expected_observed} == expected_observed
    for name, nulls in (("not_null", 0), ("between", 0), ("regex", 0), ("lengths", 0)):
        assert meta[name]["element_count"].value == ROWS
        assert meta[name]["unexpected_count"].value == nulls
    # The failed row-level check: the bundle's lower bound (2 surplus values) replaced by its
    # sample statement's exact count (4 rows hold a repeated value), the sample its values.
    unique = meta["unique"]
    assert unique["unexpected_count"].value == 4
    assert unique["unexpected_percent"].value == pytest.approx(40.0)
    assert unique["unexpected_sample"].value == [7, 9]
    assert "unexpected_sample" not in meta["max"]
    statement_ids = set(unique["statement_ids"].value)
    assert len(statement_ids) == 2
    assert all(
        set(m["statement_ids"].value) < statement_ids for n, m in meta.items() if n != "unique"
    )

    rows = stored_results(url, ODD_FQN)
    assert {n for n, r in rows.items() if not r.passed} == failed
    assert rows["unique"].sample == [7, 9] and rows["unique"].unexpected_count == 4
    assert rows["max"].observed_value == 99.5
