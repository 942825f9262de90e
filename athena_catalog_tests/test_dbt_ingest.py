"""dbt artifacts applied to a real store (SQLite and PostgreSQL) over a lakehouse crawled by the
real ``metadata`` asset: nodes onto tables, docs and owners on the table specs, test results as
a time series, dbt lineage checked against the models' SQL, and nothing lost on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from athena_catalog.dbt.artifacts import ArtifactError, read_artifacts
from athena_catalog.dbt.ingest import apply_artifacts
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.store import CatalogStore
from athena_catalog.store.dbt import results_after
from athena_catalog.store.lineage import (
    clear_edges,
    lineage_column_edges,
    lineage_table_edges,
    read_edges,
)
from athena_catalog.store.schema import dbt_nodes, dbt_projects, dbt_test_results
from athena_catalog_tests import dbt_fixtures

NOW = datetime(2024, 3, 1, 7, tzinfo=UTC)
A = "awsdatacatalog"


@pytest.fixture
def store(store_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    dbt_fixtures.crawled_lakehouse(tmp_path / "home", store_url)
    s = CatalogStore(store_url)
    yield s
    s.close()


def apply(store: CatalogStore, target: Path):  # type: ignore[no-untyped-def]
    return apply_artifacts(store, read_artifacts([str(target)]), NOW)


def counts(store: CatalogStore) -> tuple[int, int, int]:
    with store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (dbt_projects, dbt_nodes, dbt_test_results)
        )


def test_nodes_results_and_an_unchanged_set(store: CatalogStore, tmp_path: Path) -> None:
    target = dbt_fixtures.write_target(tmp_path / "t")
    first = apply(store, target).projects[0]
    assert first.applied and first.new_results == 6
    assert first.missing == {"model.shop.ghost": f"{A}.marts.ghost"}  # listed, not dropped
    with store.read() as conn:
        nodes = {r.unique_id: r for r in conn.execute(select(dbt_nodes))}
        results = conn.execute(
            select(dbt_test_results.c.test_unique_id, dbt_test_results.c.passed)
        ).all()
    assert nodes["model.shop.ghost"].relation == f"{A}.marts.ghost"
    assert nodes["model.shop.ghost"].table_fqn is None
    assert nodes["test.shop.assert_revenue_positive"].table_fqn == f"{A}.marts.customer_revenue"
    assert nodes["test.shop.assert_revenue_positive"].attached_node == (
        "model.shop.customer_revenue"
    )
    assert nodes["model.shop.customer_revenue"].owners == ["team:finance", "ana@example.com"]
    assert dict(results) == {
        "test.shop.unique_stg_orders_order_id": True,
        "test.shop.not_null_customer_revenue_name": False,
        "test.shop.accepted_values_stg_orders_amount": False,
        "test.shop.source_not_null_raw_orders_order_id": True,
        "test.shop.assert_revenue_positive": False,
        "test.shop.relationships_skipped": None,
    }
    before = counts(store)
    again = apply(store, target).projects[0]
    assert not again.applied and again.new_results == 0
    assert counts(store) == before
    # A new invocation of the same tests adds to the time series.
    rr = json.loads((target / "run_results.json").read_text())
    rr["metadata"]["invocation_id"] = "second"
    (target / "run_results.json").write_text(json.dumps(rr))
    assert apply(store, target).projects[0].new_results == 6
    assert counts(store)[2] == 12


def test_results_after_the_reported_one_in_time_order(store: CatalogStore, tmp_path: Path) -> None:
    """What the dbt checks report: each test's results after the one last reported, by dbt's
    time (not storage order); one evaluated before it (stored late) is not reported."""
    target = dbt_fixtures.write_target(tmp_path / "t")  # run_results.json at 05:59:59
    early = "2024-03-01T04:59:59.000000Z"
    second = dbt_fixtures.write_invocation(target, "run_results_rerun.json", 2, early)
    apply(store, target)
    unique = "test.shop.unique_stg_orders_order_id"
    skipped = "test.shop.relationships_skipped"
    with store.read() as conn:
        everything = results_after(conn, "shop", {unique: None, skipped: None})
    assert set(everything) == {unique, skipped}  # only the tests asked for
    first, newest = everything[unique]
    assert (first.invocation_id, newest.invocation_id) == (second, dbt_fixtures.INVOCATION)
    assert first.id > newest.id  # stored after, evaluated before
    assert [r.status for r in everything[skipped]] == ["skipped", "skipped"]
    with store.read() as conn:
        assert results_after(conn, "shop", {unique: first.id})[unique] == [newest]
        assert results_after(conn, "shop", {unique: newest.id}) == {}
    # A run dbt made before the reported one, stored only now, is not reported after it.
    dbt_fixtures.write_invocation(target, "run_results_old.json", 3, "2024-03-01T03:00:00Z")
    later = dbt_fixtures.write_invocation(target, "run_results_new.json", 4, "2024-03-01T08:00:00Z")
    assert apply(store, target).projects[0].new_results == 12
    with store.read() as conn:
        (after,) = results_after(conn, "shop", {unique: newest.id})[unique]
        assert results_after(conn, "other", {unique: None}) == {}
    assert after.invocation_id == later


def test_dbt_lineage_against_the_models_sql(store: CatalogStore, tmp_path: Path) -> None:
    apply(store, dbt_fixtures.write_target(tmp_path / "t"))
    with store.read() as conn:
        tables = set(read_edges(conn, lineage_table_edges, {"dbt"}))
        columns = set(read_edges(conn, lineage_column_edges, {"dbt"}))
    # stg_orders reads raw.orders; customer_revenue reads int_paid (ephemeral, so stg_orders)
    # and raw.Customers; ghost reads nothing.
    assert tables == {
        (f"{A}.raw.orders", f"{A}.staging.stg_orders", "dbt"),
        (f"{A}.staging.stg_orders", f"{A}.marts.customer_revenue", "dbt"),
        (f"{A}.raw.customers", f"{A}.marts.customer_revenue", "dbt"),
    }
    # select order_id, customer_id, amount from raw.orders (status only filters);
    # select c.customer_id, c.name, sum(p.amount) as revenue from int_paid p join customers c.
    assert columns == {
        (f"{A}.raw.orders", c, f"{A}.staging.stg_orders", c, "dbt")
        for c in ("order_id", "customer_id", "amount")
    } | {
        (f"{A}.raw.customers", "customer_id", f"{A}.marts.customer_revenue", "customer_id", "dbt"),
        (f"{A}.raw.customers", "name", f"{A}.marts.customer_revenue", "name", "dbt"),
        (f"{A}.staging.stg_orders", "amount", f"{A}.marts.customer_revenue", "revenue", "dbt"),
    }
    # The lineage asset's recount clears the edges it rebuilds, never dbt's.
    with store.write() as conn:
        clear_edges(conn)
    with store.read() as conn:
        assert set(read_edges(conn, lineage_table_edges, {"dbt"})) == tables


def test_table_specs_show_the_dbt_docs(store: CatalogStore, tmp_path: Path) -> None:
    apply(store, dbt_fixtures.write_target(tmp_path / "t"))
    url = store.engine.url.render_as_string(hide_password=False)
    specs = {s.key.to_user_string(): s for s in athena_table_specs(url)}
    revenue = specs[f"athena/{A}/marts/customer_revenue"]
    assert revenue.description == "Revenue per customer (warehouse comment)"
    assert revenue.owners == ["team:finance", "ana@example.com"]
    described = {c.name: c.description for c in revenue.metadata["dagster/column_schema"].columns}
    assert described == {"customer_id": None, "name": None, "revenue": "Sum of paid orders"}
    assert revenue.metadata["dbt_unique_id"] == "model.shop.customer_revenue"
    assert revenue.metadata["dbt_materialization"] == "table"
    assert "__dbt__cte__int_paid" in revenue.metadata["dbt_compiled_sql"].value
    assert revenue.metadata["dbt_raw_sql"].value.startswith("```sql\n-- customer_revenue")
    deps = {d.asset_key.to_user_string() for d in revenue.deps}
    assert deps == {f"athena/{A}/staging/stg_orders", f"athena/{A}/raw/customers"}
    lineage = revenue.metadata["dagster/column_lineage"].deps_by_column
    assert {(d.asset_key.path[-1], d.column_name) for d in lineage["revenue"]} == {
        ("stg_orders", "amount")
    }
    stg = specs[f"athena/{A}/staging/stg_orders"]
    assert stg.owners == ["team:data-platform"] and stg.metadata["dbt_tags"] == [
        "staging",
        "orders",
    ]
    orders = specs[f"athena/{A}/raw/orders"]  # a source: its description and tags
    assert orders.description == "Orders as the shop exports them"
    assert orders.metadata["dbt_resource_type"] == "source"


def test_a_bad_artifact_set_changes_nothing_stored(store: CatalogStore, tmp_path: Path) -> None:
    target = dbt_fixtures.write_target(tmp_path / "t")
    apply(store, target)
    before = counts(store)
    with store.read() as conn:
        edges = read_edges(conn, lineage_table_edges, {"dbt"})
    second = dbt_fixtures.write_target(tmp_path / "second")
    text = (second / "manifest.json").read_text()
    (second / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(ArtifactError, match=r"^manifest\.json: \$\.nodes\["):
        # Both targets are checked before either is applied.
        apply_artifacts(store, read_artifacts([str(target), str(second)]), NOW)
    assert counts(store) == before
    with store.read() as conn:
        assert read_edges(conn, lineage_table_edges, {"dbt"}) == edges
