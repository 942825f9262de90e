"""BatchGetQueryExecution, which moto lacks, through botocore's Stubber: requests and
responses are validated against Athena's real service model, and ingestion runs for real on
an SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from sqlalchemy import select

from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog.lineage.resolve import resolve_history
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import (
    history_cursors,
    history_rejects,
    query_history,
    table_usage_daily,
    work_group_cost_daily,
)
from athena_catalog.usage import IngestOptions, ingest
from athena_catalog.usage.aggregate import UsageOptions, aggregate

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def execution(query_id: str, hours_ago: float, state: str = "SUCCEEDED") -> dict[str, Any]:
    submitted = NOW - timedelta(hours=hours_ago)
    return {
        "QueryExecutionId": query_id,
        "Query": f"SELECT * FROM sales.orders /* {query_id} */",
        "StatementType": "DML",
        "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": "sales"},
        "Status": {
            "State": state,
            "SubmissionDateTime": submitted,
            "CompletionDateTime": submitted + timedelta(seconds=3),
        },
        "Statistics": {"DataScannedInBytes": 5 * 1024**3, "EngineExecutionTimeInMillis": 2900},
        "WorkGroup": "etl",
    }


@pytest.fixture
def engine() -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    engine = AwsEngine(session, AwsSettings(region_name="us-east-1"))
    yield engine
    engine.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    store = CatalogStore(url)
    yield store
    store.close()


def list_page(ids: list[str], token: str | None, next_token: str | None) -> tuple[dict, dict]:
    expected = {"WorkGroup": "etl", "MaxResults": 50} | ({"NextToken": token} if token else {})
    answer = {"QueryExecutionIds": ids} | ({"NextToken": next_token} if next_token else {})
    return answer, expected


def test_batch_get_pages_by_date_and_never_refetches(engine: Any, store: Any):
    options = IngestOptions(query_log_days=7, now=NOW)
    work_groups = {
        "WorkGroups": [{"Name": "etl", "State": "ENABLED"}, {"Name": "old", "State": "DISABLED"}]
    }
    with Stubber(engine.athena) as stub:
        stub.add_response("list_work_groups", work_groups, {})
        stub.add_response("list_query_executions", *list_page(["q5", "q4", "q3"], None, "t1"))
        stub.add_response(
            "batch_get_query_execution",
            {
                "QueryExecutions": [execution("q5", 1), execution("q4", 30)],
                "UnprocessedQueryExecutionIds": [
                    {"QueryExecutionId": "q3", "ErrorCode": "500", "ErrorMessage": "try again"}
                ],
            },
            {"QueryExecutionIds": ["q5", "q4", "q3"]},
        )
        stub.add_response(
            "get_query_execution",
            {"QueryExecution": execution("q3", 50)},
            {"QueryExecutionId": "q3"},
        )
        # Page two crosses the 7-day window: paging stops although it has a NextToken.
        stub.add_response("list_query_executions", *list_page(["q2", "q1"], "t1", "t2"))
        stub.add_response(
            "batch_get_query_execution",
            {"QueryExecutions": [execution("q2", 100), execution("q1", 24 * 8)]},
            {"QueryExecutionIds": ["q2", "q1"]},
        )
        stats = ingest(engine, store, options)
        stub.assert_no_pending_responses()
    assert (stats.stored, stats.outside_window, stats.work_groups) == (4, 1, ["etl"])
    with store.read() as conn:
        rows = {r.query_id: r for r in conn.execute(select(query_history))}
        (cursor,) = conn.execute(select(history_cursors.c.submitted_at)).scalars()
    assert set(rows) == {"q5", "q4", "q3", "q2"}
    q5 = rows["q5"]
    assert (q5.catalog, q5.database, q5.engine_ms) == ("AwsDataCatalog", "sales", 2900)
    assert q5.data_scanned_bytes == 5 * 1024**3 and q5.billed_bytes == 5 * 1024**3
    assert cursor.replace(tzinfo=UTC) == NOW - timedelta(hours=1)

    # Next run: one new id; the known ones on its page are not fetched, paging stops there.
    with Stubber(engine.athena) as stub:
        stub.add_response("list_work_groups", work_groups, {})
        stub.add_response("list_query_executions", *list_page(["q6", "q5", "q4"], None, "x"))
        stub.add_response(
            "batch_get_query_execution",
            {"QueryExecutions": [execution("q6", 0.5, state="FAILED")]},
            {"QueryExecutionIds": ["q6"]},
        )
        stats = ingest(engine, store, options)
        stub.assert_no_pending_responses()
    assert stats.stored == 1

    # Usage over these five: four successful reads on four days, the failed one free.
    resolve_history(store)
    aggregate(store, UsageOptions(window_days=7, now=NOW))
    with store.read() as conn:
        days = conn.execute(select(table_usage_daily)).mappings().all()
        (etl,) = conn.execute(
            select(work_group_cost_daily.c.queries).where(work_group_cost_daily.c.day == NOW.date())
        ).scalars()
    assert {d["table_fqn"] for d in days} == {"awsdatacatalog.sales.orders"}
    assert sorted(d["read_count"] for d in days) == [1, 1, 1, 1]
    assert sum(d["bytes_scanned"] for d in days) == 4 * 5 * 1024**3
    assert sum(d["cost_usd"] for d in days) == pytest.approx(4 * 5 * 1024**3 * 5 / 10**12)
    assert etl == 2  # q5 and the failed q6


def test_unreadable_records_are_rejected_with_a_reason(engine: Any, store: Any):
    no_time = execution("q2", 2)
    del no_time["Status"]["SubmissionDateTime"]
    with Stubber(engine.athena) as stub:
        stub.add_response("list_work_groups", {"WorkGroups": [{"Name": "etl"}]}, {})
        stub.add_response("list_query_executions", *list_page(["q1", "q2", "q3"], None, None))
        stub.add_response(
            "batch_get_query_execution",
            {"QueryExecutions": [execution("q1", 1), no_time, execution("q3", 3, "WEIRD")]},
            {"QueryExecutionIds": ["q1", "q2", "q3"]},
        )
        stats = ingest(engine, store, IngestOptions(now=NOW), run_id="r1")
    assert stats.stored == 1
    assert dict(stats.rejected) == {"missing_submitted_at": 1, "unknown_state": 1}
    with store.read() as conn:
        rejects = conn.execute(
            select(history_rejects.c.query_id, history_rejects.c.reason, history_rejects.c.run_id)
        ).all()
    assert sorted(rejects) == [("q2", "missing_submitted_at", "r1"), ("q3", "unknown_state", "r1")]
