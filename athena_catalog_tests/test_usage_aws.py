"""query_history end to end on the aws engine: Dagster runs against moto's server over HTTP.

moto has no BatchGetQueryExecution (it answers HTTP 500), so these runs also prove the
explicit GetQueryExecution fallback; BatchGet itself is covered with botocore's Stubber in
test_usage_stubbed.py.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
import requests
from botocore.awsrequest import AWSResponse
from sqlalchemy import select

from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import history_cursors
from athena_catalog.store.history import query_history as history_table
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import SESSION_HOOKS, HookedAthenaResource


@pytest.fixture
def athena(moto_endpoint: str) -> Any:
    client = boto3.client("athena", region_name=FAKE_REGION, endpoint_url=moto_endpoint)
    for name in ("etl", "bi"):
        client.create_work_group(Name=name, Configuration={})
    return client


def start(client: Any, sql: str, work_group: str, database: str = "sales") -> str:
    return client.start_query_execution(
        QueryString=sql,
        WorkGroup=work_group,
        QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": database},
    )["QueryExecutionId"]


def run(endpoint: str, store_url: str, **resource: Any) -> dg.ExecuteInProcessResult:
    athena = HookedAthenaResource(
        engine="aws", region_name=FAKE_REGION, endpoint_url=endpoint, max_attempts=1, **resource
    )
    return dg.materialize(
        [query_history],
        resources={"athena": athena, "catalog_store": CatalogStoreResource(url=store_url)},
        raise_on_error=False,
    )


def count_calls(counter: Counter) -> None:
    def handler(model: Any, params: dict, **_: Any) -> None:
        counter[model.name] += 1
        if model.name == "GetQueryExecution":  # params: the request, its body JSON
            counter[f"get:{json.loads(params['body'])['QueryExecutionId']}"] += 1

    SESSION_HOOKS.append(("before-call.athena.*", handler))


def stored(url: str) -> dict[str, dict[str, Any]]:
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            rows = conn.execute(select(history_table)).mappings().all()
    finally:
        store.close()
    return {r["query_id"]: dict(r) for r in rows}


def md(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node("query_history")
    return {k: v.value for k, v in event.metadata.items()}


def test_two_work_groups_then_only_new_queries(athena: Any, moto_endpoint: str, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    first = {start(athena, f"SELECT * FROM orders WHERE id = {n}", "etl") for n in range(3)}
    first |= {start(athena, "SELECT count(*) FROM customers", "bi", database="crm")}
    calls: Counter = Counter()
    count_calls(calls)
    result = run(moto_endpoint, url)
    assert result.success
    rows = stored(url)
    assert set(rows) == first
    crm = next(r for r in rows.values() if r["work_group"] == "bi")
    assert crm["query"] == "SELECT count(*) FROM customers"
    assert (crm["catalog"], crm["database"], crm["state"]) == ("AwsDataCatalog", "crm", "SUCCEEDED")
    assert crm["statement_type"] == "DML" and crm["source"] == "user"
    assert calls["ListWorkGroups"] == 1
    assert calls["ListQueryExecutions"] == 3  # primary, etl, bi
    # moto lacks BatchGet: one probe per engine, then one GetQueryExecution per query, said so.
    assert calls["BatchGetQueryExecution"] == 1
    assert calls["GetQueryExecution"] == 4
    meta = md(result)
    assert meta["new_queries"] == 4 and meta["batch_get_fallback_calls"] == 4
    assert any("BatchGetQueryExecution is not implemented" in n for n in meta["notes"])

    second = {start(athena, "SELECT 2", "etl"), start(athena, "SELECT 3", "bi")}
    calls.clear()
    result = run(moto_endpoint, url)
    assert result.success
    assert set(stored(url)) == first | second
    fetched = {k.removeprefix("get:") for k in calls if k.startswith("get:")}
    assert fetched == second  # nothing fetched twice
    assert md(result)["new_queries"] == 2

    calls.clear()
    result = run(moto_endpoint, url)
    assert result.success and md(result)["new_queries"] == 0
    assert calls["GetQueryExecution"] == 0 and calls["ListQueryExecutions"] == 3


def test_denied_list_work_groups_falls_back_to_the_configured_one(
    athena: Any, moto_endpoint: str, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    etl = start(athena, "SELECT 1", "etl")
    start(athena, "SELECT 1", "bi")

    def deny(**_: Any):
        error = {"Error": {"Code": "AccessDeniedException", "Message": "no ListWorkGroups"}}
        return AWSResponse("http://fault", 400, {}, None), error

    SESSION_HOOKS.append(("before-call.athena.ListWorkGroups", deny))
    result = run(moto_endpoint, url, work_group="etl")
    assert result.success
    assert set(stored(url)) == {etl}
    meta = md(result)
    assert meta["work_groups"] == ["etl"]
    assert any("reading work group etl only" in n for n in meta["notes"])


def test_throttling_on_30_percent_of_calls_gives_the_same_history(
    athena: Any, moto_endpoint: str, tmp_path: Path
):
    for n in range(12):
        start(athena, f"SELECT {n}", ("etl", "bi", "primary")[n % 3])
    clean, faulty = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert run(moto_endpoint, clean).success
    rng = random.Random(3)
    injected: Counter = Counter()

    def throttle(model: Any, **_: Any):
        if rng.random() < 0.3:
            injected[model.name] += 1
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            return AWSResponse("http://fault", 400, {}, None), error
        return None

    SESSION_HOOKS.append(("before-call.athena.*", throttle))
    result = run(moto_endpoint, faulty)
    assert result.success
    assert sum(injected.values()) >= 3
    assert stored(faulty) == stored(clean)


def test_list_query_executions_is_paced(athena: Any, moto_endpoint: str, tmp_path: Path):
    for name in ("a", "b", "c", "d"):
        athena.create_work_group(Name=name, Configuration={})
    times: list[float] = []
    SESSION_HOOKS.append(
        ("before-send.athena.ListQueryExecutions", lambda **_: times.append(time.monotonic()))
    )
    assert run(moto_endpoint, f"sqlite:///{tmp_path / 'c.db'}").success
    assert len(times) == 7
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.2  # at most 4 per second, under Athena's ~5/s


def test_running_query_holds_the_cursor_until_it_finishes(
    athena: Any, moto_endpoint: str, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    done = start(athena, "SELECT 1", "etl")
    assert run(moto_endpoint, url).success  # stored; the cursor moves to it
    # From now on each GetQueryExecution moves a query one state: QUEUED, RUNNING, SUCCEEDED.
    transition = {"model_name": "athena::execution"}
    requests.post(
        f"{moto_endpoint}/moto-api/state-manager/set-transition",
        json=transition | {"transition": {"progression": "manual", "times": 1}},
        timeout=10,
    ).raise_for_status()
    try:
        slow = start(athena, "SELECT 2", "etl")
        result = run(moto_endpoint, url)  # sees it RUNNING: not stored, cursor held
        assert result.success and md(result)["pending"] == 1
        assert set(stored(url)) == {done}
        result = run(moto_endpoint, url)  # now SUCCEEDED
        assert result.success and md(result)["new_queries"] == 1
    finally:
        requests.post(
            f"{moto_endpoint}/moto-api/state-manager/unset-transition", json=transition, timeout=10
        )
    rows = stored(url)
    assert set(rows) == {done, slow}
    store = CatalogStore(url)
    with store.read() as conn:
        cursors = dict(
            conn.execute(select(history_cursors.c.work_group, history_cursors.c.submitted_at))
            .tuples()
            .all()
        )
    store.close()
    assert cursors["etl"].replace(tzinfo=None) == rows[slow]["submitted_at"].replace(tzinfo=None)


def test_bad_records_are_counted_and_the_run_succeeds(
    athena: Any, moto_endpoint: str, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ids = [start(athena, f"SELECT {n}", "etl") for n in range(6)]
    huge = "SELECT '" + "x" * (262_144 - 9) + "'"  # exactly Athena's limit
    damage = {
        ids[0]: lambda q: q["Status"].pop("SubmissionDateTime"),
        ids[1]: lambda q: q["Status"].update(State="EXPLODED"),
        ids[2]: lambda q: q.update(Query=huge),
        ids[3]: lambda q: q.update(Query="SELECT '\udcff\x00' AS broken"),
        ids[4]: lambda q: q.update(StatementType="SOMETHING_NEW"),
    }

    def corrupt(parsed: dict, **_: Any) -> None:
        execution = parsed.get("QueryExecution") or {}
        damage.get(execution.get("QueryExecutionId"), lambda q: None)(execution)

    SESSION_HOOKS.append(("after-call.athena.GetQueryExecution", corrupt))
    result = run(moto_endpoint, url)
    assert result.success
    rows = stored(url)
    assert set(rows) == {ids[2], ids[3], ids[4], ids[5]}
    assert rows[ids[2]]["query"] == huge and rows[ids[2]]["query_truncated"] is True
    assert rows[ids[3]]["query"] == "SELECT '\ufffd\ufffd' AS broken"
    assert rows[ids[4]]["statement_type"] is None
    meta = md(result)
    assert meta["rejected_by_reason"] == {"missing_submitted_at": 1, "unknown_state": 1}
    assert meta["repaired_by_reason"] == {
        "query_at_size_limit": 1,
        "invalid_utf8": 1,
        "nul_character": 1,
        "unknown_statement_type": 1,
    }


def test_throttled_past_the_retry_budget_never_fails_the_run(
    athena: Any, moto_endpoint: str, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    first = {start(athena, "SELECT 1", "etl"), start(athena, "SELECT 1", "bi")}
    assert run(moto_endpoint, url).success
    etl, bi = start(athena, "SELECT 2", "etl"), start(athena, "SELECT 2", "bi")

    def throttle(model: Any, params: dict, **_: Any):
        body = json.loads(params["body"] or "{}")
        if model.name == "ListWorkGroups" or body.get("WorkGroup") == "bi":
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            return AWSResponse("http://fault", 400, {}, None), error
        return None

    SESSION_HOOKS.append(("before-call.athena.*", throttle))
    result = run(moto_endpoint, url, retry_max_seconds=1)
    assert result.success
    assert set(stored(url)) == first | {etl}  # bi's cursor is held, nothing lost
    meta = md(result)
    assert meta["work_groups"] == ["bi", "etl", "primary"]  # read before, and the default
    assert any("reading the work groups read before" in n for n in meta["notes"])
    assert [e.split(":")[0] for e in meta["errors"]] == ["bi"]
    SESSION_HOOKS.clear()
    assert run(moto_endpoint, url).success
    assert set(stored(url)) == first | {etl, bi}
