"""The profiler on the aws engine against moto's server over HTTP: what it sends Athena per
table (one marked SELECT, valid Athena SQL, quoted names, samples and partition predicates),
how moto's configured query results become metrics, and a timeout sent as
StopQueryExecution."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import sqlglot
from sqlglot import exp

from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog.engines.records import Table
from athena_catalog.markers import MARKER
from athena_catalog.profiler.options import parse_options
from athena_catalog.profiler.run import plan_profile, profile_table
from athena_catalog_tests.aws_fakes import answer_queries, athena_result, glue_tables
from athena_catalog_tests.conftest import FAKE_REGION

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DATABASE = "odd-names"
TABLE = "order lines"
COLUMNS = [
    {"Name": "order", "Type": "bigint"},
    {"Name": "amount", "Type": "decimal(10,2)"},
    {"Name": "from", "Type": "string"},
    {"Name": "shipping", "Type": "struct<method:string,cost:double>"},
    {"Name": "tags", "Type": "array<string>"},
]


class Sent:
    """Every Athena request the engine's session sends, by operation."""

    def __init__(self) -> None:
        self.params: dict[str, list[dict[str, Any]]] = {}
        self.hold = False
        self.hold_from: int | None = None  # hold every query from the n-th started on
        self.stopped: set[str] = set()

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.params.setdefault(model.name, []).append(dict(params))
        if model.name == "StartQueryExecution" and self.hold_from is not None:
            self.hold = len(self.params[model.name]) >= self.hold_from
        if model.name == "StopQueryExecution":
            self.stopped.add(params["QueryExecutionId"])

    def running(self, parsed: dict[str, Any], **_: Any) -> None:
        """moto finishes at once; held, a query runs until StopQueryExecution."""
        execution = parsed.get("QueryExecution") or {}
        if self.hold and execution.get("QueryExecutionId") not in self.stopped:
            execution.get("Status", {})["State"] = "RUNNING"

    def queries(self) -> list[str]:
        return [p["QueryString"] for p in self.params.get("StartQueryExecution", [])]


@pytest.fixture
def setup(moto_endpoint: str) -> Iterator[tuple[AwsEngine, Table, Sent, str]]:
    session = boto3.Session(region_name=FAKE_REGION)
    glue_tables(
        session,
        moto_endpoint,
        DATABASE,
        {
            "Name": TABLE,
            "StorageDescriptor": {"Columns": COLUMNS, "Location": "s3://lake/order-lines/"},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
        },
    )
    session.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="query-results")
    sent = Sent()
    session.events.register("before-parameter-build.athena", sent.record)
    session.events.register("after-call.athena.GetQueryExecution", sent.running)
    settings = AwsSettings(
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        s3_staging_dir="s3://query-results/athena/",
        work_group="primary",
        retry_max_seconds=5,
    )
    engine = AwsEngine(session, settings)
    (table,) = [t for t in engine.list_tables("AwsDataCatalog", DATABASE) if t.name == TABLE]
    yield engine, table, sent, moto_endpoint
    engine.close()


def _projections(sql: str) -> list[exp.Expression]:
    parsed = sqlglot.parse_one(sql, read="athena")
    assert isinstance(parsed, exp.Select)
    return [p.this if isinstance(p, exp.Alias) else p for p in parsed.expressions]


def _canned(endpoint: str, sql: str) -> dict[str, Any]:
    """moto's answer to the next query: select item i holds i + 10 (an array of quartiles
    for approx_percentile); the answers by item SQL, to check the mapping with."""
    values: dict[str, Any] = {}
    row: list[str] = []
    info: list[tuple[str, str]] = []
    for i, item in enumerate(_projections(sql)):
        name = f"m{i}"
        if isinstance(item, exp.ApproxQuantile):
            quartiles = [i + 1.5, i + 2.5, i + 3.5]
            row.append(str(quartiles))
            info.append((name, "array"))
            values[item.sql("athena")] = quartiles
        else:
            row.append(str(i + 10))
            info.append((name, "bigint"))
            values[item.sql("athena")] = i + 10
    answer_queries(endpoint, [athena_result(info, tuple(row))])
    return values


def test_one_marked_select_per_table_and_results_mapped(setup) -> None:
    engine, table, sent, endpoint = setup
    options = parse_options({})
    (statement,) = plan_profile(table, options, now=NOW).statements
    answers = _canned(endpoint, statement.sql)
    profile = profile_table(engine, table, options, now=NOW)
    assert profile.error is None
    (query,) = sent.queries()
    assert query.startswith(MARKER) and query.removeprefix(MARKER).strip() == statement.sql
    parsed = sqlglot.parse_one(query, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(parsed, exp.Select) and parsed.find(exp.Into) is None
    assert parsed.sql("athena") == sqlglot.transpile(query, read="athena", write="athena")[0]
    assert 'FROM "awsdatacatalog"."odd-names"."order lines" AS "t"' in query
    (source,) = list(parsed.find_all(exp.Table))
    assert (source.catalog, source.db, source.name) == ("awsdatacatalog", DATABASE, TABLE)
    started = sent.params["StartQueryExecution"][0]
    assert started["QueryExecutionContext"] == {"Database": DATABASE, "Catalog": "AwsDataCatalog"}

    def answer(sql: str) -> Any:
        return answers[sqlglot.parse_one(sql, read="athena").sql("athena")]

    assert profile.row_count == answer("count(*)")
    order = profile.column("order")
    assert order.values_count == answer('count("t"."order")')
    assert order.null_count == answer("count(*)") - answer('count("t"."order")')
    assert order.distinct_count == answer('approx_distinct("t"."order")')
    assert order.max == answer('max("t"."order")')
    q1, median, q3 = answer(
        'approx_percentile(CAST("t"."order" AS double), ARRAY[0.25, 0.5, 0.75])'
    )
    assert (order.first_quartile, order.median, order.third_quartile) == (q1, median, q3)
    assert order.inter_quartile_range == q3 - q1
    method = profile.column("shipping.method")
    assert method.max_length == answer('max(length("t"."shipping"."method"))')
    tags = profile.column("tags")
    assert tags.max_length == answer('max(cardinality("t"."tags"))')
    assert [c.column_name for c in profile.columns] == [
        "order",
        "amount",
        "from",
        "shipping.method",
        "shipping.cost",
        "tags",
        "dt",
    ]
    (query_id,) = profile.query_ids
    assert query_id in {p["QueryExecutionId"] for p in sent.params["GetQueryExecution"]}


def test_samples_and_partition_predicates_in_the_sql_sent(setup) -> None:
    engine, table, sent, endpoint = setup
    partition = {
        "enable_partitioning": True,
        "partition_column_name": "dt",
        "partition_interval_type": "TIME-UNIT",
        "partition_interval": 7,
        "partition_interval_unit": "DAY",
    }
    cases = [
        (
            {"profile_sample": 5, "sampling_method_type": "SYSTEM", "partition_config": partition},
            'TABLESAMPLE SYSTEM (5) WHERE "t"."dt" >= \'2026-05-25\'',
        ),
        (
            {"profile_sample": 1000, "profile_sample_type": "ROWS", "partition_config": partition},
            '(SELECT * FROM "awsdatacatalog"."odd-names"."order lines" AS "t"'
            ' WHERE "t"."dt" >= \'2026-05-25\' LIMIT 1000) AS "t"',
        ),
    ]
    for config, fragment in cases:
        options = parse_options({"table_config": [{"fully_qualified_name": table.fqn, **config}]})
        (statement,) = plan_profile(table, options, now=NOW).statements
        _canned(endpoint, statement.sql)
        profile = profile_table(engine, table, options, now=NOW)
        assert profile.error is None
        query = sent.queries()[-1]
        assert fragment in query
        assert profile.partition_predicate == "\"dt\" >= '2026-05-25'"
        sqlglot.parse_one(query, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(sent.queries()) == len(cases)
    plan = plan_profile(table, options, now=NOW)
    assert plan.source.partition is not None
    assert plan.source.partition.glue_expression() == "dt >= '2026-05-25'"
    assert plan.source.partition.keeps("2026-05-25")
    assert not plan.source.partition.keeps("2026-05-24")


def test_timeout_sends_stop_query_execution(setup) -> None:
    engine, table, sent, _ = setup
    sent.hold = True
    profile = profile_table(engine, table, parse_options({"timeout_seconds": 1}), now=NOW)
    assert profile.error and profile.error.startswith("TIMEOUT")
    (query_id,) = profile.query_ids
    assert [p["QueryExecutionId"] for p in sent.params["StopQueryExecution"]] == [query_id]
    assert profile.columns == ()


def test_a_stopped_opt_in_statement_keeps_the_default_metrics_read(setup) -> None:
    """The default scan was billed: its metrics stay when the opt-in statement times out."""
    engine, table, sent, endpoint = setup
    options = parse_options({"compute_unique_count": True, "timeout_seconds": 3})
    (statement,) = plan_profile(table, options, now=NOW).statements
    answers = _canned(endpoint, statement.sql)
    sent.hold_from = 2
    profile = profile_table(engine, table, options, now=NOW)
    assert profile.error and profile.error.startswith("TIMEOUT")
    _, opt_in_id = profile.query_ids
    assert [p["QueryExecutionId"] for p in sent.params["StopQueryExecution"]] == [opt_in_id]
    opt_in = sent.queries()[1]  # Parquet: a grouped subquery per column, valid Athena SQL
    assert opt_in.startswith(MARKER) and " CROSS JOIN " in opt_in
    parsed = sqlglot.parse_one(opt_in, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(parsed, exp.Select)
    assert len(list(parsed.find_all(exp.Table))) == 6  # the scalar leaves; not the array
    assert profile.row_count == answers["COUNT(*)"]
    assert len(profile.columns) == 7
    order = profile.column("order")
    assert order.values_count == answers['COUNT("t"."order")']
    assert order.distinct_count is not None and order.unique_count is None


def test_a_stopped_later_part_of_a_split_scan_keeps_the_parts_read(setup) -> None:
    engine, table, sent, endpoint = setup
    options = parse_options({"timeout_seconds": 3})
    plan = plan_profile(table, options, now=NOW, max_query_bytes=700)
    first, *rest = plan.statements
    assert rest  # split by whole columns
    _canned(endpoint, first.sql)
    sent.hold_from = 2
    profile = profile_table(engine, table, options, now=NOW, plan=plan)
    assert profile.error and profile.error.startswith("TIMEOUT")
    assert len(profile.statements) == 2
    read = {index for index, _ in first.readers if index is not None}
    assert [c.column_name for c in profile.columns] == [plan.leaves[i].name for i in sorted(read)]
    assert all(c.values_count is not None for c in profile.columns)
