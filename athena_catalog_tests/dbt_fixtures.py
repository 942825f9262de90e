"""A small lakehouse in the embedded engine, crawled into a store, and a hand-written dbt
artifact set over it in dbt-athena's shape (``"awsdatacatalog"."schema"."table"``).

The project ``shop``: sources ``raw.orders`` and ``raw.Customers`` (mixed case, as dbt-athena
users often write them), model ``stg_orders`` (table), ephemeral ``int_paid``, model
``customer_revenue`` (table, through ``int_paid``), and ``ghost`` (a model whose table was never
built). Tests: unique (pass), not_null with severity warn (warn), accepted_values (fail), a
source not_null (pass), a singular test (error) and one skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.demo import build_demo
from athena_catalog.demo.dbt_run import DbtDemoSummary, dbt_python, run_dbt_demo
from athena_catalog.engines.local import LocalEngine

LAKEHOUSE = [
    "CREATE DATABASE IF NOT EXISTS raw LOCATION 's3://shop-raw/'",
    "CREATE DATABASE IF NOT EXISTS staging",
    "CREATE DATABASE IF NOT EXISTS marts",
    """CREATE EXTERNAL TABLE raw.orders (order_id bigint, customer_id bigint, amount double,
  status string) STORED AS PARQUET LOCATION 's3://shop-raw/orders/'""",
    """CREATE EXTERNAL TABLE raw.customers (customer_id bigint COMMENT 'CRM key', name string)
  STORED AS PARQUET LOCATION 's3://shop-raw/customers/'""",
    "INSERT INTO raw.orders VALUES (1, 10, 5.0, 'paid'), (2, 11, 7.5, 'cancelled')",
    "INSERT INTO raw.customers VALUES (10, 'Ana'), (11, 'Bo')",
    """CREATE TABLE staging.stg_orders AS
SELECT order_id, customer_id, amount FROM raw.orders WHERE status <> 'cancelled'""",
    """CREATE TABLE marts.customer_revenue AS
SELECT c.customer_id, c.name, sum(o.amount) AS revenue
FROM staging.stg_orders o JOIN raw.customers c ON o.customer_id = c.customer_id
GROUP BY 1, 2""",
]

STG_SQL = """select order_id, customer_id, amount
from "awsdatacatalog"."raw"."orders"
where status <> 'cancelled'"""
INT_SQL = """select * from "awsdatacatalog"."staging"."stg_orders" where amount > 0"""
REVENUE_SQL = """with __dbt__cte__int_paid as (
select * from "awsdatacatalog"."staging"."stg_orders" where amount > 0
)
select c.customer_id, c.name, sum(p.amount) as revenue
from __dbt__cte__int_paid p
join "awsdatacatalog"."raw"."Customers" c on p.customer_id = c.customer_id
group by 1, 2"""

GENERATED_AT = "2024-03-01T06:00:00.000000Z"
INVOCATION = "0b1e7a4c-0000-4000-8000-000000000001"


def without_dbt() -> None:
    """Skip a test that needs dbt, or fail it where dbt is required (CI sets
    ATHENA_CATALOG_REQUIRE_DBT; ``make test`` installs dbt into .venv-dbt)."""
    if os.environ.get("ATHENA_CATALOG_REQUIRE_DBT"):
        pytest.fail("dbt is required (ATHENA_CATALOG_REQUIRE_DBT) but not installed")
    pytest.skip("dbt is not installed: `make test` installs it into .venv-dbt")


def crawled_lakehouse(home: Path, url: str) -> None:
    """The lakehouse built under ``home`` and crawled by the real ``metadata`` asset."""
    engine = LocalEngine(home, read_only=False)
    try:
        for statement in LAKEHOUSE:
            engine.execute(statement)
    finally:
        engine.close()
    crawl_into(home, url)


def crawl_into(home: Path, url: str) -> None:
    """The embedded engine under ``home`` crawled into the store at ``url`` by ``metadata``."""
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=url),
    }
    assert dg.materialize([metadata], resources=resources).success


def _schema_url(kind: str, version: int) -> str:
    return f"https://schemas.getdbt.com/dbt/{kind}/v{version}.json"


def _relation(schema: str, name: str) -> str:
    return f'"awsdatacatalog"."{schema}"."{name}"'


def _model(
    name: str,
    schema: str,
    sql: str,
    depends: list[str],
    materialized: str = "table",
    **extra: Any,
) -> dict[str, Any]:
    node = {
        "database": "awsdatacatalog",
        "schema": schema,
        "name": name,
        "resource_type": "model",
        "package_name": "shop",
        "path": f"{name}.sql",
        "unique_id": f"model.shop.{name}",
        "alias": name,
        "config": {"enabled": True, "materialized": materialized, "tags": [], "meta": {}},
        "tags": [],
        "description": "",
        "columns": {},
        "meta": {},
        "relation_name": None if materialized == "ephemeral" else _relation(schema, name),
        "raw_code": f"-- {name}\n{sql}",
        "compiled_code": sql,
        "depends_on": {"macros": [], "nodes": depends},
        "language": "sql",
        "a_key_from_a_newer_dbt": {"ignored": True},
    }
    node.update(extra)
    return node


def _test(
    name: str,
    attached: str | None,
    depends: list[str],
    column: str | None = None,
    generic: str | None = None,
    severity: str = "ERROR",
) -> dict[str, Any]:
    return {
        "database": "awsdatacatalog",
        "schema": "dbt_test__audit",
        "name": name,
        "resource_type": "test",
        "package_name": "shop",
        "unique_id": f"test.shop.{name}",
        "alias": name,
        "config": {"enabled": True, "severity": severity, "materialized": "test"},
        "tags": [],
        "description": "",
        "columns": {},
        "meta": {},
        "raw_code": "{{ test }}",
        "compiled_code": f"select * from somewhere -- {name}",
        "depends_on": {"macros": [], "nodes": depends},
        "attached_node": attached,
        "column_name": column,
        "test_metadata": {"name": generic, "kwargs": {"column_name": column}} if generic else None,
    }


def manifest(version: int = 12) -> dict[str, Any]:
    orders, customers = "source.shop.raw.orders", "source.shop.raw.customers"
    stg, paid = "model.shop.stg_orders", "model.shop.int_paid"
    revenue = "model.shop.customer_revenue"
    nodes = {
        stg: _model(
            "stg_orders",
            "staging",
            STG_SQL,
            [orders],
            description="Orders without the cancelled ones",
            tags=["staging", "orders"],
            meta={"owner": "Data Platform"},
            columns={
                "order_id": {"name": "order_id", "description": "Order number", "meta": {}},
                "amount": {"name": "amount", "description": "Total, USD", "meta": {}},
            },
        ),
        paid: _model("int_paid", "staging", INT_SQL, [stg], materialized="ephemeral"),
        revenue: _model(
            "customer_revenue",
            "marts",
            REVENUE_SQL,
            [paid, customers],
            description="Revenue per customer (manifest)",
            config={
                "enabled": True,
                "materialized": "table",
                "meta": {"owner": "ana@example.com"},
            },
            meta={"dagster": {"owners": ["team:finance"]}},
            columns={"revenue": {"name": "revenue", "description": "Paid total", "meta": {}}},
        ),
        "model.shop.ghost": _model("ghost", "marts", "select 1 as x", []),
        "test.shop.unique_stg_orders_order_id": _test(
            "unique_stg_orders_order_id", stg, [stg], "order_id", "unique"
        ),
        "test.shop.not_null_customer_revenue_name": _test(
            "not_null_customer_revenue_name", revenue, [revenue], "name", "not_null", "warn"
        ),
        "test.shop.accepted_values_stg_orders_amount": _test(
            "accepted_values_stg_orders_amount", stg, [stg], "amount", "accepted_values"
        ),
        "test.shop.source_not_null_raw_orders_order_id": _test(
            "source_not_null_raw_orders_order_id", orders, [orders], "order_id", "not_null"
        ),
        "test.shop.assert_revenue_positive": _test("assert_revenue_positive", None, [revenue]),
        "test.shop.relationships_skipped": _test(
            "relationships_skipped", stg, [stg, orders], "customer_id", "relationships"
        ),
    }
    sources = {
        orders: {
            "database": "awsdatacatalog",
            "schema": "raw",
            "name": "orders",
            "identifier": "orders",
            "source_name": "raw",
            "resource_type": "source",
            "package_name": "shop",
            "unique_id": orders,
            "description": "Orders as the shop exports them",
            "columns": {},
            "meta": {},
            "tags": ["raw"],
            "config": {"enabled": True},
            "relation_name": _relation("raw", "orders"),
        },
        customers: {
            "database": "AwsDataCatalog",
            "schema": "raw",
            "name": "customers",
            "identifier": "Customers",
            "source_name": "raw",
            "resource_type": "source",
            "package_name": "shop",
            "unique_id": customers,
            "description": "",
            "columns": {},
            "meta": {},
            "tags": [],
            "config": {"enabled": True},
            "relation_name": _relation("raw", "Customers"),
        },
    }
    return {
        "metadata": {
            "dbt_schema_version": _schema_url("manifest", version),
            "dbt_version": "1.11.16" if version == 12 else "1.7.19",
            "generated_at": GENERATED_AT,
            "invocation_id": INVOCATION,
            "adapter_type": "athena",
            "project_name": "shop",
            "env": {},
        },
        "nodes": nodes,
        "sources": sources,
        "macros": {},
        "docs": {},
        "exposures": {},
        "metrics": {},
        "parent_map": {},
        "child_map": {},
    }


def catalog() -> dict[str, Any]:
    return {
        "metadata": {
            "dbt_schema_version": _schema_url("catalog", 1),
            "generated_at": GENERATED_AT,
            "invocation_id": INVOCATION,
        },
        "nodes": {
            "model.shop.customer_revenue": {
                "unique_id": "model.shop.customer_revenue",
                "metadata": {
                    "type": "table",
                    "schema": "marts",
                    "name": "customer_revenue",
                    "database": "awsdatacatalog",
                    "comment": "Revenue per customer (warehouse comment)",
                },
                "columns": {
                    "customer_id": {"type": "bigint", "index": 1, "name": "customer_id"},
                    "name": {"type": "varchar", "index": 2, "name": "name", "comment": None},
                    "revenue": {
                        "type": "double",
                        "index": 3,
                        "name": "revenue",
                        "comment": "Sum of paid orders",
                    },
                },
                "stats": {},
            }
        },
        "sources": {},
        "errors": None,
    }


def _result(test: str, status: str, **extra: Any) -> dict[str, Any]:
    result = {
        "status": status,
        "timing": [
            {
                "name": "execute",
                "started_at": "2024-03-01T05:59:58.000000Z",
                "completed_at": "2024-03-01T05:59:59.500000Z",
            }
        ],
        "thread_id": "Thread-1",
        "execution_time": 0.25,
        "adapter_response": {},
        "message": None,
        "failures": 0,
        "unique_id": f"test.shop.{test}",
        "compiled_code": f"select * from somewhere -- {test}",
    }
    result.update(extra)
    return result


def run_results(version: int = 6) -> dict[str, Any]:
    return {
        "metadata": {
            "dbt_schema_version": _schema_url("run-results", version),
            "generated_at": GENERATED_AT,
            "invocation_id": INVOCATION,
        },
        "results": [
            _result("unique_stg_orders_order_id", "pass"),
            _result("not_null_customer_revenue_name", "warn", failures=1, message="Got 1 result"),
            _result("accepted_values_stg_orders_amount", "fail", failures=2, message="Got 2"),
            _result("source_not_null_raw_orders_order_id", "pass"),
            _result(
                "assert_revenue_positive",
                "error",
                failures=None,
                message="Runtime Error: COLUMN_NOT_FOUND: revenue_usd",
            ),
            _result("relationships_skipped", "skipped", failures=None),
            {**_result("x", "success"), "unique_id": "model.shop.stg_orders"},
        ],
        "elapsed_time": 2.0,
        "args": {},
    }


def write_target(folder: Path, version: int = 12, with_results: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest(version), indent=1))
    (folder / "catalog.json").write_text(json.dumps(catalog()))
    if with_results:
        rr = 6 if version == 12 else 5
        (folder / "run_results.json").write_text(json.dumps(run_results(rr)))
    return folder


def write_invocation(target: Path, name: str, number: int, completed_at: str, **status: str) -> str:
    """Another dbt invocation's run_results file ``name`` in ``target``: the tests of
    ``run_results()`` ending at ``completed_at``, those named in ``status`` with that status
    (no failures, no message); its invocation id."""
    doc = run_results()
    invocation = f"{INVOCATION[:-1]}{number}"
    doc["metadata"].update(invocation_id=invocation, generated_at=completed_at)
    for result in doc["results"]:
        result["timing"][0]["completed_at"] = completed_at
        test = result["unique_id"].split(".")[-1]
        if test in status:
            result.update(status=status[test], failures=0, message=None)
    (target / name).write_text(json.dumps(doc))
    return invocation


_BUILT: dict[int, tuple[Path, DbtDemoSummary]] = {}  # id of the session's TempPathFactory


def built_dbt_demo(factory: pytest.TempPathFactory) -> tuple[Path, DbtDemoSummary]:
    """One demo lakehouse per test session (a single simulated day: the seed data is all dbt
    reads) with the demo's dbt project built into it by dbt-duckdb; the session fixture
    ``dbt_demo`` of each test module returns it."""
    if id(factory) not in _BUILT:
        if dbt_python() is None:
            without_dbt()
        home = factory.mktemp("dbt_demo")
        build_demo(home, days=1)
        _BUILT[id(factory)] = home, run_dbt_demo(home)
    return _BUILT[id(factory)]
