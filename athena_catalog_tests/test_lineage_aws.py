"""Lineage on the aws engine: Glue tables and a Presto view on moto's server, crawled by
``metadata``; statements sent with StartQueryExecution, read back by ``query_history``; then
``lineage`` from both, all through real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import dagster as dg

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history
from athena_catalog.markers import mark
from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges, read_edges
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.glue_seed import presto_view_text

DB = "sales"
T = f"awsdatacatalog.{DB}"
TABLES = {
    "orders": [("order_id", "bigint"), ("customer_id", "bigint"), ("amount", "decimal(12,2)")],
    "customers": [("customer_id", "bigint"), ("segment", "string"), ("email", "string")],
    "order_summary": [("order_id", "bigint"), ("segment", "string"), ("amount", "decimal(12,2)")],
}
VIEW_SQL = f"SELECT order_id, amount * 2 AS doubled FROM {DB}.orders WHERE amount > 100"
STATEMENTS = [
    # INSERT ... SELECT: positional onto order_summary's columns.
    "INSERT INTO order_summary SELECT o.order_id, c.segment, o.amount "
    "FROM orders o JOIN customers c ON c.customer_id = o.customer_id",
    # CTAS into a table the crawl has not seen yet, reading the view.
    "CREATE TABLE big_orders AS SELECT order_id, doubled FROM v_big_orders",
    "UNLOAD (SELECT segment FROM customers) TO 's3://exports/segments/' WITH (format='PARQUET')",
    "SELECT count(*) FROM orders",  # a read: no lineage
    mark("INSERT INTO order_summary SELECT order_id, email, 0 FROM customers"),  # our own query
]


def seed(glue: Any) -> None:
    glue.create_database(DatabaseInput={"Name": DB})
    for name, columns in TABLES.items():
        glue.create_table(
            DatabaseName=DB,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in columns],
                    "Location": f"s3://lake/{DB}/{name}/",
                },
            },
        )
    glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "v_big_orders",
            "TableType": "VIRTUAL_VIEW",
            "Parameters": {"presto_view": "true"},
            "ViewOriginalText": presto_view_text(
                VIEW_SQL, DB, [("order_id", "bigint"), ("doubled", "decimal(12,2)")]
            ),
            "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "order_id", "Type": "bigint"},
                    {"Name": "doubled", "Type": "decimal(12,2)"},
                ]
            },
        },
    )


def test_lineage_from_history_and_a_presto_view(moto_endpoint: str, tmp_path: Path) -> None:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=FAKE_REGION, endpoint_url=moto_endpoint)

    seed(client("glue"))
    athena = client("athena")
    for sql in STATEMENTS:
        athena.start_query_execution(
            QueryString=sql,
            WorkGroup="primary",
            QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": DB},
        )
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    resources = {
        "athena": AthenaResource(
            engine="aws", region_name=FAKE_REGION, endpoint_url=moto_endpoint, max_attempts=1
        ),
        "catalog_store": CatalogStoreResource(url=url),
    }
    result = dg.materialize([metadata, query_history, lineage], resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("lineage")[0].metadata
    assert meta["statements_analysed"].value == 4  # the marked statement is not
    assert meta["statements_with_lineage"].value == 3
    assert meta["views"].value == 1 and meta["views_not_analysed"].value == {}

    store = CatalogStore(url)
    try:
        with store.read() as conn:
            tables, columns = (
                read_edges(conn, lineage_table_edges),
                read_edges(conn, lineage_column_edges),
            )
    finally:
        store.close()
    assert set(tables) == {
        (f"{T}.orders", f"{T}.order_summary", "query"),
        (f"{T}.customers", f"{T}.order_summary", "query"),
        (f"{T}.v_big_orders", f"{T}.big_orders", "query"),
        (f"{T}.customers", "s3://exports/segments/", "s3"),
        (f"{T}.orders", f"{T}.v_big_orders", "view"),  # from the decoded Presto view SQL
    }
    assert tables[(f"{T}.orders", f"{T}.order_summary", "query")].query_count == 1
    assert set(columns) == {
        (f"{T}.orders", "order_id", f"{T}.order_summary", "order_id", "query"),
        (f"{T}.customers", "segment", f"{T}.order_summary", "segment", "query"),
        (f"{T}.orders", "amount", f"{T}.order_summary", "amount", "query"),
        (f"{T}.v_big_orders", "order_id", f"{T}.big_orders", "order_id", "query"),
        (f"{T}.v_big_orders", "doubled", f"{T}.big_orders", "doubled", "query"),
        (f"{T}.customers", "segment", "s3://exports/segments/", "segment", "s3"),
        (f"{T}.orders", "order_id", f"{T}.v_big_orders", "order_id", "view"),
        (f"{T}.orders", "amount", f"{T}.v_big_orders", "doubled", "view"),
    }
