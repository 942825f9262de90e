"""What a table's page shows: observations from the crawl, usage and lineage on a real Dagster
instance after real ``refresh_catalog`` runs on the demo, and the readable lineage, downstream
impact and view SQL of the specs, checked by hand against the demo's SQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, insert, select

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.refresh.jobs import refresh_catalog_job
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.defs.tables.observations import OBSERVED_BY, usage_metadata
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.demo import build_demo
from athena_catalog.engines.local import LocalEngine
from athena_catalog.names import table_parts
from athena_catalog.settings import TABLE_ASSETS
from athena_catalog.store import CatalogStore
from athena_catalog.store.schema import (
    catalog_columns,
    catalog_tables,
    column_usage_daily,
    lineage_column_edges,
    table_joins,
    table_usage_daily,
    table_usage_summary,
)
from athena_catalog.store.table_pages import TableName, usage_pages

A = "awsdatacatalog"


@dataclass
class Refreshed:
    home: Path
    url: str
    instance: dg.DagsterInstance
    runs: list[str]


HISTORY = {"ops": {"query_history": {"config": {"query_log_days": 120}}}}
# One more load of daily_revenue (positional: channel, segment, country, orders, revenue, dt):
# its column edges from stg_orders are seen once more, those from stg_customers are not.
ONE_MORE_LOAD = """INSERT INTO analytics.daily_revenue
SELECT channel, 'web', 'FR', 1, CAST(amount AS decimal(18,2)), dt FROM staging.stg_orders LIMIT 1"""


def resources(home: Path, url: str) -> dict[str, dg.ConfigurableResource]:
    return {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=url),
    }


def refresh(home: Path, url: str, instance: dg.DagsterInstance) -> str:
    """One run of the ``refresh_catalog`` job over the crawl, usage and lineage assets."""
    job = dg.Definitions(
        assets=[metadata, query_history, table_usage, lineage],
        jobs=[refresh_catalog_job],
        resources=resources(home, url),
    ).resolve_job_def("refresh_catalog")
    result = job.execute_in_process(run_config=HISTORY, instance=instance)
    assert result.success
    return result.run_id


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refreshed]:
    """Two refreshes; between them raw.products gains a column (ALTER TABLE ADD COLUMNS),
    daily_revenue one more load, which ``table_usage`` resolves (for lineage too) on its own
    before the second refresh, as when its step runs before ``lineage``'s."""
    home = tmp_path_factory.mktemp("home")
    build_demo(home)
    url = f"sqlite:///{home / 'catalog.db'}"
    with dg.instance_for_test() as instance:
        first = refresh(home, url, instance)
        engine = LocalEngine(home, read_only=False)
        engine.execute("ALTER TABLE raw.products ADD COLUMNS (weight_kg double)", database="raw")
        engine.execute(ONE_MORE_LOAD, database="analytics")
        engine.close()
        usage = dg.materialize(
            [query_history, table_usage],
            resources=resources(home, url),
            run_config=HISTORY,
            instance=instance,
        )
        assert usage.success
        second = refresh(home, url, instance)
        yield Refreshed(home, url, instance, [first, second])


def observations(r: Refreshed, fqn: str, by: str) -> list[dg.AssetObservation]:
    """The observations of the table ``fqn``'s asset from one source, oldest first."""
    key = AthenaTableTranslator().get_asset_key(TableName(fqn, *table_parts(fqn)))
    records = r.instance.fetch_observations(key, limit=100).records
    found = [(rec.storage_id, rec.asset_observation) for rec in records]
    return [o for _, o in sorted(found, key=lambda x: x[0]) if o and o.tags.get(OBSERVED_BY) == by]


def value(o: dg.AssetObservation, entry: str) -> object:
    return o.metadata[entry].value


def md_rows(o: dg.AssetObservation | dg.AssetSpec, entry: str) -> list[list[str]]:
    return md_rows_of(o.metadata[entry].value)


def md_rows_of(text: object) -> list[list[str]]:
    """The body rows of a markdown table's cells."""
    assert isinstance(text, str)
    lines = [x for x in text.splitlines() if x.startswith("| ")][1:]  # no header
    return [[c.strip() for c in x.strip("|").split(" | ")] for x in lines]


def read(url: str, query):  # type: ignore[no-untyped-def]
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            return conn.execute(query).all()
    finally:
        store.close()


def test_the_crawl_observes_every_new_table_then_only_what_changed(refreshed: Refreshed):
    tables = read(
        refreshed.url,
        select(catalog_tables.c.database, catalog_tables.c.name, catalog_tables.c.updated_at).where(
            catalog_tables.c.catalog == "AwsDataCatalog", catalog_tables.c.deleted.is_(False)
        ),
    )
    assert len(tables) == 29
    counts = dict(
        read(
            refreshed.url,
            select(catalog_columns.c.table_fqn, func.count()).group_by(catalog_columns.c.table_fqn),
        )
    )
    for database, name, updated_at in tables:
        fqn = f"{A}.{database.lower()}.{name.lower()}"
        seen = observations(refreshed, fqn, by="crawl")
        if name == "products":
            assert len(seen) == 2, fqn
        else:  # the second crawl learned nothing new about it: no second event
            assert len(seen) == 1, fqn
        assert value(seen[0], "crawl") == "created"
        assert value(seen[-1], "column_count") == counts[fqn]
        assert value(seen[-1], "last_modified") == updated_at.replace(tzinfo=UTC).timestamp()
    first, second = observations(refreshed, f"{A}.raw.products", by="crawl")
    assert value(second, "crawl") == "changed"
    assert value(second, "column_count") == value(first, "column_count") + 1  # type: ignore[operator]
    assert value(second, "schema_changes") == "- column `weight_kg` added (double)"
    assert value(first, "schema_changes") == (
        f"- table created with {value(first, 'column_count')} columns"
    )


def test_usage_is_observed_on_every_run_with_the_stored_numbers(refreshed: Refreshed) -> None:
    live = {fqn for (fqn,) in read(refreshed.url, select(catalog_tables.c.fqn))}
    summary = {
        row.table_fqn: row
        for row in read(refreshed.url, select(table_usage_summary))
        if (row.read_count or row.write_count) and row.table_fqn in live  # not S3 exports
    }
    assert len(summary) >= 15
    for fqn, row in summary.items():
        seen = observations(refreshed, fqn, by="usage")
        assert len(seen) == 3, fqn  # one per table_usage run: the numbers plot over time
        latest = seen[-1]
        assert value(latest, "reads") == row.read_count
        assert value(latest, "writes") == row.write_count
        assert value(latest, "bytes_scanned") == row.bytes_scanned
        assert value(latest, "cost_usd") == pytest.approx(row.cost_usd, abs=1e-6)
        assert value(latest, "popularity_percentile") == row.popularity_percentile
        assert isinstance(latest.metadata["reads"], dg.IntMetadataValue)  # plotted
        assert isinstance(latest.metadata["cost_usd"], dg.FloatMetadataValue)
    # daily_revenue: read by a dashboard tile every business day, written by the nightly ETL.
    revenue = observations(refreshed, f"{A}.analytics.daily_revenue", by="usage")[-1]
    start = (summary[f"{A}.analytics.daily_revenue"].computed_at - timedelta(days=30)).date()
    days = read(
        refreshed.url,
        select(table_usage_daily)
        .where(
            table_usage_daily.c.table_fqn == f"{A}.analytics.daily_revenue",
            table_usage_daily.c.day >= start,
        )
        .order_by(table_usage_daily.c.day.desc()),
    )
    assert md_rows(revenue, "usage_by_day") == [
        [str(x) for x in (d.day, d.read_count, d.write_count)]
        + [f"{d.bytes_scanned:,}", f"{d.cost_usd:.4f}"]
        for d in days
    ]
    assert sum(d.read_count for d in days) == value(revenue, "reads")
    assert sum(d.write_count for d in days) == value(revenue, "writes") >= 30
    last = max(d.last_read_at for d in days if d.last_read_at)
    assert value(revenue, "last_read") == last.replace(tzinfo=UTC).timestamp()


def test_top_joins_are_seen_from_both_sides(refreshed: Refreshed) -> None:
    # INSERT INTO analytics.daily_revenue ... FROM staging.stg_orders o LEFT JOIN
    # staging.stg_customers c ON o.customer_id = c.customer_id
    joins = read(refreshed.url, select(table_joins))
    pair = [
        j
        for j in joins
        if {j.left_fqn, j.right_fqn} == {f"{A}.staging.stg_orders", f"{A}.staging.stg_customers"}
    ]
    assert pair and pair[0].columns == "customer_id = customer_id"
    for this, other in (("stg_orders", "stg_customers"), ("stg_customers", "stg_orders")):
        latest = observations(refreshed, f"{A}.staging.{this}", by="usage")[-1]
        rows = md_rows(latest, "top_joins")
        assert [
            f"{A}.staging.{other}",
            "customer_id = customer_id",
            str(pair[0].query_count),
        ] in rows


def test_column_usage_on_the_page_against_the_demo_sql(refreshed: Refreshed) -> None:
    """daily_revenue is read by a dashboard tile (SELECT dt, sum(revenue), sum(orders) ...
    GROUP BY dt ORDER BY dt) and through v_revenue_by_segment (SELECT dt, segment,
    sum(orders), sum(revenue) ... GROUP BY dt, segment): channel and country never are."""
    revenue = observations(refreshed, f"{A}.analytics.daily_revenue", by="usage")[-1]
    assert value(revenue, "columns_never_read") == "`channel`, `country`"
    assert value(revenue, "columns_never_read_count") == 2
    assert value(revenue, "columns_read") == 4
    summary = read(
        refreshed.url,
        select(table_usage_summary.c.computed_at).where(
            table_usage_summary.c.table_fqn == f"{A}.analytics.daily_revenue"
        ),
    )
    start = (summary[0][0] - timedelta(days=30)).date()
    u = column_usage_daily.c
    stored = read(
        refreshed.url,
        select(
            u.column_name,
            func.sum(u.queries),
            func.sum(u.select_count),
            func.sum(u.filter_count),
            func.sum(u.join_count),
            func.sum(u.group_by_count),
            func.sum(u.order_by_count),
        )
        .where(u.table_fqn == f"{A}.analytics.daily_revenue", u.day >= start)
        .group_by(u.column_name)
        .order_by(func.sum(u.queries).desc(), u.column_name),
    )
    assert md_rows(revenue, "column_usage") == [[str(x) for x in row] for row in stored]
    assert [r[0] for r in stored][:2] == ["dt", "revenue"]  # in every query of both
    assert value(revenue, "most_used_columns") == ", ".join(r[0] for r in stored[:3])


def test_lineage_is_observed_once_until_it_changes(refreshed: Refreshed) -> None:
    first, second = observations(refreshed, f"{A}.analytics.daily_revenue", by="lineage")
    # stg_customers' edges (segment, country) did not change: no second event for it.
    assert len(observations(refreshed, f"{A}.staging.stg_customers", by="lineage")) == 1
    counts = [
        {r[0]: int(r[3]) for r in md_rows(o, "column_lineage_table")} for o in (first, second)
    ]
    assert {c: n - counts[0][c] for c, n in counts[1].items()} == {
        "channel": 1,
        "revenue": 1,
        "dt": 1,
        "segment": 0,
        "country": 0,
    }
    o = second
    assert value(o, "upstream_tables") == 2
    edges = read(
        refreshed.url,
        select(func.count())
        .select_from(lineage_column_edges)
        .where(lineage_column_edges.c.target_table_fqn == f"{A}.analytics.daily_revenue"),
    )
    assert value(o, "upstream_column_edges") == edges[0][0] == 5
    rows = {(r[0], r[1], r[2]) for r in md_rows(o, "column_lineage_table")}
    assert (rows) == DAILY_REVENUE_LINEAGE
    # Its downstream: v_revenue_by_segment selects dt, segment, orders, revenue from it.
    assert value(o, "downstream_tables") >= 1
    down = {r[0]: r[2] for r in md_rows(o, "downstream_impact")}
    assert down["revenue"].startswith(f"{A}.analytics.v_revenue_by_segment.revenue")


# SELECT o.channel, c.segment, c.country, count(*), CAST(sum(o.amount) AS decimal(18,2)), o.dt
# FROM staging.stg_orders o LEFT JOIN staging.stg_customers c (positional onto its columns)
DAILY_REVENUE_LINEAGE = {
    ("channel", f"{A}.staging.stg_orders.channel", "query"),
    ("country", f"{A}.staging.stg_customers.country", "query"),
    ("dt", f"{A}.staging.stg_orders.dt", "query"),
    ("revenue", f"{A}.staging.stg_orders.amount", "query"),
    ("segment", f"{A}.staging.stg_customers.segment", "query"),
}


# -- the specs' readable lineage, downstream impact and view SQL


@pytest.fixture(scope="module")
def specs(refreshed: Refreshed) -> dict[str, dg.AssetSpec]:
    return {s.key.to_user_string(): s for s in athena_table_specs(refreshed.url)}


def test_spec_readable_lineage_against_the_demo_sql(specs: dict[str, dg.AssetSpec]) -> None:
    spec = specs[f"athena/{A}/analytics/daily_revenue"]
    rows = md_rows(spec, "column_lineage_table")
    assert {(r[0], r[1], r[2]) for r in rows} == DAILY_REVENUE_LINEAGE
    assert all(int(r[3]) >= 30 for r in rows)  # one INSERT per simulated day
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+00:00", r[4]) for r in rows)
    assert "dagster/column_lineage" in spec.metadata  # still emitted for Dagster+


def test_spec_downstream_impact_against_the_demo_sql(specs: dict[str, dg.AssetSpec]) -> None:
    impact = {
        r[0]: r[2].split(", ")
        for r in md_rows(specs[f"athena/{A}/staging/stg_orders"], "downstream_impact")
    }
    # customer_ltv: coalesce(sum(o.amount), 0) AS lifetime_revenue; daily_revenue:
    # CAST(sum(o.amount) ...); v_orders_usd: o.amount * coalesce(r.usd_rate, 1) AS amount_usd;
    # stg_orders_today: SELECT order_id, customer_id, amount, status, dt FROM staging.stg_orders
    assert impact["amount"] == [
        f"{A}.analytics.customer_ltv.lifetime_revenue",
        f"{A}.analytics.daily_revenue.revenue",
        f"{A}.analytics.v_orders_usd.amount_usd",
        f"{A}.staging.stg_orders_today.amount",
    ]
    assert impact["channel"] == [f"{A}.analytics.daily_revenue.channel"]
    # min(o.order_ts) AS first_order_ts, max(o.order_ts) AS last_order_ts; v_orders_usd o.order_ts
    assert impact["order_ts"] == [
        f"{A}.analytics.customer_ltv.first_order_ts",
        f"{A}.analytics.customer_ltv.last_order_ts",
        f"{A}.analytics.v_orders_usd.order_ts",
    ]
    # A table nothing is computed from has no downstream entry.
    assert "downstream_impact" not in specs[f"athena/{A}/staging/stg_orders_today"].metadata


def test_a_view_shows_its_sql(specs: dict[str, dg.AssetSpec], refreshed: Refreshed) -> None:
    (sql,) = read(
        refreshed.url,
        select(catalog_tables.c.view_sql).where(
            catalog_tables.c.fqn == f"{A}.analytics.v_orders_usd"
        ),
    )[0]
    shown = specs[f"athena/{A}/analytics/v_orders_usd"].metadata["view_sql"].value
    assert shown == f"```sql\n{sql.strip()}\n```"
    assert "LEFT JOIN partner_lake.reference.currency_rates r" in shown
    assert "view_sql" not in specs[f"athena/{A}/raw/orders"].metadata


# -- column usage read for the page, on both store backends


def test_most_least_and_never_read_columns(store_url: str) -> None:
    fqn = f"{A}.raw.t"
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    store = CatalogStore(store_url)
    with store.write() as conn:
        conn.execute(
            insert(catalog_tables),
            [
                {"fqn": fqn, "catalog": "AwsDataCatalog", "database": "raw", "name": "t"}
                | {"table_type": "EXTERNAL_TABLE", "parameters": {}, "tags": {}}
                | {"deleted": False, "first_seen": now, "last_seen": now}
            ],
        )
        conn.execute(
            insert(catalog_columns),
            [
                {"table_fqn": fqn, "name": n, "ordinal": i, "data_type": "int"}
                for i, n in enumerate(["a", "b", "c.d", "e"])
            ],
        )
        conn.execute(
            insert(table_usage_summary),
            [
                {"table_fqn": fqn, "window_days": 30, "read_count": 9, "write_count": 0}
                | {"bytes_scanned": 1, "cost_usd": 0.0, "popularity_percentile": 100.0}
                | {"unused": False, "computed_at": now}
            ],
        )
        usage = [("a", date(2026, 3, 30), 5, 1), ("a", date(2026, 3, 29), 2, 0)]
        usage += [("c.d", date(2026, 3, 30), 1, 1), ("b", date(2026, 2, 1), 50, 0)]  # b: old
        conn.execute(
            insert(column_usage_daily),
            [
                {"table_fqn": fqn, "column_name": c, "day": d, "select_count": s}
                | {"filter_count": f, "join_count": 0, "group_by_count": 0}
                | {"order_by_count": 0, "queries": s}
                for c, d, s, f in usage
            ],
        )
    with store.read() as conn:
        page = usage_pages(conn)[fqn]
    store.close()
    assert page.start_day == date(2026, 3, 1)
    assert [(c.column, c.queries, c.selected, c.filtered) for c in page.columns] == [
        ("a", 7, 7, 1),
        ("c.d", 1, 1, 1),
    ]
    assert page.never_read == ["b", "e"]  # b was read, but before the window
    assert page.columns_known
    shown = usage_metadata(page)
    assert (shown["columns_read"], shown["columns_never_read_count"]) == (2, 2)
    assert shown["most_used_columns"] == 'a, "c.d"'  # names in the fqn quoting
    assert shown["least_used_columns"] == '"c.d", a'
    assert shown["columns_never_read"].value == "`b`, `e`"
    assert md_rows_of(shown["column_usage"].value) == [
        ["a", "7", "7", "1", "0", "0", "0"],
        ['"c.d"', "1", "1", "1", "0", "0", "0"],
    ]


def test_past_the_table_asset_cap_nothing_is_observed(
    refreshed: Refreshed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TABLE_ASSETS.name, "10")  # the demo has 34: no table assets
    before = len(observations(refreshed, f"{A}.analytics.daily_revenue", by="usage"))
    run_id = refresh(refreshed.home, refreshed.url, refreshed.instance)
    assert len(observations(refreshed, f"{A}.analytics.daily_revenue", by="usage")) == before
    logs = [
        e.user_message
        for e in refreshed.instance.all_logs(run_id)
        if "no usage observations" in e.user_message
    ]
    assert logs == [
        f"no usage observations: 34 live tables exceed {TABLE_ASSETS.name}=10, so"
        " there are no table assets"
    ]
