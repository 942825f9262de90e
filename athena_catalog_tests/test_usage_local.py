"""Usage end to end on the local engine with the demo workload: Dagster materializes the
catalog, the history and the usage; the numbers are checked against counts computed here
from the raw history the engine recorded."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import insert, select

from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.demo import build_demo
from athena_catalog.engines.local import LocalEngine
from athena_catalog.lineage import LineageSchema, parse_lineage
from athena_catalog.lineage.resolve import resolve_history
from athena_catalog.lineage.result import is_s3
from athena_catalog.markers import mark
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import (
    query_history as history_table,
)
from athena_catalog.store.history import (
    query_tables,
    table_joins,
    table_top_queries,
    table_usage_daily,
    table_usage_summary,
    work_group_cost_daily,
)
from athena_catalog.store.lineage import read_schema
from athena_catalog.store.schema import catalog_tables
from athena_catalog.usage.aggregate import UsageOptions, aggregate
from athena_catalog_tests.conftest import backend_store_url

DAYS = 3
WINDOW = 120  # covers the demo's first days however long after the build the usage runs
CONFIG = {
    "ops": {
        "query_history": {"config": {"query_log_days": WINDOW, "chunk_size": 200}},
        "table_usage": {"config": {"window_days": WINDOW, "unused_days": WINDOW}},
    }
}
DBT_QUERY = (
    '/* {"app": "dbt", "dbt_version": "1.8.0", "node_id": "model.shop.products"} */\n'
    "SELECT sku FROM raw.products"
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The demo's first days, one query of our own and one of dbt's, then one usage run."""
    home = tmp_path_factory.mktemp("home")
    build_demo(home, days=DAYS)
    engine = LocalEngine(home, read_only=False)
    engine.execute(mark("SELECT count(*) FROM raw.products"), database="raw")
    engine.execute(DBT_QUERY, database="raw")
    engine.close()
    url = backend_store_url(request, home)
    result = materialize(home, url)
    assert result.success
    return {"home": home, "url": url, "result": result}


def materialize(home: Path, url: str, assets: list | None = None) -> dg.ExecuteInProcessResult:
    assets = assets or [metadata, query_history, table_usage]
    names = {a.node_def.name for a in assets}
    return dg.materialize(
        assets,
        resources={
            "athena": AthenaResource(engine="local", local_home=str(home)),
            "catalog_store": CatalogStoreResource(url=url),
        },
        run_config={"ops": {k: v for k, v in CONFIG["ops"].items() if k in names}},
        raise_on_error=False,
    )


def rows(url: str, table: Any) -> list[dict[str, Any]]:
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]
    finally:
        store.close()


def billed(state: str, statement_type: str | None, scanned: int | None) -> int:
    """Athena's rule, restated: failed and non-scanning DDL/UTILITY free; else MB-rounded,
    10 MB minimum."""
    if state == "FAILED" or (statement_type in ("DDL", "UTILITY") and not scanned):
        return 0
    mb = 1024 * 1024
    return max(10 * mb, math.ceil((scanned or 0) / mb) * mb)


def expected_usage(demo: dict[str, Any]) -> dict[tuple[str, Any], dict[str, Any]]:
    """table_usage_daily recomputed from the engine's raw history, query by query."""
    store = CatalogStore(demo["url"])
    with store.read() as conn:
        schema = LineageSchema(read_schema(conn))
    store.close()
    engine = LocalEngine(demo["home"])
    out: dict[tuple[str, Any], dict[str, Any]] = defaultdict(
        lambda: {"read_count": 0, "write_count": 0, "bytes": 0, "billed": 0, "wgs": set()}
    )
    for q in engine.query_history():
        if q.state != "SUCCEEDED" or q.statement_type == "UTILITY" or "athena-catalog" in q.query:
            continue
        result = parse_lineage(
            q.query, q.catalog or "awsdatacatalog", q.database or "default", schema
        )
        sources = () if result.statement == "view" else result.sources  # defining reads nothing
        reads = sorted({s for s in sources if not is_s3(s)})
        day = q.submitted_at.date()
        for table in reads:
            cell = out[(table, day)]
            cell["read_count"] += 1
            cell["bytes"] += (q.data_scanned_bytes or 0) // len(reads)
            cell["billed"] += billed(q.state, q.statement_type, q.data_scanned_bytes) // len(reads)
            cell["wgs"].add(q.work_group)
        if result.target and not is_s3(result.target):
            cell = out[(result.target, day)]
            cell["write_count"] += 1
            cell["wgs"].add(q.work_group)
    engine.close()
    return out


def test_history_is_stored_whole_and_tagged_by_source(demo: dict[str, Any]):
    engine = LocalEngine(demo["home"])
    raw = {q.query_id: q for q in engine.query_history()}
    engine.close()
    stored = {r["query_id"]: r for r in rows(demo["url"], history_table)}
    assert set(stored) == set(raw)
    for query_id, q in raw.items():
        row = stored[query_id]
        assert row["query"] == q.query and row["state"] == q.state
        assert (row["work_group"], row["catalog"], row["database"]) == (
            q.work_group,
            q.catalog,
            q.database,
        )
        assert row["data_scanned_bytes"] == q.data_scanned_bytes
        assert row["error_message"] == q.error_message
    sources = Counter(r["source"] for r in stored.values())
    assert sources["athena_catalog"] == 1 and sources["dbt"] == 1
    assert sources["user"] == len(raw) - 2
    md = demo["result"].asset_materializations_for_node("query_history")[0].metadata
    assert md["new_queries"].value == len(raw)


def test_rerun_fetches_nothing_new(demo: dict[str, Any]):
    result = materialize(demo["home"], demo["url"], [query_history])
    assert result.success
    md = result.asset_materializations_for_node("query_history")[0].metadata
    assert md["new_queries"].value == 0


def test_usage_per_table_and_day_matches_the_raw_history(demo: dict[str, Any]):
    expected = expected_usage(demo)
    price = 5.0 / 10**12
    actual = {(r["table_fqn"], r["day"]): r for r in rows(demo["url"], table_usage_daily)}
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got = actual[key]
        assert (got["read_count"], got["write_count"]) == (want["read_count"], want["write_count"])
        assert got["work_groups"] == len(want["wgs"]), key
        assert got["bytes_scanned"] == want["bytes"], key
        assert got["cost_usd"] == pytest.approx(want["billed"] * price), key
    # Known from the workload: three dashboard refreshes a day and the nightly UNLOAD.
    segment = "awsdatacatalog.analytics.v_revenue_by_segment"
    days = sorted(day for (table, day), r in actual.items() if table == segment and r["read_count"])
    assert len(days) == DAYS
    assert all(actual[(segment, day)]["read_count"] == 4 for day in days)
    # The project's own query read raw.products; only dbt's read of it counts.
    products = sum(
        r["read_count"] for (t, _), r in actual.items() if t == "awsdatacatalog.raw.products"
    )
    assert products == sum(
        w["read_count"] for (t, _), w in expected.items() if t == "awsdatacatalog.raw.products"
    )


def test_popularity_fingerprints_unused_and_cost(demo: dict[str, Any]):
    summary = {r["table_fqn"]: r for r in rows(demo["url"], table_usage_summary)}
    most_read = max(summary.values(), key=lambda r: r["read_count"])
    assert most_read["popularity_percentile"] == 100.0
    never_read = [r for r in summary.values() if r["read_count"] == 0]
    assert never_read and all(r["popularity_percentile"] == 0.0 for r in never_read)
    assert all(r["unused"] for r in never_read if r["last_read_at"] is None)
    # Dashboard runs differ only in literals: one fingerprint covers all of them. Each nightly
    # UNLOAD has its own (lineage keeps S3 paths, which carry the date), as has the DDL.
    top = [
        r
        for r in rows(demo["url"], table_top_queries)
        if r["table_fqn"] == "awsdatacatalog.analytics.v_revenue_by_segment"
    ]
    counts = [r["query_count"] for r in sorted(top, key=lambda r: r["rank"])]
    assert counts == [3 * DAYS] + [1] * 4  # top 5: dashboards, 3 UNLOADs, CREATE VIEW
    # Cost per work group: every query but our own, billed by Athena's rule.
    history = [r for r in rows(demo["url"], history_table) if r["source"] != "athena_catalog"]
    cost = Counter()
    queries = Counter()
    for r in history:
        queries[r["work_group"]] += 1
        cost[r["work_group"]] += billed(r["state"], r["statement_type"], r["data_scanned_bytes"])
    by_wg: Counter = Counter()
    spent: Counter = Counter()
    for r in rows(demo["url"], work_group_cost_daily):
        by_wg[r["work_group"]] += r["queries"]
        spent[r["work_group"]] += r["cost_usd"]
    assert by_wg == queries
    for wg, total in cost.items():
        assert spent[wg] == pytest.approx(total * 5.0 / 10**12)
    md = demo["result"].asset_materializations_for_node("table_usage")[0].metadata
    assert "Top tables by reads" in md["summary"].value
    assert "v_revenue_by_segment" in md["summary"].value


def expected_joins(demo: dict[str, Any]) -> Counter:
    """table_joins recomputed from the engine's raw history: per query, the column pairs its
    join conditions equate, as (left table, right table, "left = right"), counted once."""
    store = CatalogStore(demo["url"])
    with store.read() as conn:
        schema = LineageSchema(read_schema(conn))
    store.close()
    engine = LocalEngine(demo["home"])
    out: Counter = Counter()
    for q in engine.query_history():
        if q.state != "SUCCEEDED" or q.statement_type == "UTILITY" or "athena-catalog" in q.query:
            continue
        result = parse_lineage(
            q.query, q.catalog or "awsdatacatalog", q.database or "default", schema
        )
        if result.statement == "view":  # defining a view runs no join
            continue
        keys = set()
        for a, b in result.joins:
            (left, lc), (right, rc) = a.rsplit(".", 1), b.rsplit(".", 1)
            keys.add((left, right, f"{lc} = {rc}"))
        out.update(keys)
    engine.close()
    return out


def test_joins_are_join_keys_with_columns_and_counts(demo: dict[str, Any]):
    actual = {
        (r["left_fqn"], r["right_fqn"], r["columns"]): r["query_count"]
        for r in rows(demo["url"], table_joins)
    }
    assert actual == dict(expected_joins(demo))
    # Known from the workload: the partner dashboard tile, three refreshes a day; the
    # analysts' orders-by-segment query once a day; the nightly MERGE into the dimension.
    partner = "partner_lake.shared_sales"
    assert (
        actual[
            (f"{partner}.partner_accounts", f"{partner}.partner_orders", "account_id = account_id")
        ]
        == 3 * DAYS
    )
    assert (
        actual[
            (
                "awsdatacatalog.raw.orders",
                "awsdatacatalog.staging.stg_customers",
                "customer_id = customer_id",
            )
        ]
        == DAYS
    )
    assert (
        actual[
            (
                "awsdatacatalog.staging.customer_dim_ice",
                "awsdatacatalog.staging.stg_customers",
                "customer_id = customer_id",
            )
        ]
        == DAYS
    )
    assert all(columns for (_, _, columns) in actual)  # never the co-read approximation
    md = demo["result"].asset_materializations_for_node("table_usage")[0].metadata
    assert "Frequently joined" in md["summary"].value
    assert "account_id = account_id" in md["summary"].value


def test_joins_list_each_column_pair_and_skip_tables_only_read_together(tmp_path: Path):
    """One query joining on two column pairs, an implicit join, and one query reading two
    tables without joining them."""
    store = CatalogStore(f"sqlite:///{tmp_path / 'catalog.db'}")
    when = datetime(2026, 3, 2, 12, tzinfo=UTC)
    queries = {
        "two-keys": "SELECT 1 FROM sales.payments p JOIN sales.orders o"
        " ON o.order_id = p.order_id AND p.dt = o.dt AND p.amount > 0",
        "union": "SELECT order_id FROM sales.payments UNION ALL SELECT order_id FROM sales.orders",
        "implicit": "SELECT 1 FROM sales.payments p, sales.orders o WHERE p.order_id = o.order_id",
    }
    with store.write() as conn:
        conn.execute(
            insert(history_table),
            [
                {
                    "query_id": query_id,
                    "query": sql,
                    "statement_type": "DML",
                    "state": "SUCCEEDED",
                    "work_group": "primary",
                    "catalog": "AwsDataCatalog",
                    "database": "sales",
                    "submitted_at": when,
                    "day": when.date(),
                    "billed_bytes": 0,
                    "source": "user",
                }
                for query_id, sql in queries.items()
            ],
        )
    stats = resolve_history(store)
    assert stats.queries == len(queries)
    aggregate(store, UsageOptions(window_days=30, now=when + timedelta(days=1)))
    with store.read() as conn:
        joined = {
            (r.left_fqn, r.right_fqn, r.columns): r.query_count
            for r in conn.execute(select(table_joins))
        }
        reads = conn.execute(select(query_tables.c.query_id).distinct()).scalars().all()
    store.close()
    assert joined == {
        (ORDERS, PAYMENTS, "order_id = order_id"): 2,  # two-keys and implicit
        (ORDERS, PAYMENTS, "dt = dt"): 1,
    }
    assert sorted(reads) == sorted(queries)


ORDERS = "awsdatacatalog.sales.orders"
PAYMENTS = "awsdatacatalog.sales.payments"


def test_imported_history_older_than_the_cursor_is_read(demo: dict[str, Any], tmp_path: Path):
    """Runs last: it adds to the demo's history. An import can hold executions submitted
    before the newest stored one; the next run still stores them, and nothing twice."""
    stored = rows(demo["url"], history_table)
    newest = max(r["submitted_at"] for r in stored)
    lines = [
        {
            "QueryExecutionId": f"imported-{n}",
            "Query": "SELECT count(*) FROM raw.products",
            "StatementType": "DML",
            "WorkGroup": "imported",
            "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": "raw"},
            "Status": {
                "State": "SUCCEEDED",
                "SubmissionDateTime": (newest - timedelta(days=1, minutes=n)).isoformat(),
            },
            "Statistics": {"DataScannedInBytes": 1000},
        }
        for n in range(2)
    ]
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    engine = LocalEngine(demo["home"], read_only=False)
    assert engine.import_history(path) == 2
    engine.close()
    result = materialize(demo["home"], demo["url"], [query_history])
    assert result.success
    md = result.asset_materializations_for_node("query_history")[0].metadata
    assert md["new_queries"].value == 2
    after = {r["query_id"] for r in rows(demo["url"], history_table)}
    assert after == {r["query_id"] for r in stored} | {"imported-0", "imported-1"}


def reads_since(url: str, start: Any) -> Counter:
    """Reads per table of every stored query (ours excepted) submitted on ``start`` or later."""
    history = {r["query_id"]: r for r in rows(url, history_table)}
    return Counter(
        t["table_fqn"]
        for t in rows(url, query_tables)
        if t["role"] == "read"
        and history[t["query_id"]]["day"] >= start
        and history[t["query_id"]]["source"] != "athena_catalog"
    )


def check_usage(url: str, summary: Any, window_days: int) -> Counter:
    """The stored summary against the history in the window it was computed for, as of its
    ``computed_at``: reads match, and no table is both unused and read, or unused and top."""
    stored = rows(url, table_usage_summary)
    as_of = {r["computed_at"] for r in stored}
    assert len(as_of) == 1
    start = (as_of.pop().replace(tzinfo=UTC) - timedelta(days=window_days)).date()
    expected = reads_since(url, start)
    assert {r["table_fqn"]: r["read_count"] for r in stored if r["read_count"]} == expected
    live = {r["fqn"] for r in rows(url, catalog_tables) if not r["deleted"]}
    unused = {r["table_fqn"] for r in stored if r["unused"]}
    assert not {r["table_fqn"] for r in stored if r["unused"] and r["read_count"]}
    assert unused <= {r["table_fqn"] for r in stored if r["table_fqn"] in live}
    assert unused.isdisjoint(r["table_fqn"] for r in summary.top_tables + summary.top_cost)
    assert all(r["read_count"] > 0 for r in summary.top_tables)
    return expected


def test_default_usage_on_a_later_day_still_shows_the_demo(tmp_path: Path):
    """The demo's dates follow its build: built ten days ago and read today with the default
    config, table_usage shows the reads, cost and joins its window covers; read on any later
    day (an injected clock), a table is never both unused and read or listed among the top."""
    built = build_demo(tmp_path, anchor=datetime.now(UTC) - timedelta(days=10))
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = dg.materialize(
        [metadata, query_history, table_usage],
        resources={
            "athena": AthenaResource(engine="local", local_home=str(tmp_path)),
            "catalog_store": CatalogStoreResource(url=url),
        },
        # The first history read covers the build; table_usage runs with its defaults.
        run_config={"ops": {"query_history": {"config": {"query_log_days": 60}}}},
    )
    assert result.success
    md = result.asset_materializations_for_node("table_usage")[0].metadata
    assert md["queries_in_window"].value > 500 and md["cost_usd"].value > 0
    assert md["unused_tables"].value < md["tables"].value
    assert "Frequently joined" in md["summary"].value
    store = CatalogStore(url)
    try:
        cases = [  # (days after the build, window_days, unused_days)
            (0, 30, 30),  # the build day: the whole workload
            (10, 30, 30),  # today
            (29, 30, 30),  # only the last simulated day is left in the window
            (40, 60, 30),  # a window longer than unused_days: read tables are not unused
            (45, 30, 30),  # the window is past the workload: nothing read, no top tables
        ]
        for days_after, window_days, unused_days in cases:
            options = UsageOptions(
                window_days=window_days,
                unused_days=unused_days,
                now=built.anchor + timedelta(days=days_after, hours=9),
            )
            summary = aggregate(store, options)
            reads = check_usage(url, summary, window_days)
            assert bool(reads) == (days_after < 31 or window_days > days_after), days_after
            assert bool(summary.top_tables) == bool(reads)
    finally:
        store.close()


def test_unparsed_queries_are_named_with_their_reason(tmp_path: Path):
    """A query the parser cannot read is named, with its reason, in the log and the
    metadata, with where to find all of them."""
    engine = LocalEngine(tmp_path, read_only=False)
    engine.execute("CREATE DATABASE raw")
    engine.close()
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    store = CatalogStore(url)
    with store.write() as conn:  # a stored query the parser cannot read
        conn.execute(
            insert(history_table),
            [
                {
                    "query_id": "q-unparsable",
                    "query": "SELECT a FROM raw.t WHERE (",
                    "statement_type": "DML",
                    "state": "SUCCEEDED",
                    "work_group": "primary",
                    "database": "raw",
                    "submitted_at": datetime.now(UTC),
                    "day": datetime.now(UTC).date(),
                    "source": "user",
                }
            ],
        )
    store.close()
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [metadata, query_history, table_usage],
        resources={
            "athena": AthenaResource(engine="local", local_home=str(tmp_path)),
            "catalog_store": CatalogStoreResource(url=url),
        },
        instance=instance,
    )
    assert result.success
    md = result.asset_materializations_for_node("table_usage")[0].metadata
    assert md["parse_errors"].value == 1
    assert "| q-unparsable | parse error" in md["unparsed_queries"].value
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    message = next(m for m in messages if "could not be parsed" in m)
    assert message.startswith("1 query could not be parsed, the first q-unparsable: parse error")
    assert "unparsed_queries" in message and "lineage_statements" in message
