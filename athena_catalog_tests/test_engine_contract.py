"""One set of assertions, both engines: the local engine on a small lakehouse, and the aws
engine on moto's server over HTTP. What ``athena_catalog.engines.contract`` promises holds
for each, so no caller needs to know which one it holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlalchemy

from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog.engines.contract import Engine, run_select
from athena_catalog.engines.listing import ListedTags
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import DEFAULT_CATALOG, EngineError, QueryExecution
from athena_catalog.markers import MARKER
from athena_catalog.timeutil import utc_now
from athena_catalog_tests.aws_fakes import answer_select_one

STAGING = "s3://query-results/athena/"


@dataclass
class Case:
    """An engine with database ``sales`` and table ``orders`` (id bigint, dt partition key,
    3 rows), a SELECT that runs long, and a way to keep the engine's queries running."""

    engine: Engine
    slow_select: str
    hold_running: Callable[[], None]


def _local(tmp_path: Path) -> Iterator[Case]:
    engine = LocalEngine(tmp_path, read_only=False)
    for sql in (
        "CREATE DATABASE sales",
        "CREATE EXTERNAL TABLE sales.orders (id bigint) PARTITIONED BY (dt string)"
        " STORED AS PARQUET LOCATION 's3://lake/orders/'",
        "INSERT INTO sales.orders VALUES (1, 'a'), (2, 'a'), (3, 'b')",
        "CREATE EXTERNAL TABLE sales.numbers (n bigint) STORED AS PARQUET"
        " LOCATION 's3://lake/numbers/'",
        "INSERT INTO sales.numbers SELECT i FROM UNNEST(sequence(1, 3000)) AS t(i)",
    ):
        engine.execute(sql)
    yield Case(
        engine,
        "SELECT sum(a.n * b.n + c.n) FROM sales.numbers a, sales.numbers b, sales.numbers c",
        lambda: None,
    )
    engine.close()


def _aws(endpoint: str) -> Iterator[Case]:
    session = boto3.Session(region_name="us-east-1")
    glue = session.client("glue", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(
        DatabaseName="sales",
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}]},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "Parameters": {"numRows": "3", "totalSize": "1024", "classification": "parquet"},
        },
    )
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket="query-results")
    answer_select_one(endpoint, 20)
    settings = AwsSettings(
        region_name="us-east-1",
        endpoint_url=endpoint,
        s3_staging_dir=STAGING,
        work_group="primary",  # moto lists an execution under no work group without it
        retry_max_seconds=5,
    )
    stopped: set[str] = set()
    holding: list[bool] = []

    def stop(params: dict[str, Any], **_: Any) -> None:
        stopped.add(params["QueryExecutionId"])

    def running(parsed: dict[str, Any], **_: Any) -> None:
        """moto finishes every query at once; Athena's run until done or stopped. Held,
        every GetQueryExecution answers RUNNING until StopQueryExecution."""
        execution = parsed.get("QueryExecution") or {}
        if holding and execution.get("QueryExecutionId") not in stopped:
            execution.get("Status", {})["State"] = "RUNNING"

    # registered before any client exists: clients copy the session's hooks when made
    session.events.register("provide-client-params.athena.StopQueryExecution", stop)
    session.events.register("after-call.athena.GetQueryExecution", running)
    engine = AwsEngine(session, settings)
    yield Case(engine, "SELECT count(*) FROM sales.orders", lambda: holding.append(True))
    engine.close()


@pytest.fixture(params=["local", "aws"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "local":
        yield from _local(tmp_path)
    else:
        yield from _aws(request.getfixturevalue("moto_endpoint"))


def _executions(engine: Engine, since: datetime) -> list[QueryExecution]:
    found = [
        e
        for log in engine.list_work_groups().names
        for e in engine.query_executions(log, since, lambda ids: {})
    ]
    return [e for e in found if isinstance(e, QueryExecution)]


def test_listings(case: Case) -> None:
    engine = case.engine
    assert DEFAULT_CATALOG in [c.name for c in engine.list_data_catalogs()]
    assert "sales" in [d.name for d in engine.list_databases(DEFAULT_CATALOG)]
    (orders,) = [t for t in engine.list_tables(DEFAULT_CATALOG, "sales") if t.name == "orders"]
    assert [(c.name, c.is_partition_key) for c in orders.columns] == [("id", False), ("dt", True)]
    assert orders.storage_format == "parquet"
    tags = engine.list_table_tags(DEFAULT_CATALOG)
    assert isinstance(tags, ListedTags) and ("sales", "orders") not in tags


def test_select_is_marked_read_in_history_and_moves_the_mark(case: Case) -> None:
    engine = case.engine
    before = utc_now() - timedelta(minutes=1)
    logs = engine.list_work_groups().names
    assert logs
    marks = {log: engine.history_mark(log) for log in logs}
    result = run_select(engine, "SELECT 1", timeout_s=30)
    assert [tuple(int(v) for v in row) for row in result.rows] == [(1,)]
    assert result.query_id
    (ran,) = [e for e in _executions(engine, before) if e.query_id == result.query_id]
    assert ran.query.startswith(MARKER) and ran.state == "SUCCEEDED"
    assert {log: engine.history_mark(log) for log in logs} != marks
    # the cursor rules: stored ids are skipped; a first read starts at the floor
    log = next(log for log in logs if list(engine.query_executions(log, before, lambda ids: {})))
    skipped = engine.query_executions(log, before, lambda ids: {i: before for i in ids})
    assert result.query_id not in [e.query_id for e in skipped]
    assert engine.history_start(None, before) == before
    assert engine.history_start(before + timedelta(hours=1), before) <= before + timedelta(hours=1)


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE sales.orders",
        "INSERT INTO sales.orders VALUES (4, 'c')",
        "SELECT 1; DROP TABLE sales.orders",
        "CREATE TABLE sales.copy AS SELECT * FROM sales.orders",
    ],
)
def test_anything_but_one_select_is_refused_before_it_runs(case: Case, sql: str) -> None:
    engine = case.engine
    marks = {log: engine.history_mark(log) for log in engine.list_work_groups().names}
    with pytest.raises(EngineError) as refused:
        engine.start_select(sql)
    assert refused.value.code == "NOT_A_SELECT"
    assert {log: engine.history_mark(log) for log in marks} == marks  # nothing ran
    assert "orders" in [t.name for t in engine.list_tables(DEFAULT_CATALOG, "sales")]


def test_cancel_stops_a_running_select(case: Case) -> None:
    case.hold_running()
    engine = case.engine
    query_id = engine.start_select(case.slow_select)
    engine.cancel(query_id)
    with pytest.raises(EngineError) as cancelled:
        engine.select_result(query_id, timeout_s=30)
    assert cancelled.value.code == "CANCELLED"
    since = utc_now() - timedelta(minutes=5)
    (ran,) = [e for e in _executions(engine, since) if e.query_id == query_id]
    assert ran.state == "CANCELLED"


def test_a_select_past_its_timeout_is_cancelled(case: Case) -> None:
    case.hold_running()
    engine = case.engine
    query_id = engine.start_select(case.slow_select)
    with pytest.raises(EngineError) as cancelled:
        engine.select_result(query_id, timeout_s=0.5)
    assert cancelled.value.code == "CANCELLED"


def test_table_estimates(case: Case) -> None:
    estimates = case.engine.table_estimates(DEFAULT_CATALOG, "sales", "orders")
    assert estimates.row_count == 3
    assert estimates.size_bytes is not None and estimates.size_bytes > 0
    assert estimates.source


def test_sqlalchemy_engine_speaks_athena_sql_read_only(case: Case) -> None:
    sa_engine = case.engine.sqlalchemy_engine()
    assert sa_engine.dialect.name == "awsathena"
    with sa_engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT 1")).all()
        assert [tuple(int(v) for v in row) for row in rows] == [(1,)]
        with pytest.raises(EngineError, match="not a SELECT"):
            conn.execute(sqlalchemy.text("DROP TABLE sales.orders"))
    assert "orders" in [t.name for t in case.engine.list_tables(DEFAULT_CATALOG, "sales")]
