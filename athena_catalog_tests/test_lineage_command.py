"""``athena-catalog lineage``: the stored lineage as a tree, on the demo's real store (both
backends) and on hand-made graphs with cycles, shared nodes and names that need quoting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from athena_catalog.cli import main
from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
from athena_catalog_tests.conftest import backend_store_url
from athena_catalog_tests.demo_fixtures import materialized_demo

A = "awsdatacatalog"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    home = tmp_path_factory.mktemp("home")
    return materialized_demo(home, backend_store_url(request, home))


def run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["lineage", *args, "--url", url])
    out, err = capsys.readouterr()
    return code, out, err


def skeleton(out: str) -> str:
    """The tree without the edge details (counts and dates move with the demo's build day)."""
    return re.sub(r"  \[[^]]*\]", "", out).rstrip("\n")


def test_table_upstream_follows_the_demo_etl(capsys: pytest.CaptureFixture[str], demo_url: str):
    code, out, err = run(capsys, demo_url, "awsdatacatalog.analytics.daily_revenue", "--upstream")
    assert (code, err) == (0, "")
    # INSERT INTO analytics.daily_revenue SELECT ... FROM staging.stg_orders o LEFT JOIN
    # staging.stg_customers c; stg_orders from raw.orders, raw tables from their S3 locations.
    assert skeleton(out) == "\n".join(
        [
            f"{A}.analytics.daily_revenue",
            "upstream (computed from):",
            f"├── {A}.staging.stg_customers",
            f"│   └── {A}.raw.customers",
            "│       └── s3://acme-lake-raw/crm/customers/",
            f"└── {A}.staging.stg_orders",
            f"    └── {A}.raw.orders",
            "        └── s3://acme-lake-raw/shop/orders/",
        ]
    )
    # The details are the stored edge's: kind, statements, last seen.
    store = CatalogStore(demo_url)
    with store.read() as conn:
        e = lineage_table_edges.c
        count, last = conn.execute(
            select(e.query_count, e.last_seen).where(
                e.source_fqn == f"{A}.staging.stg_orders",
                e.target_fqn == f"{A}.analytics.daily_revenue",
            )
        ).one()
    store.close()
    line = next(x for x in out.splitlines() if x.startswith(f"└── {A}.staging.stg_orders"))
    assert line.endswith(f"[query, {count} statements, last seen {last.date().isoformat()}]")
    assert count >= 30  # one INSERT per simulated day


def test_column_both_ways(capsys: pytest.CaptureFixture[str], demo_url: str) -> None:
    code, out, _ = run(capsys, demo_url, "analytics.daily_revenue.revenue")
    assert code == 0
    lines = skeleton(out).splitlines()
    # CAST(sum(o.amount) ...) <- stg_orders.amount <- raw.orders.amount (INSERT ... amount)
    assert lines[:4] == [
        f"{A}.analytics.daily_revenue.revenue",
        "upstream (computed from):",
        f"└── {A}.staging.stg_orders.amount",
        f"    └── {A}.raw.orders.amount",
    ]
    # v_revenue_by_segment selects revenue; each night's UNLOAD exports it to S3.
    assert lines[4:6] == [
        "downstream (computed from it):",
        f"└── {A}.analytics.v_revenue_by_segment.revenue",
    ]
    exports = lines[6:]
    assert len(exports) == 30 and all(
        re.fullmatch(
            r"    [├└]── s3://acme-exports/finance/revenue_by_segment/dt=.*/ \(revenue\)", x
        )
        for x in exports
    )


def test_downstream_depth_cuts_and_says_so(capsys: pytest.CaptureFixture[str], demo_url: str):
    code, out, _ = run(
        capsys, demo_url, "awsdatacatalog.raw.orders", "--downstream", "--depth", "1"
    )
    assert code == 0
    # INSERT INTO raw.payments / staging.stg_orders / stg_order_items ... FROM raw.orders
    assert skeleton(out) == "\n".join(
        [
            f"{A}.raw.orders",
            "downstream (computed from it):",
            f"├── {A}.raw.payments",
            f"├── {A}.staging.stg_order_items (more beyond --depth 1)",
            f"└── {A}.staging.stg_orders (more beyond --depth 1)",
        ]
    )
    _, deeper, _ = run(
        capsys, demo_url, "awsdatacatalog.raw.orders", "--downstream", "--depth", "2"
    )
    assert f"│   └── {A}.analytics.product_performance" in skeleton(deeper)
    assert f"    ├── {A}.analytics.daily_revenue (more beyond --depth 2)" in skeleton(deeper)


def test_quoted_names_of_the_odd_names_database(capsys, demo_url: str) -> None:
    # CREATE OR REPLACE VIEW "Odd-Names"."Daily Summary" AS SELECT ...,
    #   sum(s."Amount EUR") AS "total €" FROM "Odd-Names"."select" s GROUP BY s."from"
    name = 'awsdatacatalog."Odd-Names"."Daily Summary"."total €"'
    code, out, _ = run(capsys, demo_url, name, "--upstream")
    assert code == 0
    assert skeleton(out) == "\n".join(
        [
            f"{A}.odd-names.daily summary.total €",
            "upstream (computed from):",
            f"└── {A}.odd-names.select.amount eur",
        ]
    )


def test_unknown_names_are_clear_errors(capsys: pytest.CaptureFixture[str], demo_url: str):
    code, out, err = run(capsys, demo_url, "awsdatacatalog.raw.ordrs")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: unknown table {A}.raw.ordrs: not in the catalog store")
    assert f"did you mean {A}.raw.orders" in err
    code, _, err = run(capsys, demo_url, "raw.orders.no_such_column")
    assert code == 2
    assert err.startswith(f"error: unknown column no_such_column of {A}.raw.orders (its columns: ")
    assert "order_id, customer_id" in err
    code, _, err = run(capsys, demo_url, 'raw."orders')
    assert code == 2 and "unterminated quoted part" in err
    code, _, err = run(capsys, demo_url, "orders")
    assert code == 2 and "expected [catalog.]database.table[.column]" in err


def test_bad_depth_and_missing_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["lineage", "raw.orders", "--depth", "0"])
    assert exit_.value.code == 2
    assert "--depth: must be a whole number of hops from 1, got '0'" in capsys.readouterr().err
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    code, _, err = run(capsys, missing, "raw.orders")
    assert code == 2 and err.startswith(f"error: no catalog store at {missing}")
    assert not (tmp_path / "none.db").exists()  # a read-only command creates nothing


def test_cycles_shared_nodes_and_quoting(capsys, store_url: str) -> None:
    """a -> b -> d, a -> c -> d (a diamond), d -> a (a cycle); x."a.b" needs quotes."""
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    a, b, c, d = (f'{A}.s."{n}.x"' if n == "a" else f"{A}.s.{n}" for n in "abcd")
    edges = [(a, b), (a, c), (b, d), (c, d), (d, a)]
    store = CatalogStore(store_url)
    with store.write() as conn:
        conn.execute(
            insert(lineage_table_edges),
            [
                {"source_fqn": s, "target_fqn": t, "kind": "query", "first_seen": seen}
                | {"last_seen": seen, "query_count": 2}
                for s, t in edges
            ],
        )
        conn.execute(
            insert(lineage_column_edges),
            [
                {
                    "source_table_fqn": s,
                    "source_column": "v.1",
                    "target_table_fqn": t,
                    "target_column": "v.1",
                    "kind": "view",
                    "first_seen": seen,
                    "last_seen": seen,
                    "query_count": 0,
                }
                for s, t in edges
            ],
        )
    store.close()
    code, out, _ = run(capsys, store_url, f'{A}.s."A.X"', "--downstream")
    assert code == 0
    assert out.rstrip("\n") == "\n".join(
        [
            a,
            "downstream (computed from it):",
            f"├── {b}  [query, 2 statements, last seen 2026-01-02]",
            f"│   └── {d}  [query, 2 statements, last seen 2026-01-02]",
            f"│       └── {a}  [query, 2 statements, last seen 2026-01-02] (cycle)",
            f"└── {c}  [query, 2 statements, last seen 2026-01-02]",
            f"    └── {d}  [query, 2 statements, last seen 2026-01-02] (shown above)",
        ]
    )
    # A column whose name holds a dot is quoted like an fqn part, in and out.
    code, out, _ = run(capsys, store_url, f'{A}.s.d."v.1"', "--upstream")
    assert code == 0
    assert skeleton(out) == "\n".join(
        [
            f'{A}.s.d."v.1"',
            "upstream (computed from):",
            f'├── {A}.s.b."v.1"',
            f'│   └── {a}."v.1"',
            f'│       └── {A}.s.d."v.1" (cycle)',
            f'└── {A}.s.c."v.1"',
            f'    └── {a}."v.1" (shown above)',
        ]
    )
    # Known only from lineage (no crawl yet): still a table; an absent one is not.
    code, _, err = run(capsys, store_url, f"{A}.s.e")
    assert code == 2 and "unknown table" in err
