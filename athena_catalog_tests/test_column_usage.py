"""Column-level usage end to end: a small lakehouse on the local engine (on SQLite and
PostgreSQL) and the demo, crawled, its history stored, ``table_usage`` materialized by
Dagster; which columns each read selected, filtered, joined, grouped and ordered on, resolved
through views and CTEs, per query and per day, and what the asset shows per table."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import func, select

from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.engines.local import LocalEngine
from athena_catalog.lineage import fingerprint as fingerprints
from athena_catalog.lineage import parse_lineage
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import column_usage_daily, query_columns
from athena_catalog.store.history import query_history as history_table
from athena_catalog.usage.columns import ViewColumns
from athena_catalog_tests.demo_fixtures import RUN_CONFIG, materialized_demo
from athena_catalog_tests.test_parse_pipeline import run

A, B, V, W = (f"awsdatacatalog.raw.{t}" for t in ("a", "b", "v", "w"))
FILTERED = "SELECT v FROM raw.a WHERE id > {n} ORDER BY v"
JOINED = "SELECT w, count(*) FROM raw.a JOIN raw.b ON id = bid GROUP BY w"
THROUGH_VIEW = "SELECT id FROM raw.w WHERE v > 1 ORDER BY id"
CTE = "WITH x AS (SELECT id AS k, dt FROM raw.a) SELECT k FROM x WHERE dt = '2024-01-01'"
STATEMENTS = [
    "CREATE EXTERNAL TABLE raw.a (id bigint, v int, dt string, unused_a int)"
    " STORED AS PARQUET LOCATION 's3://l/a/'",
    "CREATE EXTERNAL TABLE raw.b (bid bigint, w int, unused_b string)"
    " STORED AS PARQUET LOCATION 's3://l/b/'",
    "CREATE VIEW raw.v AS SELECT id, v FROM raw.a WHERE dt > '2024-01-01'",
    "CREATE VIEW raw.w AS SELECT id, v FROM raw.v",  # a view over a view
    *(FILTERED.format(n=n) for n in range(3)),
    JOINED,
    THROUGH_VIEW,
    CTE,
    "SELECT x FROM raw.nowhere",  # fails: no columns
    "SHOW TABLES IN raw",
]
SEL, FIL, JOIN, GRP, ORD = "selected", "filtered", "joined", "grouped", "ordered"


def roles(*flags: str) -> dict[str, bool]:
    return {flag: flag in flags for flag in (SEL, FIL, JOIN, GRP, ORD)}


@pytest.fixture
def lake(store_url: str, tmp_path: Path) -> dict[str, Any]:
    engine = LocalEngine(tmp_path, read_only=False)
    engine.execute("CREATE DATABASE raw")
    for sql in STATEMENTS:
        with contextlib.suppress(Exception):  # the failing statement is recorded as FAILED
            engine.execute(sql, database="raw")
    engine.close()
    lake = {"home": tmp_path, "url": store_url}
    run(lake, [metadata, query_history, table_usage])
    return lake


def stored(url: str) -> dict[str, Any]:
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            h = history_table.c
            text = dict(conn.execute(select(h.query_id, h.query)).all())
            versions = {r for (r,) in conn.execute(select(h.parser_version).distinct())}
            columns: dict[str, dict[tuple[str, str], dict[str, bool]]] = {}
            for r in conn.execute(select(query_columns)):
                flags = {f: bool(getattr(r, f)) for f in (SEL, FIL, JOIN, GRP, ORD)}
                columns.setdefault(text[r.query_id], {})[(r.table_fqn, r.column_name)] = flags
            daily = {
                (r.table_fqn, r.column_name): r._mapping
                for r in conn.execute(
                    select(
                        column_usage_daily.c.table_fqn,
                        column_usage_daily.c.column_name,
                        *(
                            func.sum(column_usage_daily.c[c]).label(c)
                            for c in (
                                "select_count",
                                "filter_count",
                                "join_count",
                                "group_by_count",
                                "order_by_count",
                                "queries",
                            )
                        ),
                    ).group_by(column_usage_daily.c.table_fqn, column_usage_daily.c.column_name)
                )
            }
            days = {d for (d,) in conn.execute(select(column_usage_daily.c.day).distinct())}
        return {"columns": columns, "daily": daily, "versions": versions, "days": days}
    finally:
        store.close()


def test_each_read_records_its_columns_and_roles_through_views_and_ctes(lake: dict) -> None:
    columns = stored(lake["url"])["columns"]
    for n in range(3):
        assert columns[FILTERED.format(n=n)] == {
            (A, "v"): roles(SEL, ORD),
            (A, "id"): roles(FIL),
        }
    assert columns[JOINED] == {
        (B, "w"): roles(SEL, GRP),
        (A, "id"): roles(JOIN),
        (B, "bid"): roles(JOIN),
    }
    # Through raw.w over raw.v over raw.a: the view columns the query named and the base
    # columns they come from, with the query's roles; raw.v's WHERE runs with every read.
    assert columns[THROUGH_VIEW] == {
        (W, "id"): roles(SEL, ORD),
        (W, "v"): roles(FIL),
        (V, "id"): roles(SEL, ORD),
        (V, "v"): roles(FIL),
        (A, "id"): roles(SEL, ORD),
        (A, "v"): roles(FIL),
        (A, "dt"): roles(FIL),
    }
    assert columns[CTE] == {(A, "id"): roles(SEL), (A, "dt"): roles(FIL)}
    # Failed, utility and view-defining statements read no columns.
    assert not {q for q in columns if q.startswith(("CREATE", "SHOW", "SELECT x"))}


def test_daily_counts_and_the_asset_show_most_least_and_never_read_columns(lake: dict) -> None:
    s = stored(lake["url"])
    assert len(s["days"]) == 1 and all(isinstance(d, date) for d in s["days"])
    counts = {k: tuple(int(v) for v in list(row.values())[2:]) for k, row in s["daily"].items()}
    # (select, filter, join, group by, order by, queries)
    assert counts[(A, "id")] == (2, 3, 1, 0, 1, 6)
    assert counts[(A, "v")] == (3, 1, 0, 0, 3, 4)
    assert counts[(A, "dt")] == (0, 2, 0, 0, 0, 2)
    assert counts[(B, "w")] == (1, 0, 0, 1, 0, 1)
    assert counts[(B, "bid")] == (0, 0, 1, 0, 0, 1)
    assert (A, "unused_a") not in counts and (B, "unused_b") not in counts
    result = run(lake, [table_usage])
    meta = result.asset_materializations_for_node("table_usage")[0].metadata
    shown = meta["column_usage"].value
    assert f"| {A} | id (6), v (4), dt (2) | - | unused_a |" in shown
    assert f"| {B} | bid (1), w (1) | - | unused_b |" in shown
    assert meta["columns_never_read"].value == 2


def test_a_new_parser_version_re_resolves_column_usage_to_the_same_figures(
    lake: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored(lake["url"])
    monkeypatch.setattr(fingerprints, "PARSER_VERSION", "next")
    run(lake, [table_usage])
    after = stored(lake["url"])
    assert after["versions"] == {"next"}
    assert after["columns"] == before["columns"]
    assert after["daily"] == before["daily"]


def test_a_view_redefined_with_the_same_columns_re_resolves_the_reads_through_it(
    lake: dict,
) -> None:
    """raw.v keeps its columns but filters on another base column: the read through raw.w
    (over raw.v) is resolved again, and its filter moves from raw.a.dt to raw.a.unused_a."""
    engine = LocalEngine(lake["home"], read_only=False)
    engine.execute(
        "CREATE OR REPLACE VIEW raw.v AS SELECT id, v FROM raw.a WHERE unused_a > 0",
        database="raw",
    )
    engine.close()
    run(lake, [metadata, query_history, table_usage])
    through = stored(lake["url"])["columns"][THROUGH_VIEW]
    assert through[(A, "unused_a")] == roles(FIL)
    assert (A, "dt") not in through
    assert through[(A, "id")] == roles(SEL, ORD)


def test_views_resolve_transitively_and_a_view_through_itself_stops() -> None:
    schema = {A: {"id": "bigint", "v": "int", "dt": "string"}}
    view = parse_lineage(
        f"CREATE VIEW {V} AS SELECT id, v + 1 AS v1 FROM {A} WHERE dt > '1'", "c", "d", schema
    )
    loop = parse_lineage(f"CREATE VIEW {W} AS SELECT id FROM {W} GROUP BY id", "c", "d")
    views = ViewColumns({V: view, W: loop})
    read = parse_lineage(f"SELECT v1 FROM {V} ORDER BY v1", "c", "d")
    assert views.expand(read.roles) == {
        (V, "v1"): {"select", "order"},
        (A, "v"): {"select", "order"},
        (A, "dt"): {"filter"},
    }
    looping = parse_lineage(f"SELECT id FROM {W}", "c", "d")
    assert views.expand(looping.roles) == {(W, "id"): {"select", "group"}}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("demo")
    url = materialized_demo(home)
    result = dg.materialize(
        [table_usage],
        resources={
            "athena": AthenaResource(engine="local", local_home=str(home)),
            "catalog_store": CatalogStoreResource(url=url),
        },
        run_config={"ops": {k: v for k, v in RUN_CONFIG["ops"].items() if k == "table_usage"}},
    )
    assert result.success
    return {"url": url, "meta": result.asset_materializations_for_node("table_usage")[0].metadata}


def test_the_demo_dashboards_column_usage_through_views(demo: dict) -> None:
    daily = stored(demo["url"])["daily"]
    ltv, active = (
        "awsdatacatalog.analytics.customer_ltv",
        "awsdatacatalog.analytics.v_active_customers",
    )
    accounts = "partner_lake.shared_sales.partner_accounts"
    # SELECT country, count(*) FROM v_active_customers WHERE segment = ... GROUP BY country:
    # the view's columns and, through it, customer_ltv's, with the view's own WHERE.
    for table in (active, ltv):
        assert daily[(table, "country")]["select_count"] > 0
        assert daily[(table, "country")]["group_by_count"] > 0
        assert daily[(table, "segment")]["filter_count"] > 0
    assert daily[(ltv, "last_order_ts")]["filter_count"] >= daily[(active, "country")]["queries"]
    # The partner tile joins on account_id, filters on country and groups by tier.
    assert daily[(accounts, "account_id")]["join_count"] > 0
    assert daily[(accounts, "country")]["filter_count"] > 0
    assert daily[(accounts, "tier")]["group_by_count"] > 0
    assert "**Columns by use**" in demo["meta"]["column_usage"].value
