"""The metadata assets end to end on the aws engine: Dagster runs against moto's server over
real HTTP, with the catalog store on disk."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
from botocore.awsrequest import AWSResponse

from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.store import CatalogStore
from athena_catalog_tests.conftest import FAKE_REGION, free_port
from athena_catalog_tests.e2e_helpers import (
    SESSION_HOOKS,
    HookedAthenaResource,
    dump_store,
    failure_text,
    schema_change_rows,
)
from athena_catalog_tests.glue_seed import seed_glue


@pytest.fixture
def glue(moto_endpoint: str) -> Any:
    return boto3.client("glue", region_name=FAKE_REGION, endpoint_url=moto_endpoint)


def run(endpoint: str, store_url: str, config: dict | None = None, **resource: Any):
    athena = HookedAthenaResource(
        engine="aws", region_name=FAKE_REGION, endpoint_url=endpoint, **resource
    )
    return dg.materialize(
        [metadata],
        resources={"athena": athena, "catalog_store": CatalogStoreResource(url=store_url)},
        run_config={"ops": {"metadata": {"config": config or {}}}},
        raise_on_error=False,
    )


def materialized_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    events = result.asset_materializations_for_node("metadata")
    return {m.asset_key.to_user_string(): m.metadata for m in events}


def count_calls(counter: Counter) -> None:
    def handler(model: Any, **_: Any) -> None:
        counter[f"{model.service_model.service_name}:{model.name}"] += 1

    SESSION_HOOKS.append(("before-call.*.*", handler))


def test_crawl_stores_every_field_of_300_tables(glue: Any, moto_endpoint: str, tmp_path: Path):
    seeded = seed_glue(glue, databases=5, tables_per_database=60)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    calls: Counter = Counter()
    count_calls(calls)
    result = run(moto_endpoint, url)
    assert result.success
    stored = dump_store(url)
    assert len(seeded.all_tables) == 300
    assert set(stored) == {t.fqn for t in seeded.all_tables}
    for t in seeded.all_tables:
        row = stored[t.fqn]
        assert row["catalog"] == "AwsDataCatalog" and row["database"] == t.database
        assert row["name"] == t.name and row["table_type"] == t.table_type
        assert row["description"] == t.description and row["location"] == t.location
        assert row["storage_format"] == t.storage_format and row["view_sql"] == t.view_sql
        assert row["parameters"] == t.parameters and row["owner"] == t.owner
        assert row["tags"] == seeded.tags.get((t.database, t.name), {})
        assert row["deleted"] is False
        assert row["columns"] == [
            (c.name.lower(), c.data_type, c.description, c.is_partition_key) for c in t.columns
        ]
    # Bulk: one GetDatabases page, one GetTables page per database (moto answers in one page).
    assert calls["glue:GetTables"] == 5
    assert calls["glue:GetDatabases"] == 1
    assert calls["glue:GetTable"] == 0
    assert sum(calls.values()) < 15
    by_key = materialized_metadata(result)
    assert by_key["tables"]["tables"].value + by_key["tables"]["views"].value == 300
    assert by_key["tables"]["new"].value == 300
    assert by_key["schemas"]["schemas"].value == 5


def _throttle_30_percent(seed: int):
    rng = random.Random(seed)
    injected = Counter()

    def handler(model: Any, **_: Any):
        if rng.random() < 0.3:
            injected[model.name] += 1
            response = AWSResponse("http://fault", 400, {}, None)
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            return response, error
        return None

    SESSION_HOOKS.append(("before-call.*.*", handler))
    return injected


def test_throttling_on_30_percent_of_calls_gives_the_same_catalog(
    glue: Any, moto_endpoint: str, tmp_path: Path
):
    seed_glue(glue, databases=5, tables_per_database=20)
    clean, faulty = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert run(moto_endpoint, clean).success
    injected = _throttle_30_percent(seed=7)
    assert run(moto_endpoint, faulty, retry_max_seconds=60).success
    assert sum(injected.values()) >= 2
    assert dump_store(clean) == dump_store(faulty)


def test_crash_midway_leaves_the_stored_catalog_intact(
    glue: Any, moto_endpoint: str, tmp_path: Path
):
    seed_glue(glue, databases=4, tables_per_database=10)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert run(moto_endpoint, url).success
    before = dump_store(url)
    # The source changes, then the next crawl dies on its third GetTables call.
    glue.delete_table(DatabaseName="sales_000", Name="t0000_parquet")
    glue.create_table(DatabaseName="sales_001", TableInput={"Name": "brand_new"})
    seen = Counter()

    def crash(model: Any, **_: Any) -> None:
        seen[model.name] += 1
        if model.name == "GetTables" and seen[model.name] == 3:
            raise RuntimeError("worker killed mid-crawl")

    SESSION_HOOKS.append(("before-call.glue.GetTables", crash))
    result = run(moto_endpoint, url, max_workers=1)
    assert not result.success
    assert dump_store(url) == before
    SESSION_HOOKS.clear()
    assert run(moto_endpoint, url).success  # the next good crawl applies both changes
    after = dump_store(url)
    assert after["awsdatacatalog.sales_000.t0000_parquet"]["deleted"] is True
    assert "awsdatacatalog.sales_001.brand_new" in after


def test_denied_database_keeps_its_tables_and_the_rest_refreshes(
    glue: Any, moto_endpoint: str, tmp_path: Path
):
    seed_glue(glue, databases=3, tables_per_database=5)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert run(moto_endpoint, url).success
    glue.delete_table(DatabaseName="sales_000", Name="t0000_parquet")
    glue.delete_table(DatabaseName="sales_001", Name="t0000_parquet")

    def deny(params: dict, **_: Any):
        if json.loads(params["body"])["DatabaseName"] == "sales_000":  # the JSON request body
            error = {"Error": {"Code": "AccessDeniedException", "Message": "no glue:GetTables"}}
            return AWSResponse("http://fault", 400, {}, None), error
        return None

    SESSION_HOOKS.append(("before-call.glue.GetTables", deny))
    result = run(moto_endpoint, url)
    assert result.success
    stored = dump_store(url)
    assert stored["awsdatacatalog.sales_000.t0000_parquet"]["deleted"] is False  # not proven gone
    assert stored["awsdatacatalog.sales_001.t0000_parquet"]["deleted"] is True
    md = materialized_metadata(result)
    assert any("sales_000" in e for e in md["tables"]["listing_errors"].value)


def test_filters_views_tags_and_schema_changes(glue: Any, moto_endpoint: str, tmp_path: Path):
    seeded = seed_glue(glue, databases=3, tables_per_database=16)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = {
        "schema_filter_pattern": {"includes": ["sales_00[01]"]},
        "table_filter_pattern": {"excludes": [".*_csv$"]},
        "include_views": False,
        "include_tags": False,
    }
    assert run(moto_endpoint, url, config).success
    stored = dump_store(url)
    expected = {
        t.fqn
        for t in seeded.all_tables
        if t.database in ("sales_000", "sales_001")
        and not t.name.endswith("_csv")
        and t.table_type != "VIRTUAL_VIEW"
    }
    assert set(stored) == expected
    assert all(row["tags"] == {} for row in stored.values())

    # A column changes type, one is added, a table is dropped: all land in the history.
    table_input = dict(seeded.table_inputs[("sales_000", "t0001_orc")])
    sd = dict(table_input["StorageDescriptor"])
    sd["Columns"] = [{"Name": "ID", "Type": "STRING"}, {"Name": "extra", "Type": "int"}]
    glue.update_table(DatabaseName="sales_000", TableInput={**table_input, "StorageDescriptor": sd})
    glue.delete_table(DatabaseName="sales_001", Name="t0002_json")
    assert run(moto_endpoint, url, config).success
    store = CatalogStore(url)
    rows = [r for r in schema_change_rows(store) if r[1] != "table_created"]
    store.close()
    assert set(map(tuple, rows)) == {
        ("awsdatacatalog.sales_000.t0001_orc", "column_type_changed", "id", "bigint", "string"),
        ("awsdatacatalog.sales_000.t0001_orc", "column_added", "extra", None, "int"),
        ("awsdatacatalog.sales_000.t0001_orc", "column_removed", "price", "decimal(38,9)", None),
        ("awsdatacatalog.sales_001.t0002_json", "table_deleted", None, None, None),
    }


def test_invalid_filter_fails_before_any_aws_call(moto_endpoint: str, tmp_path: Path):
    calls: Counter = Counter()
    count_calls(calls)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = run(moto_endpoint, url, {"table_filter_pattern": {"excludes": ["ok", "(unclosed"]}})
    assert not result.success
    text = failure_text(result)
    assert "table_filter_pattern.excludes[1]" in text and "(unclosed" in text, text
    assert sum(calls.values()) == 0


def test_unreachable_endpoint_fails_clearly_in_bounded_time(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run(endpoint, f"sqlite:///{tmp_path / 'c.db'}", retry_max_seconds=3, max_attempts=1)
    elapsed = time.monotonic() - started
    assert not result.success
    text = failure_text(result)
    assert endpoint in text, text
    assert elapsed < 60


def test_use_ssl_and_verify_reach_the_clients(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    athena = HookedAthenaResource(engine="aws", region_name=FAKE_REGION, use_ssl=False)
    with athena.get_engine() as engine:
        assert engine.glue.meta.endpoint_url.startswith("http://glue.")
        assert engine.athena.meta.endpoint_url.startswith("http://athena.")
    athena = HookedAthenaResource(engine="aws", region_name=FAKE_REGION, verify=False)
    with athena.get_engine() as engine:
        assert engine.glue._endpoint.http_session._verify is False
