"""Athena tables as external asset specs, read from a store filled by really materializing
``metadata``, ``query_history`` and ``lineage`` on the demo lakehouse."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import insert

from athena_catalog.definitions import build_defs
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.settings import STORE_URL, TABLE_ASSETS
from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import lineage_table_edges
from athena_catalog.store.schema import catalog_tables
from athena_catalog_tests.demo_fixtures import materialized_demo

A = "athena/awsdatacatalog"
CAP_ENV = TABLE_ASSETS.name


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return materialized_demo(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def specs(demo_url: str) -> dict[str, dg.AssetSpec]:
    return {s.key.to_user_string(): s for s in athena_table_specs(demo_url)}


def deps(spec: dg.AssetSpec) -> set[str]:
    return {d.asset_key.to_user_string() for d in spec.deps}


def column_lineage(spec: dg.AssetSpec) -> dict[str, set[tuple[str, str]]]:
    value = spec.metadata["dagster/column_lineage"]
    return {
        column: {(d.asset_key.to_user_string(), d.column_name) for d in column_deps}
        for column, column_deps in value.deps_by_column.items()
    }


def test_one_spec_per_live_table_and_view(specs: dict[str, dg.AssetSpec]) -> None:
    assert len(specs) == 34  # the demo's 28 tables and 6 views
    views = {k for k, s in specs.items() if "view" in s.kinds}
    assert len(views) == 6 and f"{A}/odd-names/daily summary" in views
    assert all(s.group_name == "athena_tables" and "athena" in s.kinds for s in specs.values())
    assert specs[f"{A}/staging/customer_dim_ice"].kinds == {"athena", "iceberg"}
    # Lineage edges to S3 (locations, UNLOAD targets) are not assets.
    assert all(d.startswith("athena/") for s in specs.values() for d in deps(s))


def test_daily_revenue_against_the_demo_sql(specs: dict[str, dg.AssetSpec]) -> None:
    spec = specs[f"{A}/analytics/daily_revenue"]
    schema = spec.metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("channel", "string"),
        ("segment", "string"),
        ("country", "string"),
        ("orders", "bigint"),
        ("revenue", "decimal(18,2)"),
        ("dt", "string"),
    ]
    assert spec.metadata["dagster/table_name"] == "awsdatacatalog.analytics.daily_revenue"
    assert spec.metadata["partition_keys"] == ["dt"]
    assert spec.metadata["dagster/uri"] == "s3://acme-lake-analytics/daily_revenue/"
    stg_orders, stg_customers = f"{A}/staging/stg_orders", f"{A}/staging/stg_customers"
    assert deps(spec) == {stg_orders, stg_customers}
    # SELECT o.channel, c.segment, c.country, count(*), CAST(sum(o.amount) ...), o.dt
    assert column_lineage(spec) == {
        "channel": {(stg_orders, "channel")},
        "segment": {(stg_customers, "segment")},
        "country": {(stg_customers, "country")},
        "revenue": {(stg_orders, "amount")},
        "dt": {(stg_orders, "dt")},
    }
    # owner and tier are valid Dagster tags; "06:00Z" is not a valid tag value.
    assert spec.tags["owner"] == "team-bi"
    assert spec.metadata["athena_tags"].value == {"sla": "06:00Z"}


def test_views_and_cross_catalog_lineage(specs: dict[str, dg.AssetSpec]) -> None:
    active = specs[f"{A}/analytics/v_active_customers"]
    ltv = f"{A}/analytics/customer_ltv"
    assert deps(active) == {ltv}
    assert column_lineage(active)["last_order_ts"] == {(ltv, "last_order_ts")}
    usd = specs[f"{A}/analytics/v_orders_usd"]
    rates = "athena/partner_lake/reference/currency_rates"
    assert rates in deps(usd)
    assert column_lineage(usd)["amount_usd"] == {
        (f"{A}/staging/stg_orders", "amount"),
        (rates, "usd_rate"),
    }
    # MERGE INTO customer_dim_ice ... INSERT (..., email, ...) VALUES (..., s.email, ...)
    dim = specs[f"{A}/staging/customer_dim_ice"]
    assert column_lineage(dim)["email"] == {(f"{A}/staging/stg_customers", "email")}


def test_descriptions_tags_and_self_edges(specs: dict[str, dg.AssetSpec]) -> None:
    orders = specs[f"{A}/raw/orders"]
    assert orders.description == "Shop orders, one file per day"
    assert {k: orders.tags[k] for k in ("owner", "domain", "tier")} == {
        "owner": "team-shop",
        "domain": "sales",
        "tier": "gold",
    }
    # INSERT INTO raw.orders SELECT * FROM raw.orders copies each column onto itself: no
    # dependency on itself, no column computed from itself.
    assert deps(orders) == set()
    assert "cyclic_upstreams" not in orders.metadata
    assert "dagster/column_lineage" not in orders.metadata
    for spec in specs.values():
        key = spec.key.to_user_string()
        lineage = column_lineage(spec) if "dagster/column_lineage" in spec.metadata else {}
        assert not [c for c, sources in lineage.items() if (key, c) in sources], key
    cafe = specs[f"{A}/odd-names/café_ventes"]
    assert cafe.tags["env"] == "prod" and "owner" not in cafe.tags
    assert cafe.metadata["athena_tags"].value == {"owner": "équipe café"}


def test_owners_from_the_owner_tags(specs: dict[str, dg.AssetSpec]) -> None:
    assert specs[f"{A}/analytics/daily_revenue"].owners == ["team:team-bi"]
    assert specs[f"{A}/raw/orders"].owners == ["team:team-shop"]
    assert specs[f"{A}/odd-names/café_ventes"].owners == ["team:équipe-café"]
    assert specs["athena/partner_lake/shared_sales/partner_orders"].owners == ["team:partner"]
    # 7 of the 8 tagged tables (the workload drops and re-creates customer_ltv, untagged);
    # every other table's Glue Owner is Athena's "hadoop", nobody.
    assert len([s for s in specs.values() if s.owners]) == 7
    assert not [k for k, s in specs.items() if "owner" in s.metadata]


def test_the_code_location_loads_with_the_specs(
    specs: dict[str, dg.AssetSpec], demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What definitions.py builds over the demo's store: every domain, the specs among them.
    # (Built here, not imported: the module may have been imported by an earlier test over
    # another store.)
    monkeypatch.setenv(STORE_URL.name, demo_url)
    combined = build_defs()
    assert set(specs) <= {k.to_user_string() for k in combined.resolve_all_asset_keys()}
    dg.Definitions.validate_loadable(combined)
    graph = combined.resolve_asset_graph()
    orders = dg.AssetKey(["athena", "awsdatacatalog", "raw", "orders"])
    assert graph.get(orders).is_external
    stg = graph.get(dg.AssetKey(["athena", "awsdatacatalog", "staging", "stg_orders"]))
    assert stg.parent_keys == {orders}


def test_missing_or_empty_store_gives_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "catalog.db"
    assert athena_table_specs(f"sqlite:///{missing}") == []
    assert not missing.parent.exists()  # reading never creates a store
    blank = tmp_path / "blank.db"
    blank.touch()  # a file without the catalog tables
    assert athena_table_specs(f"sqlite:///{blank}") == []
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    CatalogStore(url).close()  # the tables, no rows
    assert athena_table_specs(url) == []


def _store_with(tmp_path: Path, tables: dict[str, bool], edges: list[tuple[str, str, int]]) -> str:
    """A store holding ``tables`` (fqn -> deleted) and table edges (source, target, count)."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    now = datetime.now(UTC)
    store = CatalogStore(url)
    try:
        with store.write() as conn:
            conn.execute(
                insert(catalog_tables),
                [
                    {"fqn": fqn, "catalog": fqn.split(".")[0], "database": fqn.split(".")[1],
                     "name": fqn.split(".")[2], "table_type": "EXTERNAL_TABLE", "parameters": {},
                     "tags": {}, "deleted": deleted, "first_seen": now, "last_seen": now}
                    for fqn, deleted in tables.items()
                ],
            )  # fmt: skip
            if edges:
                conn.execute(
                    insert(lineage_table_edges),
                    [
                        {"source_fqn": s, "target_fqn": t, "kind": "query", "query_count": n}
                        for s, t, n in edges
                    ],
                )
    finally:
        store.close()
    return url


def test_cycles_in_history_are_broken_at_the_rarest_edge(tmp_path: Path) -> None:
    a, b, c, gone = "cat.db.a", "cat.db.b", "cat.db.c", "cat.db.gone"
    url = _store_with(
        tmp_path,
        {a: False, b: False, c: False, gone: True},
        # a -> b -> c is the nightly load; c -> a ran once; gone fed b before it was dropped.
        [(a, b, 30), (b, c, 30), (c, a, 1), (gone, b, 5), ("s3://x/", a, 9)],
    )
    specs = {s.key.path[-1]: s for s in athena_table_specs(url)}
    assert set(specs) == {"a", "b", "c"}
    assert {k: deps(s) for k, s in specs.items()} == {
        "a": set(),
        "b": {"athena/cat/db/a"},
        "c": {"athena/cat/db/b"},
    }
    assert specs["a"].metadata["cyclic_upstreams"] == [c]
    assert "dagster/column_lineage" not in specs["a"].metadata
    dg.Definitions.validate_loadable(dg.Definitions(assets=list(specs.values())))


def test_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = _store_with(tmp_path, {f"cat.db.t{i}": False for i in range(5)}, [])
    monkeypatch.setenv(CAP_ENV, "5")
    assert len(athena_table_specs(url)) == 5
    monkeypatch.setenv(CAP_ENV, "0")
    assert athena_table_specs(url) == []
    monkeypatch.setenv(CAP_ENV, "4")
    with caplog.at_level(logging.WARNING):
        assert athena_table_specs(url) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"5 Athena tables exceed {CAP_ENV}=4: no table assets are built. "
        f"Raise {CAP_ENV} to show them, or narrow the crawl's filters."
    ]
    assert len(athena_table_specs(url, limit=5)) == 5  # the argument overrides the variable
