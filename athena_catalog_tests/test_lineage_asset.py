"""The ``lineage`` asset end to end on the demo lakehouse: crawl, history, lineage, re-run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, insert, select

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.lineage.graph import HistoryStatement, LineageAnalyser
from athena_catalog.lineage.result import LineageSchema
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import query_history as history_table
from athena_catalog.store.lineage import (
    lineage_column_edges,
    lineage_statements,
    lineage_table_edges,
    read_edges,
)
from athena_catalog_tests.conftest import backend_store_url
from athena_catalog_tests.demo_fixtures import materialized_demo


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    home = tmp_path_factory.mktemp("home")
    return materialized_demo(home, backend_store_url(request, home))


def _edges(url: str) -> tuple[dict, dict]:
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            return read_edges(conn, lineage_table_edges), read_edges(conn, lineage_column_edges)
    finally:
        store.close()


def test_etl_edges_match_the_demo_sql(store_url: str) -> None:
    tables, columns = _edges(store_url)
    a = "awsdatacatalog"
    nightly = tables[(f"{a}.raw.orders", f"{a}.staging.stg_orders", "query")]
    assert nightly.query_count >= 30  # one INSERT per simulated day
    assert nightly.first_seen < nightly.last_seen and nightly.example_query_id
    # INSERT ... SELECT ..., shipping.method, dt: positional onto stg_orders' columns.
    assert (
        f"{a}.raw.orders",
        "shipping",
        f"{a}.staging.stg_orders",
        "shipping_method",
        "query",
    ) in columns
    # MERGE: SET segment = s.segment, INSERT (..., email, ...) VALUES (..., s.email, ...).
    merge_target = f"{a}.staging.customer_dim_ice"
    assert (f"{a}.staging.stg_customers", "segment", merge_target, "segment", "query") in columns
    assert (f"{a}.staging.stg_customers", "email", merge_target, "email", "query") in columns
    # count(*) feeds no column; the join key customer_id is not a value source of revenue.
    revenue = {
        k[:2] for k in columns if k[2] == f"{a}.analytics.daily_revenue" and k[3] == "revenue"
    }
    assert revenue == {(f"{a}.staging.stg_orders", "amount")}


def test_views_unload_and_s3_locations(store_url: str) -> None:
    tables, columns = _edges(store_url)
    a = "awsdatacatalog"
    assert (f"{a}.analytics.customer_ltv", f"{a}.analytics.v_active_customers", "view") in tables
    assert (f"{a}.analytics.customer_ltv", f"{a}.analytics.v_active_customers", "query") in tables
    assert ("s3://acme-lake-raw/shop/orders/", f"{a}.raw.orders", "s3") in tables
    exports = [
        k for k in tables if k[1].startswith("s3://acme-exports/finance/revenue_by_segment/")
    ]
    assert exports and all(k[0] == f"{a}.analytics.v_revenue_by_segment" for k in exports)
    assert all(k[2] == "s3" for k in exports)
    odd = f"{a}.odd-names.daily summary"
    assert any(k[2] == odd and k[4] == "view" for k in columns)


def test_only_successful_user_statements_are_analysed(store_url: str) -> None:
    store = CatalogStore(store_url)
    try:
        with store.read() as conn:
            analysed = conn.execute(select(func.count()).select_from(lineage_statements)).scalar()
            eligible = conn.execute(
                select(func.count())
                .select_from(history_table)
                .where(
                    history_table.c.state == "SUCCEEDED", history_table.c.source != "athena_catalog"
                )
            ).scalar()
    finally:
        store.close()
    assert analysed == eligible > 1000


def test_a_second_run_is_incremental_and_changes_nothing(store_url: str) -> None:
    before = _edges(store_url)
    result = dg.materialize(
        [lineage], resources={"catalog_store": CatalogStoreResource(url=store_url)}
    )
    assert result.success
    meta = result.asset_materializations_for_node("lineage")[0].metadata
    assert meta["statements_analysed"].value == 0
    assert meta["distinct_statements_parsed"].value == 0  # views came from the parse cache
    assert _edges(store_url) == before


def test_full_refresh_rebuilds_the_same_graph_from_the_parse_cache(store_url: str) -> None:
    before = _edges(store_url)
    result = dg.materialize(
        [lineage],
        resources={"catalog_store": CatalogStoreResource(url=store_url)},
        run_config={"ops": {"lineage": {"config": {"full_refresh": True}}}},
    )
    meta = result.asset_materializations_for_node("lineage")[0].metadata
    assert meta["statements_analysed"].value > 1000
    assert meta["distinct_statements_parsed"].value == 0
    assert meta["parse_cache_hits"].value > 100
    assert _edges(store_url) == before


def test_metadata_counts(store_url: str, tmp_path: Path) -> None:
    result = dg.materialize(
        [lineage], resources={"catalog_store": CatalogStoreResource(url=store_url)}
    )
    meta = result.asset_materializations_for_node("lineage")[0].metadata
    assert meta["table_edges"].value == len(_edges(store_url)[0])
    assert set(meta["table_edges_by_kind"].value) == {"query", "view", "s3"}
    assert meta["views"].value == 6


def test_the_demo_has_no_identity_self_edges(store_url: str) -> None:
    """``INSERT INTO raw.orders SELECT * FROM raw.orders`` (the demo's duplicated orders) copies
    each column onto itself: no column edge from itself, no table edge raw.orders -> raw.orders."""
    tables, columns = _edges(store_url)
    assert not [k for k in columns if k[0] == k[2] and k[1] == k[3]]
    assert not [k for k in tables if k[0] == k[1]]
    store = CatalogStore(store_url)
    try:
        with store.read() as conn:
            h, s = history_table.c, lineage_statements.c
            outcome = conn.execute(
                select(s.outcome)
                .join(history_table, h.query_id == s.query_id)
                .where(h.query.like("INSERT INTO raw.orders SELECT * FROM raw.orders%"))
            ).scalar_one()
    finally:
        store.close()
    assert outcome == "ok"  # analysed, not skipped


IDENTITY_CASES = [
    # (statement, column edges within t, table edge t -> t kept)
    ("UPDATE raw.t SET a = b * 2 WHERE b > 0", {("b", "a")}, False),
    ("UPDATE raw.t SET a = a WHERE b = 1", set(), False),
    ("INSERT INTO raw.t SELECT * FROM raw.t WHERE a > 1", set(), False),
    (
        "MERGE INTO raw.t d USING raw.t s ON d.a = s.a WHEN MATCHED THEN UPDATE SET b = s.b",
        set(),
        False,
    ),
    ("INSERT INTO raw.t (a, b) SELECT b, a FROM raw.t", {("b", "a"), ("a", "b")}, True),
    ("INSERT INTO raw.t (a, b) SELECT a, b + 1 FROM raw.t", set(), False),
]


@pytest.mark.parametrize(("sql", "within", "self_table"), IDENTITY_CASES)
def test_identity_edges_are_left_out_and_intra_table_dependencies_kept(
    sql: str, within: set[tuple[str, str]], self_table: bool
) -> None:
    t = "awsdatacatalog.raw.t"
    analyser = LineageAnalyser(LineageSchema({t: {"a": "int", "b": "int"}}), workers=1)
    statement = HistoryStatement("q-1", sql, None, "raw", datetime(2026, 1, 1, tzinfo=UTC))
    batch = analyser.statements([statement], lambda fps: {})
    assert batch.outcomes == {"q-1": "ok"}
    assert {(k[1], k[3]) for k in batch.column_edges if k[0] == k[2] == t} == within
    assert ((t, t, "query") in batch.table_edges) == self_table


def test_a_synthetic_update_keeps_its_intra_table_edge(store_url: str) -> None:
    """Runs last: it adds to the demo's history. UPDATE t SET a = b keeps t.b -> t.a on the
    demo store; UPDATE t SET a = a adds nothing."""
    dim = "awsdatacatalog.staging.customer_dim_ice"
    now = datetime.now(UTC)
    store = CatalogStore(store_url)
    try:
        with store.write() as conn:
            conn.execute(
                insert(history_table),
                [
                    {
                        "query_id": f"q-update-{n}",
                        "query": sql,
                        "statement_type": "DML",
                        "state": "SUCCEEDED",
                        "work_group": "adhoc",
                        "catalog": "AwsDataCatalog",
                        "database": "staging",
                        "submitted_at": now,
                        "day": now.date(),
                        "source": "user",
                    }
                    for n, sql in enumerate(
                        [
                            "UPDATE customer_dim_ice SET segment = country WHERE country = 'US'",
                            "UPDATE customer_dim_ice SET email = email WHERE email IS NULL",
                        ]
                    )
                ],
            )
    finally:
        store.close()
    result = dg.materialize(
        [lineage], resources={"catalog_store": CatalogStoreResource(url=store_url)}
    )
    assert result.success
    _, columns = _edges(store_url)
    assert (dim, "country", dim, "segment", "query") in columns
    assert (dim, "email", dim, "email", "query") not in columns
    assert not [k for k in columns if k[0] == k[2] and k[1] == k[3]]
